package synology

import (
	"context"
	"fmt"
	"strings"
)

// preflight checks what DSM can tell before anything is made: the storage exists and has room
// for the disk (when the disk is still to be made: newDisk), the network exists. It returns the
// network's id.
func preflight(ctx context.Context, c *Client, in GuestArgs, newDisk bool) (string, error) {
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
		if newDisk && free < need {
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

func sameMAC(a, b string) bool { return strings.EqualFold(a, b) }

func describeDisks(disks []vdiskInfo) string {
	if len(disks) == 0 {
		return "none"
	}
	parts := make([]string, len(disks))
	for i, d := range disks {
		parts[i] = fmt.Sprintf("%d MiB", d.SizeMiB)
	}
	return strings.Join(parts, ", ")
}

func describeNics(nics []vnicInfo) string {
	if len(nics) == 0 {
		return "none"
	}
	parts := make([]string, len(nics))
	for i, n := range nics {
		parts[i] = fmt.Sprintf("%s on %q", n.MAC, n.NetworkName)
	}
	return strings.Join(parts, ", ")
}

func joinDiffs(diffs []string) string { return strings.Join(diffs, "; ") }
