package synology

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// Guest is a VMM guest: created with one new virtual disk, one NIC with a fixed MAC on a VMM
// network and the ISO in its first drive, then powered on. vCPUs and memory change in place
// (power off, set, power on, wait for the node); every other change makes a new guest.
//
// What the published API does not expose, and so stays at VMM's defaults or needs DSM's UI:
// machine type (Q35), firmware (legacy BIOS/UEFI), disk controller (VirtIO SCSI), NIC model,
// video card and boot order (README, "Synology VMs").
type Guest struct{}

type GuestArgs struct {
	Name        string  `pulumi:"name" provider:"replaceOnChanges"`
	StorageName string  `pulumi:"storageName" provider:"replaceOnChanges"`
	NetworkName string  `pulumi:"networkName" provider:"replaceOnChanges"`
	MAC         string  `pulumi:"mac" provider:"replaceOnChanges"`
	DiskGiB     int     `pulumi:"diskGiB" provider:"replaceOnChanges"`
	VCPUs       int     `pulumi:"vcpus"`
	MemoryMiB   int     `pulumi:"memoryMiB"`
	ImageName   string  `pulumi:"imageName"`
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
	an.Describe(&a.DiskGiB, "Size of the guest's virtual disk in GiB.")
	an.Describe(&a.VCPUs, "Virtual CPUs; a change powers the guest off and on again.")
	an.Describe(&a.MemoryMiB, "Memory in MiB; a change powers the guest off and on again.")
	an.Describe(&a.ImageName, "The VMM image (ISO) mounted in the guest's first drive.")
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

type guestInfo struct {
	ID        string `json:"guest_id"`
	Name      string `json:"guest_name"`
	Status    string `json:"status"`
	VCPUs     int    `json:"vcpu_num"`
	MemoryMiB int    `json:"vram_size"`
}

func findGuest(ctx context.Context, c *Client, id string) (*guestInfo, error) {
	var list struct {
		Guests []guestInfo `json:"guests"`
	}
	if err := c.Call(ctx, "SYNO.Virtualization.API.Guest", "list", nil, &list); err != nil {
		return nil, err
	}
	for i := range list.Guests {
		if list.Guests[i].ID == id {
			return &list.Guests[i], nil
		}
	}
	return nil, nil
}

func autorun(in GuestArgs) int {
	if in.Autorun != nil {
		return *in.Autorun
	}
	return 1
}

// preflight checks what DSM can tell before anything is made: the storage exists and has room
// for the disk, the network exists.
func preflight(ctx context.Context, c *Client, in GuestArgs) (string, error) {
	var storages struct {
		Storages []struct {
			ID   string `json:"storage_id"`
			Name string `json:"storage_name"`
			Size int64  `json:"size"`
			Used int64  `json:"used"`
		} `json:"storages"`
	}
	if err := c.Call(ctx, "SYNO.Virtualization.API.Storage", "list", nil, &storages); err != nil {
		return "", err
	}
	found := false
	for _, s := range storages.Storages {
		if s.Name != in.StorageName {
			continue
		}
		found = true
		free, need := s.Size-s.Used, int64(in.DiskGiB)<<30
		if free < need {
			return "", fmt.Errorf("no space for guest %s: VMM storage %q has %.1f GiB free, its disk needs %d GiB; free space there or choose another storage (talos-cluster:synology.storage)",
				in.Name, in.StorageName, float64(free)/float64(1<<30), in.DiskGiB)
		}
	}
	if !found {
		return "", fmt.Errorf("VMM storage %q does not exist: add it in Virtual Machine Manager > Storage, or fix talos-cluster:synology.storage", in.StorageName)
	}
	var networks struct {
		Networks []struct {
			ID   string `json:"network_id"`
			Name string `json:"network_name"`
		} `json:"networks"`
	}
	if err := c.Call(ctx, "SYNO.Virtualization.API.Network", "list", nil, &networks); err != nil {
		return "", err
	}
	for _, n := range networks.Networks {
		if n.Name == in.NetworkName {
			return n.ID, nil
		}
	}
	return "", fmt.Errorf("VMM network %q does not exist: create it in Virtual Machine Manager > Network, or fix talos-cluster:synology.network", in.NetworkName)
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
	networkID, err := preflight(ctx, c, in)
	if err != nil {
		return infer.CreateResponse[GuestState]{}, fmt.Errorf("guest %s: %w", in.Name, err)
	}
	params := url.Values{
		"guest_name":   {in.Name},
		"storage_name": {in.StorageName},
		"vcpu_num":     {strconv.Itoa(in.VCPUs)},
		"vram_size":    {strconv.Itoa(in.MemoryMiB)},
		"autorun":      {strconv.Itoa(autorun(in))},
		"vnics":        {jsonParam([]map[string]any{{"mac": in.MAC, "network_id": networkID}})},
		// create_type 0: a new, empty disk of vdisk_size MB.
		"vdisks":          {jsonParam([]map[string]any{{"create_type": 0, "vdisk_size": in.DiskGiB * 1024}})},
		"iso_images":      {jsonParam([]string{in.ImageName, "unmounted"})},
		"auto_clean_task": {"true"},
	}
	if in.Description != nil {
		params.Set("description", *in.Description)
	}
	var created struct {
		TaskID string `json:"task_id"`
	}
	if err := c.Call(ctx, "SYNO.Virtualization.API.Guest", "create", params, &created); err != nil {
		return infer.CreateResponse[GuestState]{}, fmt.Errorf("guest %s: %w", in.Name, err)
	}
	var info struct {
		GuestID string `json:"guest_id"`
	}
	if err := c.waitTask(ctx, created.TaskID, &info); err != nil {
		return infer.CreateResponse[GuestState]{}, fmt.Errorf("guest %s: %w", in.Name, err)
	}
	if info.GuestID == "" {
		return infer.CreateResponse[GuestState]{}, fmt.Errorf("guest %s: DSM task %s finished without a guest_id", in.Name, created.TaskID)
	}
	state.GuestID, state.Status = info.GuestID, "shutdown"
	// From here the guest exists: any failure still records it in state (the next up retries
	// the power-on through Update, destroy deletes it).
	if err := powerOn(ctx, c, info.GuestID); err != nil {
		return infer.CreateResponse[GuestState]{ID: info.GuestID, Output: state},
			infer.ResourceInitFailedError{Reasons: []string{fmt.Sprintf("guest %s was created but did not power on: %v", in.Name, err)}}
	}
	state.Status = "running"
	return infer.CreateResponse[GuestState]{ID: info.GuestID, Output: state}, nil
}

func powerOn(ctx context.Context, c *Client, id string) error {
	err := c.Call(ctx, "SYNO.Virtualization.API.Guest.Action", "poweron", url.Values{"guest_id": {id}}, nil)
	if IsCode(err, 904) { // already online
		return nil
	}
	return err
}

// powerOff turns the guest off and waits until VMM reports it shut down.
func powerOff(ctx context.Context, c *Client, id string) error {
	err := c.Call(ctx, "SYNO.Virtualization.API.Guest.Action", "poweroff", url.Values{"guest_id": {id}}, nil)
	if err != nil && !IsCode(err, 907) { // 907: already offline
		return err
	}
	for {
		g, err := findGuest(ctx, c, id)
		if err != nil {
			return err
		}
		if g == nil || g.Status == "shutdown" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("guest %s did not shut down: %w", id, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
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

// Update sets what changed. A vCPU or memory change needs the guest off (VMM applies sizing at
// power-on), so it is powered off, set, powered on and waited for; the program orders the
// guests so that only one node is down at a time. A guest whose power-on failed is powered on.
func (*Guest) Update(ctx context.Context, req infer.UpdateRequest[GuestArgs, GuestState]) (infer.UpdateResponse[GuestState], error) {
	in, old := req.Inputs, req.State
	state := GuestState{GuestArgs: in, GuestID: old.GuestID, Status: old.Status}
	if req.DryRun {
		return infer.UpdateResponse[GuestState]{Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := infer.GetConfig[Config](ctx).client
	resize := in.VCPUs != old.VCPUs || in.MemoryMiB != old.MemoryMiB
	if resize {
		if err := powerOff(ctx, c, old.GuestID); err != nil {
			return infer.UpdateResponse[GuestState]{Output: old}, fmt.Errorf("guest %s: %w", in.Name, err)
		}
		state.Status = "shutdown"
	}
	params := url.Values{
		"guest_id":   {old.GuestID},
		"vcpu_num":   {strconv.Itoa(in.VCPUs)},
		"vram_size":  {strconv.Itoa(in.MemoryMiB)},
		"autorun":    {strconv.Itoa(autorun(in))},
		"iso_images": {jsonParam([]string{in.ImageName, "unmounted"})},
	}
	if in.Description != nil {
		params.Set("description", *in.Description)
	}
	if err := c.Call(ctx, "SYNO.Virtualization.API.Guest", "set", params, nil); err != nil {
		// Still the old sizing: keep the old inputs so the next up tries again.
		out := old
		out.Status = state.Status
		return infer.UpdateResponse[GuestState]{Output: out}, infer.ResourceInitFailedError{Reasons: []string{fmt.Sprintf("guest %s: %v", in.Name, err)}}
	}
	if resize || old.Status != "running" {
		if err := powerOn(ctx, c, old.GuestID); err != nil {
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

// Delete powers the guest off and deletes it; VMM deletes its virtual disks with it. The node
// was reset before (the Talos apply depends on the guest, so it is deleted first).
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
	if err := c.Call(ctx, "SYNO.Virtualization.API.Guest", "delete", url.Values{"guest_id": {g.ID}}, nil); err != nil {
		return infer.DeleteResponse{}, fmt.Errorf("guest %s: %w", g.Name, err)
	}
	return infer.DeleteResponse{}, nil
}

var (
	_ infer.CustomUpdate[GuestArgs, GuestState] = (*Guest)(nil)
	_ infer.CustomRead[GuestArgs, GuestState]   = (*Guest)(nil)
	_ infer.CustomDelete[GuestState]            = (*Guest)(nil)
)
