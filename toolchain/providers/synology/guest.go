package synology

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Guest is a VMM guest: made with the public create (name, storage, one new virtual disk, one NIC
// with a fixed MAC), sized with the public set before its first power-on, read back and checked
// field by field, given the Talos ISO by image id in its boot slot, then powered on. vCPUs,
// memory, autorun and description change in place (a resize shuts the guest down, sets, powers it
// on and waits for the node); the disk size cannot change (no public client can grow a virtual
// disk, and none can shrink one); every other change makes a new guest.
//
// What no client of the API can set, and so stays at VMM's defaults or needs DSM's UI: machine
// type (Q35), firmware (legacy BIOS/UEFI), disk controller and NIC model (read back and warned
// about when not VirtIO), video card (README, "Synology VMs").
type Guest struct{}

type GuestArgs struct {
	Name        string `pulumi:"name" provider:"replaceOnChanges"`
	StorageName string `pulumi:"storageName" provider:"replaceOnChanges"`
	NetworkName string `pulumi:"networkName" provider:"replaceOnChanges"`
	MAC         string `pulumi:"mac" provider:"replaceOnChanges"`
	DiskGiB     int    `pulumi:"diskGiB"`
	VCPUs       int    `pulumi:"vcpus"`
	MemoryMiB   int    `pulumi:"memoryMiB"`
	// ImageID is mounted at creation only: once the node is installed (BootFromDisk) the guest
	// needs no ISO, and a new Talos version reaches it by upgrade, not by a new ISO.
	ImageID     string  `pulumi:"imageId"`
	Autorun     *int    `pulumi:"autorun,optional"`
	Description *string `pulumi:"description,optional"`
	// ReadyAddress is not sent to DSM: after a power cycle the update waits until it accepts TCP.
	ReadyAddress *string `pulumi:"readyAddress,optional"`
	ReadyTimeout *string `pulumi:"readyTimeout,optional"`
}

func (a *GuestArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Name, "Guest name in Virtual Machine Manager.")
	an.Describe(&a.StorageName, "VMM storage holding the guest's virtual disk.")
	an.Describe(&a.NetworkName, "VMM network of the guest's NIC, e.g. Default VM Network.")
	an.Describe(&a.MAC, "The NIC's MAC address (a DHCP reservation can pin the node's address to it).")
	an.Describe(&a.DiskGiB, "Size of the guest's virtual disk in GiB; it cannot change once the guest exists.")
	an.Describe(&a.VCPUs, "Virtual CPUs; a change shuts the guest down and powers it on again.")
	an.Describe(&a.MemoryMiB, "Memory in MiB; a change shuts the guest down and powers it on again.")
	an.Describe(&a.ImageID, "The VMM image id of the ISO the new guest boots from (its first ISO slot).")
	an.Describe(&a.Autorun, "What the guest does when the NAS starts: 0 off, 1 last state, 2 on. Default: 1 (seed 001).")
	an.Describe(&a.Description, "Guest description.")
	an.Describe(&a.ReadyAddress, "host:port that answers once the guest is back after a power cycle (the node's Talos API).")
	an.Describe(&a.ReadyTimeout, "How long to wait for readyAddress, e.g. 10m. Default: 10m.")
}

type GuestState struct {
	GuestArgs
	GuestID string `pulumi:"guestId"`
	Status  string `pulumi:"status"`
}

func (g *Guest) Annotate(a infer.Annotator) {
	a.Describe(&g, "A guest (virtual machine) of Synology Virtual Machine Manager, powered on once created.")
}

func autorun(in GuestArgs) int {
	if in.Autorun != nil {
		return *in.Autorun
	}
	return 1
}

// Check refuses a change of the disk size before anything runs: VMM's API offers no way to
// grow a virtual disk in place, and a disk never shrinks.
func (*Guest) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[GuestArgs], error) {
	in, failures, err := infer.DefaultCheck[GuestArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[GuestArgs]{Inputs: in, Failures: failures}, err
	}
	if old, ok := req.OldInputs.GetOk("diskGiB"); ok && old.IsNumber() {
		was := int(old.AsNumber())
		switch {
		case in.DiskGiB < was:
			failures = append(failures, p.CheckFailure{Property: "diskGiB", Reason: fmt.Sprintf(
				"guest %s: the disk cannot shrink from %d to %d GiB: a virtual disk never shrinks; set vm.diskGiB back to %d, or replace the node (remove it from the stack, up, add it back)", in.Name, was, in.DiskGiB, was)})
		case in.DiskGiB > was:
			failures = append(failures, p.CheckFailure{Property: "diskGiB", Reason: fmt.Sprintf(
				"guest %s: the disk cannot grow from %d to %d GiB in place: no VMM API client can resize a virtual disk; set vm.diskGiB back to %d and give the node a data disk (dataDisks), or replace the node (remove it from the stack, up, add it back)", in.Name, was, in.DiskGiB, was)})
		}
	}
	return infer.CheckResponse[GuestArgs]{Inputs: in, Failures: failures}, nil
}

