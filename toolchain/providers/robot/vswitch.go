package robot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// VSwitchServer is one server's membership of a vSwitch (POST and DELETE /vswitch/{id}/server
// with server[]; GET /vswitch/{id} lists the members with their status, "in process" until
// Robot has switched the port). Names as in community.hrobot plugins/modules/v_switch.py and
// hrobot-rs src/api/vswitch.rs.
type VSwitchServer struct{}

type VSwitchServerArgs struct {
	VSwitchID    int `pulumi:"vswitchId" provider:"replaceOnChanges"`
	ServerNumber int `pulumi:"serverNumber" provider:"replaceOnChanges"`
}

func (a *VSwitchServerArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.VSwitchID, "The vSwitch's id.")
	an.Describe(&a.ServerNumber, "The server's Robot number.")
}

type VSwitchServerState struct {
	VSwitchServerArgs
	Status string `pulumi:"status"`
}

func (v *VSwitchServer) Annotate(a infer.Annotator) {
	a.Describe(&v, "A Hetzner dedicated server's membership of a vSwitch.")
}

type vswitchAnswer struct {
	Server []struct {
		ServerNumber int    `json:"server_number"`
		Status       string `json:"status"`
	} `json:"server"`
}

// memberStatus is the server's status in the vSwitch, "" when it is no member.
func memberStatus(ctx context.Context, c *Client, id, n int) (string, error) {
	var out vswitchAnswer
	if err := c.Do(ctx, http.MethodGet, fmt.Sprintf("/vswitch/%d", id), nil, &out); err != nil {
		return "", err
	}
	for _, s := range out.Server {
		if s.ServerNumber == n {
			return s.Status, nil
		}
	}
	return "", nil
}

// change sends one membership change, waiting out a change in process, then waits until want
// holds for the server's status.
func change(ctx context.Context, c *Client, method string, in VSwitchServerArgs, want func(string) bool) (string, error) {
	what := fmt.Sprintf("vSwitch %d, server %d", in.VSwitchID, in.ServerNumber)
	form := url.Values{"server[]": {fmt.Sprint(in.ServerNumber)}}
	err := waitFor(ctx, operationTimeout, what, func() (bool, error) {
		err := c.Do(ctx, method, fmt.Sprintf("/vswitch/%d/server", in.VSwitchID), form, nil)
		if IsCode(err, "VSWITCH_IN_PROCESS") {
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return "", err
	}
	var status string
	err = waitFor(ctx, operationTimeout, what, func() (bool, error) {
		s, err := memberStatus(ctx, c, in.VSwitchID, in.ServerNumber)
		status = s
		return want(s), err
	})
	return status, err
}

func (*VSwitchServer) Create(ctx context.Context, req infer.CreateRequest[VSwitchServerArgs]) (infer.CreateResponse[VSwitchServerState], error) {
	in := req.Inputs
	id := fmt.Sprintf("%d/%d", in.VSwitchID, in.ServerNumber)
	if req.DryRun {
		return infer.CreateResponse[VSwitchServerState]{ID: id, Output: VSwitchServerState{VSwitchServerArgs: in, Status: "ready"}}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := clientOf(ctx)
	status, err := memberStatus(ctx, c, in.VSwitchID, in.ServerNumber)
	if err == nil && status != "ready" {
		if status == "" {
			status, err = change(ctx, c, http.MethodPost, in, func(s string) bool { return s != "" && s != "in process" })
		} else {
			err = waitFor(ctx, operationTimeout, id, func() (bool, error) {
				s, err := memberStatus(ctx, c, in.VSwitchID, in.ServerNumber)
				status = s
				return s != "in process", err
			})
		}
	}
	if err == nil && status != "ready" {
		err = fmt.Errorf("Robot reports the membership %q, not ready", status)
	}
	if err != nil {
		return infer.CreateResponse[VSwitchServerState]{}, fmt.Errorf("vSwitch %d, server %d: %w", in.VSwitchID, in.ServerNumber, err)
	}
	return infer.CreateResponse[VSwitchServerState]{ID: id, Output: VSwitchServerState{VSwitchServerArgs: in, Status: status}}, nil
}

func (*VSwitchServer) Delete(ctx context.Context, req infer.DeleteRequest[VSwitchServerState]) (infer.DeleteResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := clientOf(ctx)
	in := req.State.VSwitchServerArgs
	status, err := memberStatus(ctx, c, in.VSwitchID, in.ServerNumber)
	if IsCode(err, "NOT_FOUND") || (err == nil && status == "") {
		return infer.DeleteResponse{}, nil
	}
	if err == nil {
		_, err = change(ctx, c, http.MethodDelete, in, func(s string) bool { return s == "" })
	}
	if err != nil {
		return infer.DeleteResponse{}, fmt.Errorf("vSwitch %d, server %d: %w", in.VSwitchID, in.ServerNumber, err)
	}
	return infer.DeleteResponse{}, nil
}

var _ infer.CustomDelete[VSwitchServerState] = (*VSwitchServer)(nil)
