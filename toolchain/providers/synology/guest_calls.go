package synology

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The guest calls, with the parameters the public VMM clients send (the table in
// tests/support/fake-dsm.ts cites each): the public SYNO.Virtualization.API.Guest for create,
// set, get, list and delete; SYNO.Virtualization.API.Guest.Action for power; and the internal
// SYNO.Virtualization.Guest set, the only call any client uses to mount an ISO.

const (
	publicGuest   = "SYNO.Virtualization.API.Guest"
	guestAction   = "SYNO.Virtualization.API.Guest.Action"
	internalGuest = "SYNO.Virtualization.Guest"
	// unmounted is the value of an empty ISO slot.
	unmounted = "unmounted"
)

type vdiskInfo struct {
	ID         string `json:"vdisk_id"`
	SizeMiB    int    `json:"vdisk_size"`
	Controller int    `json:"controller"`
}

type vnicInfo struct {
	ID          string `json:"vnic_id"`
	MAC         string `json:"mac"`
	NetworkID   string `json:"network_id"`
	NetworkName string `json:"network_name"`
	Model       int    `json:"model"`
}

type guestInfo struct {
	ID          string      `json:"guest_id"`
	Name        string      `json:"guest_name"`
	Status      string      `json:"status"`
	VCPUs       int         `json:"vcpu_num"`
	MemoryMiB   int         `json:"vram_size"`
	Autorun     int         `json:"autorun"`
	Description string      `json:"description"`
	VDisks      []vdiskInfo `json:"vdisks"`
	VNics       []vnicInfo  `json:"vnics"`
}

func listGuests(ctx context.Context, c *Client) ([]guestInfo, error) {
	var list struct {
		Guests []guestInfo `json:"guests"`
	}
	err := c.Call(ctx, publicGuest, "list", nil, &list)
	return list.Guests, err
}

// findGuest is the guest with this id, or nil.
func findGuest(ctx context.Context, c *Client, id string) (*guestInfo, error) {
	guests, err := listGuests(ctx, c)
	if err != nil {
		return nil, err
	}
	for i := range guests {
		if guests[i].ID == id {
			return &guests[i], nil
		}
	}
	return nil, nil
}

// guestNamed is the guest with this name (unique in VMM), or nil.
func guestNamed(ctx context.Context, c *Client, name string) (*guestInfo, error) {
	guests, err := listGuests(ctx, c)
	if err != nil {
		return nil, err
	}
	for i := range guests {
		if guests[i].Name == name {
			return &guests[i], nil
		}
	}
	return nil, nil
}

// getGuest reads one guest with its disks and NICs (additional=true).
func getGuest(ctx context.Context, c *Client, id string) (*guestInfo, error) {
	var g guestInfo
	if err := c.Call(ctx, publicGuest, "get", url.Values{"guest_id": {id}, "additional": {"true"}}, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// createGuest starts the public create with only what it takes (name, storage, one new disk of
// diskGiB, one NIC) and returns the new guest's id: from the task, or by name when the task told
// nothing. A guest made by a task that failed is deleted again.
func createGuest(ctx context.Context, c *Client, in GuestArgs, networkID string) (string, error) {
	out, err := c.startTask(ctx, publicGuest, "create", url.Values{
		"guest_name":   {in.Name},
		"storage_name": {in.StorageName},
		"vnics":        {jsonParam([]map[string]any{{"mac": in.MAC, "network_id": networkID}})},
		// create_type 0: a new, empty disk of vdisk_size MiB.
		"vdisks": {jsonParam([]map[string]any{{"create_type": 0, "vdisk_size": in.DiskGiB * 1024}})},
	}, "guest_id")
	if err != nil {
		return "", err
	}
	if out.ID != "" {
		return out.ID, nil
	}
	g, lookErr := guestNamed(ctx, c, in.Name)
	if lookErr != nil {
		return "", fmt.Errorf("%s, and the guest list failed: %w", out.Problem, lookErr)
	}
	if out.Failed {
		if g != nil {
			_ = c.Call(ctx, publicGuest, "delete", url.Values{"guest_id": {g.ID}}, nil)
		}
		return "", fmt.Errorf("%s", out.Problem)
	}
	if g == nil {
		return "", fmt.Errorf("%s, and VMM has no guest named %s", out.Problem, in.Name)
	}
	return g.ID, nil
}

// setGuest sends the public set with the given fields only (the guest must be off for sizing).
func setGuest(ctx context.Context, c *Client, id string, fields url.Values) error {
	params := url.Values{"guest_id": {id}}
	for k, v := range fields {
		params[k] = v
	}
	return c.Call(ctx, publicGuest, "set", params, nil)
}

// settings is what the public set takes, as the guest's inputs want it.
func settings(in GuestArgs) url.Values {
	v := url.Values{
		"vcpu_num":  {strconv.Itoa(in.VCPUs)},
		"vram_size": {strconv.Itoa(in.MemoryMiB)},
		"autorun":   {strconv.Itoa(autorun(in))},
	}
	if in.Description != nil {
		v.Set("description", *in.Description)
	}
	return v
}

// changed is the part of settings(in) that differs from what DSM holds.
func changed(in GuestArgs, g *guestInfo) url.Values {
	want := settings(in)
	have := url.Values{"vcpu_num": {strconv.Itoa(g.VCPUs)}, "vram_size": {strconv.Itoa(g.MemoryMiB)}, "autorun": {strconv.Itoa(g.Autorun)}, "description": {g.Description}}
	out := url.Values{}
	for k := range want {
		if want.Get(k) != have.Get(k) {
			out.Set(k, want.Get(k))
		}
	}
	return out
}

// mountISOs puts the given image ids in the guest's two ISO slots through the internal set,
// which needs the guest's id and its (non-empty) name; slot 0 is the one the guest boots from.
func mountISOs(ctx context.Context, c *Client, g GuestArgs, id string, slot0, slot1 string) error {
	return c.Call(ctx, internalGuest, "set", url.Values{
		"guest_id":   {id},
		"guest_name": {g.Name},
		"iso_images": {jsonParam([]string{slot0, slot1})},
		"autorun":    {strconv.Itoa(autorun(g))},
	}, nil)
}

// verify compares the guest DSM holds with the inputs and names every field that differs.
func verify(in GuestArgs, g *guestInfo) error {
	var diffs []string
	add := func(field string, want, got any) {
		if fmt.Sprint(want) != fmt.Sprint(got) {
			diffs = append(diffs, fmt.Sprintf("%s is %v, not %v", field, got, want))
		}
	}
	add("vcpu_num", in.VCPUs, g.VCPUs)
	add("vram_size (MiB)", in.MemoryMiB, g.MemoryMiB)
	add("autorun", autorun(in), g.Autorun)
	if in.Description != nil {
		add("description", *in.Description, g.Description)
	}
	if len(g.VDisks) != 1 {
		diffs = append(diffs, fmt.Sprintf("it has %d virtual disks, not 1", len(g.VDisks)))
	} else {
		add("the disk's vdisk_size (MiB)", in.DiskGiB*1024, g.VDisks[0].SizeMiB)
	}
	if len(g.VNics) != 1 {
		diffs = append(diffs, fmt.Sprintf("it has %d NICs, not 1", len(g.VNics)))
	} else {
		add("the NIC's MAC", strings.ToLower(in.MAC), strings.ToLower(g.VNics[0].MAC))
		add("the NIC's network", in.NetworkName, g.VNics[0].NetworkName)
	}
	if len(diffs) > 0 {
		return fmt.Errorf("DSM holds guest %s differently from what was set: %s", in.Name, strings.Join(diffs, "; "))
	}
	return nil
}

// Seed 001's hardware, as get reports it (1 = VirtIO for both); the public API cannot set either.
const virtio = 1

// hardwareNotes says what of seed 001's hardware the guest lacks, for a warning.
func hardwareNotes(g *guestInfo) []string {
	var notes []string
	for _, d := range g.VDisks {
		if d.Controller != virtio {
			notes = append(notes, fmt.Sprintf("virtual disk %s has controller %d, not VirtIO (1)", d.ID, d.Controller))
		}
	}
	for _, n := range g.VNics {
		if n.Model != virtio {
			notes = append(notes, fmt.Sprintf("NIC %s has model %d, not VirtIO (1)", n.ID, n.Model))
		}
	}
	return notes
}

func powerOn(ctx context.Context, c *Client, id string) error {
	err := c.Call(ctx, guestAction, "poweron", url.Values{"guest_id": {id}}, nil)
	if IsCode(err, 904) { // already online
		return nil
	}
	return err
}

// shutdownWait is how long a guest is given to shut down by ACPI before it is powered off.
var shutdownWait = 2 * time.Minute

// powerOff stops the guest and waits until VMM reports it shut down: first an ACPI shutdown,
// which Talos answers with an orderly stop (etcd and kubelet stopped, disks synced), then a
// forced power-off if it is still running after shutdownWait.
func powerOff(ctx context.Context, c *Client, id string) error {
	err := c.Call(ctx, guestAction, "shutdown", url.Values{"guest_id": {id}}, nil)
	if IsCode(err, 907) { // already offline
		return nil
	}
	if err != nil {
		return err
	}
	if down, err := waitStatus(ctx, c, id, "shutdown", shutdownWait); err != nil || down {
		return err
	}
	err = c.Call(ctx, guestAction, "poweroff", url.Values{"guest_id": {id}}, nil)
	if err != nil && !IsCode(err, 907) {
		return err
	}
	if _, err := waitStatus(ctx, c, id, "shutdown", operationTimeout); err != nil {
		return err
	}
	return nil
}

// waitStatus polls the guest list until the guest has this status (or is gone), for at most wait.
func waitStatus(ctx context.Context, c *Client, id, status string, wait time.Duration) (bool, error) {
	deadline := time.Now().Add(wait)
	for {
		g, err := findGuest(ctx, c, id)
		if err != nil {
			return false, err
		}
		if g == nil || g.Status == status {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("guest %s did not reach status %s: %w", id, status, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}
