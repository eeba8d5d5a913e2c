package robot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// RescueReset boots a dedicated server into Hetzner's rescue system: the rescue boot
// configuration with our SSH key (POST /boot/{n}/rescue os, authorized_key), then a reset
// (POST /reset/{n} type). Robot ends the rescue configuration by itself once the server has
// booted it, so the next reboot (after the Talos image is written) boots from disk.
// Delete removes a rescue configuration still active (DELETE /boot/{n}/rescue), so the server is
// left rescue-free. Parameter and field names: community.hrobot plugins/modules/boot.py and
// reset.py, hrobot-rs src/api/boot/rescue.rs and src/api/reset.rs.
//
// Only a new server number runs it again: other changes (a new key, a new OS name) are recorded,
// never a second rescue boot, which would wipe an installed node.
type RescueReset struct{}

type RescueResetArgs struct {
	ServerNumber  int     `pulumi:"serverNumber" provider:"replaceOnChanges"`
	AuthorizedKey string  `pulumi:"authorizedKey"`
	Os            *string `pulumi:"os,optional"`
	ResetType     *string `pulumi:"resetType,optional"`
}

func (a *RescueResetArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.ServerNumber, "The server's Robot number.")
	an.Describe(&a.AuthorizedKey, "Fingerprint of the Robot SSH key the rescue system lets in (robot:index:SshKey fingerprint).")
	an.Describe(&a.Os, "The rescue system. Default: linux.")
	an.Describe(&a.ResetType, "The reset: hw (hardware reset), sw (Ctrl+Alt+Del) or power. Default: hw.")
}

type RescueResetState struct {
	RescueResetArgs
	// ServerIP is the server's main address as Robot reports it.
	ServerIP string `pulumi:"serverIp"`
	// HostKeys are the rescue system's SSH host keys as Robot reports them (may be empty).
	HostKeys []string `pulumi:"hostKeys"`
}

func (r *RescueReset) Annotate(a infer.Annotator) {
	a.Describe(&r, "Activates the rescue system of a Hetzner dedicated server with an SSH key, then resets the server into it.")
}

type rescueAnswer struct {
	Rescue struct {
		ServerIP string   `json:"server_ip"`
		Active   bool     `json:"active"`
		HostKey  []string `json:"host_key"`
	} `json:"rescue"`
}

func orDefault(v *string, d string) string {
	if v == nil || *v == "" {
		return d
	}
	return *v
}

func (*RescueReset) Create(ctx context.Context, req infer.CreateRequest[RescueResetArgs]) (infer.CreateResponse[RescueResetState], error) {
	in := req.Inputs
	id := strconv.Itoa(in.ServerNumber)
	state := RescueResetState{RescueResetArgs: in, HostKeys: []string{}}
	if req.DryRun {
		return infer.CreateResponse[RescueResetState]{ID: id, Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := clientOf(ctx)
	path := fmt.Sprintf("/boot/%d/rescue", in.ServerNumber)
	form := url.Values{"os": {orDefault(in.Os, "linux")}, "authorized_key": {in.AuthorizedKey}}
	var out rescueAnswer
	err := c.Do(ctx, http.MethodPost, path, form, &out)
	if IsCode(err, "BOOT_ALREADY_ENABLED") {
		// Active from an interrupted earlier up or by hand, perhaps with another key: ours replaces it.
		if err = c.Do(ctx, http.MethodDelete, path, nil, nil); err == nil {
			err = c.Do(ctx, http.MethodPost, path, form, &out)
		}
	}
	if err != nil {
		return infer.CreateResponse[RescueResetState]{}, fmt.Errorf("rescue system of server %d: %w", in.ServerNumber, err)
	}
	// The answer's root password is not kept: the rescue system is reached with the key only.
	state.ServerIP = out.Rescue.ServerIP
	if out.Rescue.HostKey != nil {
		state.HostKeys = out.Rescue.HostKey
	}
	reset := url.Values{"type": {orDefault(in.ResetType, "hw")}}
	if err := c.Do(ctx, http.MethodPost, fmt.Sprintf("/reset/%d", in.ServerNumber), reset, nil); err != nil {
		return infer.CreateResponse[RescueResetState]{}, fmt.Errorf("reset of server %d into the rescue system: %w", in.ServerNumber, err)
	}
	return infer.CreateResponse[RescueResetState]{ID: id, Output: state}, nil
}

// Update records the new inputs only (see the type's comment).
func (*RescueReset) Update(_ context.Context, req infer.UpdateRequest[RescueResetArgs, RescueResetState]) (infer.UpdateResponse[RescueResetState], error) {
	state := req.State
	state.RescueResetArgs = req.Inputs
	return infer.UpdateResponse[RescueResetState]{Output: state}, nil
}

// Delete leaves the server rescue-free: a rescue configuration still active is removed.
func (*RescueReset) Delete(ctx context.Context, req infer.DeleteRequest[RescueResetState]) (infer.DeleteResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := clientOf(ctx)
	n := req.State.ServerNumber
	path := fmt.Sprintf("/boot/%d/rescue", n)
	var out rescueAnswer
	err := c.Do(ctx, http.MethodGet, path, nil, &out)
	if IsCode(err, "SERVER_NOT_FOUND") {
		return infer.DeleteResponse{}, nil
	}
	if err == nil && out.Rescue.Active {
		err = c.Do(ctx, http.MethodDelete, path, nil, nil)
	}
	if err != nil {
		return infer.DeleteResponse{}, fmt.Errorf("rescue system of server %d: %w", n, err)
	}
	return infer.DeleteResponse{}, nil
}

var _ infer.CustomUpdate[RescueResetArgs, RescueResetState] = (*RescueReset)(nil)
var _ infer.CustomDelete[RescueResetState] = (*RescueReset)(nil)
