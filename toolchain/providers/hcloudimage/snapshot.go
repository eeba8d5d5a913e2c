package hcloudimage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Defaults of the optional inputs: Hetzner's real API and rescue system.
const (
	DefaultEndpoint  = "https://api.hetzner.cloud/v1"
	DefaultSSHPort   = 22
	DefaultSSHUser   = "root"
	DefaultDisk      = "/dev/sda"
	DefaultBaseImage = "debian-12"
	DefaultTimeout   = 30 * 60
)

// BuiltOutputs are the outputs only a real build knows; a preview reports them unknown.
var BuiltOutputs = []string{"snapshotId"}

// TalosSnapshot is a Talos snapshot in a Hetzner Cloud project. Create builds it: a throwaway
// ed25519 key registered as an SSH key, a server of serverType in location created stopped
// from baseImage, the rescue system enabled with that key and the server powered on, the image
// at imageUrl (an .xz raw disk image) written to its disk over SSH, the server powered off, a
// snapshot of it made with the labels and description, then the server and the key deleted
// (also when a step fails). Delete deletes the snapshot. A new image (URL, architecture, labels,
// description) is a new snapshot, created before the old one is deleted; the other inputs only
// say how to build or reach it and change nothing in Hetzner.
type TalosSnapshot struct{}

type TalosSnapshotArgs struct {
	Token        string            `pulumi:"token" provider:"secret"`
	Endpoint     *string           `pulumi:"endpoint,optional"`
	Name         string            `pulumi:"name"`
	ImageURL     string            `pulumi:"imageUrl" provider:"replaceOnChanges"`
	Architecture string            `pulumi:"architecture" provider:"replaceOnChanges"`
	Labels       map[string]string `pulumi:"labels" provider:"replaceOnChanges"`
	Description  string            `pulumi:"description" provider:"replaceOnChanges"`
	ServerType   string            `pulumi:"serverType"`
	Location     string            `pulumi:"location"`
	BaseImage    *string           `pulumi:"baseImage,optional"`
	Disk         *string           `pulumi:"disk,optional"`
	SSHPort      *int              `pulumi:"sshPort,optional"`
	SSHUser      *string           `pulumi:"sshUser,optional"`
	PollInterval *int              `pulumi:"pollIntervalMs,optional"`
	Timeout      *int              `pulumi:"timeoutSeconds,optional"`
}

func (a *TalosSnapshotArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Token, "Hetzner Cloud API token (read & write).")
	an.Describe(&a.Endpoint, "Hetzner Cloud API endpoint. Default: "+DefaultEndpoint+".")
	an.Describe(&a.Name, "Prefix of the build server's and SSH key's names (a hostname label).")
	an.Describe(&a.ImageURL, "The raw disk image, xz-compressed: <factory>/image/<schematic>/<version>/hcloud-<arch>.raw.xz.")
	an.Describe(&a.Architecture, "amd64 or arm64; the server type must be of this architecture.")
	an.Describe(&a.Labels, "Labels of the snapshot (also put on the build server and key).")
	an.Describe(&a.Description, "Description of the snapshot.")
	an.Describe(&a.ServerType, "Server type of the build server, e.g. cpx11 (amd64) or cax11 (arm64).")
	an.Describe(&a.Location, "Location of the build server, e.g. fsn1.")
	an.Describe(&a.BaseImage, "Image the build server is created from (never booted: it starts in the rescue system). Default: "+DefaultBaseImage+".")
	an.Describe(&a.Disk, "The disk the image is written to in the rescue system. Default: "+DefaultDisk+".")
	an.Describe(&a.SSHPort, "SSH port of the rescue system. Default: 22.")
	an.Describe(&a.SSHUser, "SSH user of the rescue system. Default: root.")
	an.Describe(&a.PollInterval, "How often actions are polled, in milliseconds. Default: hcloud-go's backoff.")
	an.Describe(&a.Timeout, "Bound of the whole build, in seconds. Default: 1800.")
}

type TalosSnapshotState struct {
	TalosSnapshotArgs
	SnapshotID int `pulumi:"snapshotId"`
}

func (s *TalosSnapshot) Annotate(a infer.Annotator) {
	a.Describe(&s, "A Talos snapshot in Hetzner Cloud, built in a rescue system from the Image Factory's hcloud image.")
}

