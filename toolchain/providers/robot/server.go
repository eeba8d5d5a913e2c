package robot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// ServerName gives a dedicated server its name in Robot (GET /server/{n} -> server.server_name,
// server_ip, dc; POST /server/{n} server_name, the one field Robot lets a client change; 404
// SERVER_NOT_FOUND, 400 INVALID_INPUT; community.hrobot plugins/modules/server.py). Hetzner's
// cloud controller matches a Node to its Robot server by this name
// (hcloud-cloud-controller-manager docs/explanation/robot-support.md, "Identifying the correct
// Server"), so it must be the node's name. It is also where the stack's address is checked
// against Robot's: the SSH steps dial the address, the reset goes to the number, and a mismatch
// would wipe another machine.
type ServerName struct{}

type ServerNameArgs struct {
	ServerNumber int    `pulumi:"serverNumber" provider:"replaceOnChanges"`
	Name         string `pulumi:"name"`
	// Address, when set, must be the server's main IPv4 address as Robot reports it.
	Address *string `pulumi:"address,optional"`
}

func (a *ServerNameArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.ServerNumber, "The server's Robot number.")
	an.Describe(&a.Name, "The name to give the server in Robot (the Kubernetes node name).")
	an.Describe(&a.Address, "The server's main IPv4 address as the stack knows it; refused when Robot reports another.")
}

type ServerNameState struct {
	ServerNameArgs
	// PreviousName is the name the server had before: destroy gives it back.
	PreviousName string `pulumi:"previousName"`
	ServerIP     string `pulumi:"serverIp"`
	Datacenter   string `pulumi:"datacenter"`
}

func (s *ServerName) Annotate(a infer.Annotator) {
	a.Describe(&s, "The name of a Hetzner dedicated server in Robot; checks its main address on the way.")
}

type serverAnswer struct {
	Server struct {
		ServerIP     string `json:"server_ip"`
		ServerNumber int    `json:"server_number"`
		ServerName   string `json:"server_name"`
		Dc           string `json:"dc"`
	} `json:"server"`
}

func readServer(ctx context.Context, c *Client, n int) (serverAnswer, error) {
	var out serverAnswer
	err := c.Do(ctx, http.MethodGet, fmt.Sprintf("/server/%d", n), nil, &out)
	return out, err
}

func rename(ctx context.Context, c *Client, n int, name string) (serverAnswer, error) {
	var out serverAnswer
	err := c.Do(ctx, http.MethodPost, fmt.Sprintf("/server/%d", n), url.Values{"server_name": {name}}, &out)
	return out, err
}

// checkAddress refuses a server whose main address is not the one the stack dials.
func checkAddress(in ServerNameArgs, got string) error {
	if in.Address == nil || *in.Address == "" || *in.Address == got {
		return nil
	}
	return fmt.Errorf("server %d: Robot reports its main address as %s, the stack says %s (talos-cluster:hetzner.dedicated[].address): the SSH steps would reach another machine; correct the address or the server number", in.ServerNumber, got, *in.Address)
}

func (*ServerName) Create(ctx context.Context, req infer.CreateRequest[ServerNameArgs]) (infer.CreateResponse[ServerNameState], error) {
	in := req.Inputs
	id := fmt.Sprint(in.ServerNumber)
	if req.DryRun {
		return infer.CreateResponse[ServerNameState]{ID: id, Output: ServerNameState{ServerNameArgs: in}}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := clientOf(ctx)
	before, err := readServer(ctx, c, in.ServerNumber)
	if err != nil {
		return infer.CreateResponse[ServerNameState]{}, fmt.Errorf("server %d: %w", in.ServerNumber, err)
	}
	if err := checkAddress(in, before.Server.ServerIP); err != nil {
		return infer.CreateResponse[ServerNameState]{}, err
	}
	state := ServerNameState{ServerNameArgs: in, PreviousName: before.Server.ServerName, ServerIP: before.Server.ServerIP, Datacenter: strings.ToLower(before.Server.Dc)}
	if before.Server.ServerName != in.Name {
		if _, err := rename(ctx, c, in.ServerNumber, in.Name); err != nil {
			return infer.CreateResponse[ServerNameState]{}, fmt.Errorf("name of server %d: %w", in.ServerNumber, err)
		}
	}
	return infer.CreateResponse[ServerNameState]{ID: id, Output: state}, nil
}

// Update renames the server; a new address is checked again.
func (*ServerName) Update(ctx context.Context, req infer.UpdateRequest[ServerNameArgs, ServerNameState]) (infer.UpdateResponse[ServerNameState], error) {
	state := req.State
	state.ServerNameArgs = req.Inputs
	if req.DryRun {
		return infer.UpdateResponse[ServerNameState]{Output: state}, nil
	}
	if err := checkAddress(req.Inputs, req.State.ServerIP); err != nil {
		return infer.UpdateResponse[ServerNameState]{}, err
	}
	if req.Inputs.Name == req.State.Name {
		return infer.UpdateResponse[ServerNameState]{Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	if _, err := rename(ctx, clientOf(ctx), req.Inputs.ServerNumber, req.Inputs.Name); err != nil {
		return infer.UpdateResponse[ServerNameState]{}, fmt.Errorf("name of server %d: %w", req.Inputs.ServerNumber, err)
	}
	return infer.UpdateResponse[ServerNameState]{Output: state}, nil
}

// Delete gives the server its previous name back (when it had one), unless someone renamed it
// since; a server
// gone from the account (SERVER_NOT_FOUND) is fine.
func (*ServerName) Delete(ctx context.Context, req infer.DeleteRequest[ServerNameState]) (infer.DeleteResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := clientOf(ctx)
	n := req.State.ServerNumber
	now, err := readServer(ctx, c, n)
	if IsCode(err, "SERVER_NOT_FOUND") {
		return infer.DeleteResponse{}, nil
	}
	// An empty previous name is not sent back: Robot's documentation lists server_name as the
	// parameter to change, not a way to clear it.
	if err == nil && now.Server.ServerName == req.State.Name && req.State.PreviousName != req.State.Name && req.State.PreviousName != "" {
		_, err = rename(ctx, c, n, req.State.PreviousName)
	}
	if err != nil {
		return infer.DeleteResponse{}, fmt.Errorf("name of server %d: %w", n, err)
	}
	return infer.DeleteResponse{}, nil
}

var _ infer.CustomUpdate[ServerNameArgs, ServerNameState] = (*ServerName)(nil)
var _ infer.CustomDelete[ServerNameState] = (*ServerName)(nil)
