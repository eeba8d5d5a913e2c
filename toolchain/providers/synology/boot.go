package synology

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// BootFromDisk ends a guest's ISO boot once its node is installed: both ISO slots are emptied
// through the internal SYNO.Virtualization.Guest set (the call the public clients mount ISOs
// with), so the next real boot of the guest comes from its virtual disk. No client of the API
// sets a boot order, so an empty CD drive is how the disk becomes the boot device.
//
// Why it matters: a Talos ISO boots with talos.halt_if_installed=1 (siderolabs/talos
// pkg/imager/imager.go, since 1.8), and halts when the disk already holds Talos, so any power
// cycle with the ISO still first (a resize, the NAS restarting) would leave the node down.
// It is safe as soon as the node's config was applied: Talos runs from RAM, and installs from the
// installer image, not from the CD.
type BootFromDisk struct{}

type BootFromDiskArgs struct {
	GuestID   string `pulumi:"guestId" provider:"replaceOnChanges"`
	GuestName string `pulumi:"guestName"`
	Autorun   *int   `pulumi:"autorun,optional"`
}

func (a *BootFromDiskArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.GuestID, "The guest's id (synology:vmm:Guest guestId).")
	an.Describe(&a.GuestName, "The guest's name; the internal set needs it beside the id.")
	an.Describe(&a.Autorun, "The guest's autorun, sent again with the set. Default: 1.")
}

type BootFromDiskState struct {
	BootFromDiskArgs
}

func (b *BootFromDisk) Annotate(a infer.Annotator) {
	a.Describe(&b, "Empties a VMM guest's ISO slots once its node is installed, so it boots from its disk.")
}

func (*BootFromDisk) Create(ctx context.Context, req infer.CreateRequest[BootFromDiskArgs]) (infer.CreateResponse[BootFromDiskState], error) {
	in := req.Inputs
	state := BootFromDiskState{BootFromDiskArgs: in}
	if req.DryRun {
		return infer.CreateResponse[BootFromDiskState]{ID: in.GuestID, Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := infer.GetConfig[Config](ctx).client
	guest := GuestArgs{Name: in.GuestName, Autorun: in.Autorun}
	if err := mountISOs(ctx, c, guest, in.GuestID, unmounted, unmounted); err != nil {
		return infer.CreateResponse[BootFromDiskState]{}, fmt.Errorf("guest %s: emptying its ISO slots: %w", in.GuestName, err)
	}
	return infer.CreateResponse[BootFromDiskState]{ID: in.GuestID, Output: state}, nil
}

// Update sends the set again (a renamed or re-autorun guest): the slots stay empty.
func (b *BootFromDisk) Update(ctx context.Context, req infer.UpdateRequest[BootFromDiskArgs, BootFromDiskState]) (infer.UpdateResponse[BootFromDiskState], error) {
	out, err := b.Create(ctx, infer.CreateRequest[BootFromDiskArgs]{Name: req.ID, Inputs: req.Inputs, DryRun: req.DryRun})
	return infer.UpdateResponse[BootFromDiskState]{Output: out.Output}, err
}

var _ infer.CustomUpdate[BootFromDiskArgs, BootFromDiskState] = (*BootFromDisk)(nil)