func (*TalosSnapshot) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[TalosSnapshotArgs], error) {
	in, failures, err := infer.DefaultCheck[TalosSnapshotArgs](ctx, req.NewInputs)
	if err != nil {
		return infer.CheckResponse[TalosSnapshotArgs]{Inputs: in, Failures: failures}, err
	}
	if in.Architecture != "amd64" && in.Architecture != "arm64" {
		failures = append(failures, p.CheckFailure{Property: "architecture", Reason: fmt.Sprintf("must be amd64 or arm64, not %q", in.Architecture)})
	}
	if in.SSHPort != nil && (*in.SSHPort < 1 || *in.SSHPort > 65535) {
		failures = append(failures, p.CheckFailure{Property: "sshPort", Reason: "must be a port from 1 to 65535"})
	}
	return infer.CheckResponse[TalosSnapshotArgs]{Inputs: in, Failures: failures}, nil
}

// Create builds the snapshot; a preview calls nothing.
func (*TalosSnapshot) Create(ctx context.Context, req infer.CreateRequest[TalosSnapshotArgs]) (infer.CreateResponse[TalosSnapshotState], error) {
	state := TalosSnapshotState{TalosSnapshotArgs: req.Inputs}
	if req.DryRun {
		return infer.CreateResponse[TalosSnapshotState]{Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(orInt(req.Inputs.Timeout, DefaultTimeout))*time.Second)
	defer cancel()
	id, err := build(ctx, newClient(req.Inputs), req.Inputs, func(msg string) { p.GetLogger(ctx).Info(msg) })
	if err != nil {
		return infer.CreateResponse[TalosSnapshotState]{}, fmt.Errorf("Talos snapshot %s: %w", req.Inputs.Name, err)
	}
	state.SnapshotID = int(id)
	return infer.CreateResponse[TalosSnapshotState]{ID: fmt.Sprint(id), Output: state}, nil
}

// Update keeps the snapshot: only how it is reached or built changed (token, endpoint, ...).
func (*TalosSnapshot) Update(ctx context.Context, req infer.UpdateRequest[TalosSnapshotArgs, TalosSnapshotState]) (infer.UpdateResponse[TalosSnapshotState], error) {
	return infer.UpdateResponse[TalosSnapshotState]{Output: TalosSnapshotState{TalosSnapshotArgs: req.Inputs, SnapshotID: req.State.SnapshotID}}, nil
}

// Delete deletes the snapshot; one already gone is fine.
func (*TalosSnapshot) Delete(ctx context.Context, req infer.DeleteRequest[TalosSnapshotState]) (infer.DeleteResponse, error) {
	if req.State.SnapshotID == 0 {
		return infer.DeleteResponse{}, nil
	}
	client := newClient(req.State.TalosSnapshotArgs)
	_, err := client.Image.Delete(ctx, &hcloud.Image{ID: int64(req.State.SnapshotID)})
	if err != nil && !hcloud.IsError(err, hcloud.ErrorCodeNotFound) {
		return infer.DeleteResponse{}, fmt.Errorf("delete of snapshot %d: %w", req.State.SnapshotID, err)
	}
	return infer.DeleteResponse{}, nil
}

func newClient(in TalosSnapshotArgs) *hcloud.Client {
	opts := []hcloud.ClientOption{
		hcloud.WithToken(in.Token),
		hcloud.WithEndpoint(strings.TrimSuffix(orString(in.Endpoint, DefaultEndpoint), "/")),
		hcloud.WithApplication("talos-cluster-hcloudimage", Version),
	}
	if in.PollInterval != nil {
		opts = append(opts, hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(time.Duration(*in.PollInterval) * time.Millisecond)}))
	}
	return hcloud.NewClient(opts...)
}

func orString(v *string, def string) string {
	if v == nil || *v == "" {
		return def
	}
	return *v
}

func orInt(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

var (
	_ infer.CustomCheck[TalosSnapshotArgs]                      = (*TalosSnapshot)(nil)
	_ infer.CustomUpdate[TalosSnapshotArgs, TalosSnapshotState] = (*TalosSnapshot)(nil)
	_ infer.CustomDelete[TalosSnapshotState]                    = (*TalosSnapshot)(nil)
)
