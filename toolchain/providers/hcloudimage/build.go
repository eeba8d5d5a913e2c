package hcloudimage

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"golang.org/x/crypto/ssh"
)

// build makes the snapshot and returns its ID. Whatever happens after the key or the server
// exists, both are deleted before it returns (their deletion errors are reported with the
// build's own).
func build(ctx context.Context, client *hcloud.Client, in TalosSnapshotArgs, log func(string)) (id int64, err error) {
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return 0, err
	}
	signer, err := ssh.NewSignerFromKey(private)
	if err != nil {
		return 0, err
	}
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		return 0, err
	}
	name := fmt.Sprintf("%s-%s", in.Name, hex.EncodeToString(suffix))

	key, _, err := client.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: name, PublicKey: string(ssh.MarshalAuthorizedKey(signer.PublicKey())), Labels: in.Labels})
	if err != nil {
		return 0, fmt.Errorf("create of the SSH key %s: %w", name, err)
	}
	defer func() {
		// The context may be the one that ran out: the clean-up gets its own.
		cleanup, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, derr := client.SSHKey.Delete(cleanup, key); derr != nil && !hcloud.IsError(derr, hcloud.ErrorCodeNotFound) {
			err = errors.Join(err, fmt.Errorf("delete of the SSH key %s: %w", name, derr))
		}
	}()

	log(fmt.Sprintf("creating build server %s (%s in %s)", name, in.ServerType, in.Location))
	created, _, err := client.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name:             name,
		ServerType:       &hcloud.ServerType{Name: in.ServerType},
		Image:            &hcloud.Image{Name: orString(in.BaseImage, DefaultBaseImage)},
		Location:         &hcloud.Location{Name: in.Location},
		SSHKeys:          []*hcloud.SSHKey{key},
		StartAfterCreate: hcloud.Ptr(false),
		Labels:           in.Labels,
	})
	if err != nil {
		return 0, fmt.Errorf("create of the build server %s: %w", name, err)
	}
	server := created.Server
	defer func() {
		cleanup, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		res, _, derr := client.Server.DeleteWithResult(cleanup, server)
		if derr == nil {
			derr = client.Action.WaitFor(cleanup, res.Action)
		}
		if derr != nil && !hcloud.IsError(derr, hcloud.ErrorCodeNotFound) {
			err = errors.Join(err, fmt.Errorf("delete of the build server %s (id %d): %w", name, server.ID, derr))
		}
	}()
	if err := client.Action.WaitFor(ctx, append([]*hcloud.Action{created.Action}, created.NextActions...)...); err != nil {
		return 0, fmt.Errorf("build server %s: %w", name, err)
	}

	rescue, _, err := client.Server.EnableRescue(ctx, server, hcloud.ServerEnableRescueOpts{Type: hcloud.ServerRescueTypeLinux64, SSHKeys: []*hcloud.SSHKey{key}})
	if err == nil {
		err = client.Action.WaitFor(ctx, rescue.Action)
	}
	if err != nil {
		return 0, fmt.Errorf("rescue system of %s: %w", name, err)
	}
	on, _, err := client.Server.Poweron(ctx, server)
	if err == nil {
		err = client.Action.WaitFor(ctx, on)
	}
	if err != nil {
		return 0, fmt.Errorf("power on of %s: %w", name, err)
	}
	if server.PublicNet.IPv4.IP == nil {
		return 0, fmt.Errorf("build server %s has no public IPv4 address to reach its rescue system", name)
	}

	host := server.PublicNet.IPv4.IP.String()
	log(fmt.Sprintf("writing %s to %s of %s", in.ImageURL, orString(in.Disk, DefaultDisk), name))
	if err := writeImage(ctx, host, orInt(in.SSHPort, DefaultSSHPort), orString(in.SSHUser, DefaultSSHUser), signer, WriteImageScript(in.ImageURL, orString(in.Disk, DefaultDisk))); err != nil {
		return 0, fmt.Errorf("rescue system of %s (%s): %w", name, host, err)
	}

	// A snapshot of a stopped server: nothing writes to the disk while it is taken.
	off, _, err := client.Server.Poweroff(ctx, server)
	if err == nil {
		err = client.Action.WaitFor(ctx, off)
	}
	if err != nil {
		return 0, fmt.Errorf("power off of %s: %w", name, err)
	}
	log(fmt.Sprintf("taking the snapshot of %s", name))
	image, _, err := client.Server.CreateImage(ctx, server, &hcloud.ServerCreateImageOpts{Type: hcloud.ImageTypeSnapshot, Description: hcloud.Ptr(in.Description), Labels: in.Labels})
	if err != nil {
		return 0, fmt.Errorf("snapshot of %s: %w", name, err)
	}
	if err := client.Action.WaitFor(ctx, image.Action); err != nil {
		// The image the API already answered is not in the state: delete it, or it would stay behind.
		if _, derr := client.Image.Delete(context.WithoutCancel(ctx), image.Image); derr != nil && !hcloud.IsError(derr, hcloud.ErrorCodeNotFound) {
			err = errors.Join(err, fmt.Errorf("delete of the failed snapshot %d: %w", image.Image.ID, derr))
		}
		return 0, fmt.Errorf("snapshot of %s: %w", name, err)
	}
	return image.Image.ID, nil
}