func (*Guest) Create(ctx context.Context, req infer.CreateRequest[GuestArgs]) (infer.CreateResponse[GuestState], error) {
	in := req.Inputs
	state := GuestState{GuestArgs: in}
	if req.DryRun {
		return infer.CreateResponse[GuestState]{ID: in.Name, Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := infer.GetConfig[Config](ctx).client
	fail := func(err error) (infer.CreateResponse[GuestState], error) {
		return infer.CreateResponse[GuestState]{}, fmt.Errorf("guest %s: %w", in.Name, err)
	}
	found, err := guestNamed(ctx, c, in.Name)
	if err != nil {
		return fail(err)
	}
	networkID, err := preflight(ctx, c, in, found == nil)
	if err != nil {
		return fail(err)
	}
	id, adopted, err := existingGuest(ctx, c, in, networkID, found)
	if err != nil {
		return fail(err)
	}
	if id == "" {
		if id, err = createGuest(ctx, c, in, networkID); err != nil {
			return fail(err)
		}
	}
	state.GuestID, state.Status = id, "shutdown"
	// From here the guest exists: any failure still records it in state, so the next up carries
	// on through Update and destroy deletes it.
	kept := func(err error) (infer.CreateResponse[GuestState], error) {
		return infer.CreateResponse[GuestState]{ID: id, Output: state},
			infer.ResourceInitFailedError{Reasons: []string{fmt.Sprintf("guest %s: %v", in.Name, err)}}
	}
	if adopted {
		p.GetLogger(ctx).Infof("guest %s: adopted the guest of that name already in VMM (id %s), left by an earlier up", in.Name, id)
	}
	if err := prepare(ctx, c, in, id); err != nil {
		return kept(err)
	}
	if err := powerOn(ctx, c, id); err != nil {
		return kept(fmt.Errorf("created but did not power on: %w", err))
	}
	state.Status = "running"
	return infer.CreateResponse[GuestState]{ID: id, Output: state}, nil
}

// prepare sizes a powered-off guest, mounts the ISO in its boot slot and reads it back.
func prepare(ctx context.Context, c *Client, in GuestArgs, id string) error {
	g, err := getGuest(ctx, c, id)
	if err != nil {
		return err
	}
	if fields := changed(in, g); len(fields) > 0 {
		if err := setGuest(ctx, c, id, fields); err != nil {
			return err
		}
	}
	if err := mountISOs(ctx, c, in, id, in.ImageID, unmounted); err != nil {
		return fmt.Errorf("mounting the Talos ISO (image %s): %w", in.ImageID, err)
	}
	if g, err = getGuest(ctx, c, id); err != nil {
		return err
	}
	if err := verify(in, g); err != nil {
		return err
	}
	for _, note := range hardwareNotes(g) {
		p.GetLogger(ctx).Warningf("guest %s: %s; seed 001 wants VirtIO: change it in Virtual Machine Manager (README, Synology VMs)", in.Name, note)
	}
	return nil
}

// existingGuest looks for a guest of this name (a create whose task was lost, or one made by
// hand): it is adopted when it is powered off and has the stack's storage-side shape (one disk
// of the size, one NIC with the MAC on the network), refused otherwise with what differs.
func existingGuest(ctx context.Context, c *Client, in GuestArgs, networkID string, found *guestInfo) (string, bool, error) {
	if found == nil {
		return "", false, nil
	}
	g, err := getGuest(ctx, c, found.ID)
	if err != nil {
		return "", false, err
	}
	var diffs []string
	if len(g.VDisks) != 1 || g.VDisks[0].SizeMiB != in.DiskGiB*1024 {
		diffs = append(diffs, fmt.Sprintf("its disks are %s, not one of %d GiB", describeDisks(g.VDisks), in.DiskGiB))
	}
	if len(g.VNics) != 1 || !sameMAC(g.VNics[0].MAC, in.MAC) || g.VNics[0].NetworkID != networkID {
		diffs = append(diffs, fmt.Sprintf("its NICs are %s, not one with MAC %s on %q", describeNics(g.VNics), in.MAC, in.NetworkName))
	}
	if g.Status != "shutdown" {
		diffs = append(diffs, fmt.Sprintf("it is %s, not shut down as a new guest is", g.Status))
	}
	if len(diffs) > 0 {
		return "", false, fmt.Errorf("VMM already has a guest named %s (id %s) that this stack did not make: %s; delete or rename it in Virtual Machine Manager, or rename the node",
			in.Name, g.ID, joinDiffs(diffs))
	}
	return g.ID, true, nil
}

// waitReady waits until address accepts a TCP connection (the node's Talos API is back).
func waitReady(ctx context.Context, in GuestArgs) error {
	if in.ReadyAddress == nil || *in.ReadyAddress == "" {
		return nil
	}
	timeout := 10 * time.Minute
	if in.ReadyTimeout != nil {
		d, err := time.ParseDuration(*in.ReadyTimeout)
		if err != nil {
			return fmt.Errorf("readyTimeout %q: %w", *in.ReadyTimeout, err)
		}
		timeout = d
	}
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", *in.ReadyAddress, 5*time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("guest %s powered on, but %s did not answer within %s: %v", in.Name, *in.ReadyAddress, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// Update sets what changed and nothing else. A vCPU or memory change needs the guest off (the
// public clients size only a powered-off guest), so it is shut down, set, read back, powered on
// and waited for; if anything fails once it is down, it is powered on again before the error is
// returned, so a failed resize never leaves a node down. The program orders the guests so that
// only one control plane is down at a time. A guest whose power-on failed is powered on.
func (*Guest) Update(ctx context.Context, req infer.UpdateRequest[GuestArgs, GuestState]) (infer.UpdateResponse[GuestState], error) {
	in, old := req.Inputs, req.State
	state := GuestState{GuestArgs: in, GuestID: old.GuestID, Status: old.Status}
	if req.DryRun {
		return infer.UpdateResponse[GuestState]{Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := infer.GetConfig[Config](ctx).client
	id := old.GuestID
	g, err := getGuest(ctx, c, id)
	if err != nil {
		return infer.UpdateResponse[GuestState]{Output: old}, fmt.Errorf("guest %s: %w", in.Name, err)
	}
	fields := changed(in, g)
	resize := fields.Has("vcpu_num") || fields.Has("vram_size")
	keepOld := func(status string, err error) (infer.UpdateResponse[GuestState], error) {
		out := old
		out.Status = status
		return infer.UpdateResponse[GuestState]{Output: out}, infer.ResourceInitFailedError{Reasons: []string{fmt.Sprintf("guest %s: %v", in.Name, err)}}
	}
	if resize && g.Status != "shutdown" {
		if err := powerOff(ctx, c, id); err != nil {
			// Still running, or stopped half-way: make sure it runs, and report.
			return keepOld(old.Status, errors.Join(err, restart(ctx, c, id)))
		}
	}
	if len(fields) > 0 {
		if err := setGuest(ctx, c, id, fields); err != nil {
			return keepOld(old.Status, errors.Join(err, restart(ctx, c, id)))
		}
		if g, err = getGuest(ctx, c, id); err == nil {
			err = verify(in, g)
		}
		if err != nil {
			return keepOld(old.Status, errors.Join(err, restart(ctx, c, id)))
		}
	}
	if resize || old.Status != "running" {
		if err := powerOn(ctx, c, id); err != nil {
			state.Status = "shutdown"
			return infer.UpdateResponse[GuestState]{Output: state}, infer.ResourceInitFailedError{Reasons: []string{fmt.Sprintf("guest %s did not power on: %v", in.Name, err)}}
		}
		state.Status = "running"
		if resize {
			if err := waitReady(ctx, in); err != nil {
				return infer.UpdateResponse[GuestState]{Output: state}, err
			}
		}
	}
	return infer.UpdateResponse[GuestState]{Output: state}, nil
}

// restart powers a guest on again after a failed step; its own failure is reported beside the first.
func restart(ctx context.Context, c *Client, id string) error {
	if err := powerOn(ctx, c, id); err != nil {
		return fmt.Errorf("and powering it on again failed too: %w", err)
	}
	return nil
}

// Read refreshes sizing and power state from DSM; a guest gone from VMM leaves the state.
func (*Guest) Read(ctx context.Context, req infer.ReadRequest[GuestArgs, GuestState]) (infer.ReadResponse[GuestArgs, GuestState], error) {
	c := infer.GetConfig[Config](ctx).client
	g, err := findGuest(ctx, c, req.ID)
	if err != nil {
		return infer.ReadResponse[GuestArgs, GuestState]{}, err
	}
	if g == nil {
		return infer.ReadResponse[GuestArgs, GuestState]{}, nil
	}
	state := req.State
	state.VCPUs, state.MemoryMiB, state.Status = g.VCPUs, g.MemoryMiB, g.Status
	return infer.ReadResponse[GuestArgs, GuestState]{ID: req.ID, Inputs: req.Inputs, State: state}, nil
}

// Delete powers the guest off and deletes it. The node was reset before (the Talos apply
// depends on the guest, so it is deleted first).
func (*Guest) Delete(ctx context.Context, req infer.DeleteRequest[GuestState]) (infer.DeleteResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := infer.GetConfig[Config](ctx).client
	g, err := findGuest(ctx, c, req.State.GuestID)
	if err != nil || g == nil {
		return infer.DeleteResponse{}, err
	}
	if g.Status != "shutdown" {
		if err := powerOff(ctx, c, g.ID); err != nil {
			return infer.DeleteResponse{}, fmt.Errorf("guest %s: %w", g.Name, err)
		}
	}
	if err := c.Call(ctx, publicGuest, "delete", map[string][]string{"guest_id": {g.ID}}, nil); err != nil {
		return infer.DeleteResponse{}, fmt.Errorf("guest %s: %w", g.Name, err)
	}
	return infer.DeleteResponse{}, nil
}

var (
	_ infer.CustomCheck[GuestArgs]              = (*Guest)(nil)
	_ infer.CustomUpdate[GuestArgs, GuestState] = (*Guest)(nil)
	_ infer.CustomRead[GuestArgs, GuestState]   = (*Guest)(nil)
	_ infer.CustomDelete[GuestState]            = (*Guest)(nil)
)
