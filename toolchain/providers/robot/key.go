package robot

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// SshKey is a public key stored in Robot (POST /key name, data -> key.fingerprint; DELETE
// /key/{fingerprint}), the key the rescue system lets in (RescueReset authorizedKey).
type SshKey struct{}

type SshKeyArgs struct {
	Name      string `pulumi:"name"`
	PublicKey string `pulumi:"publicKey" provider:"replaceOnChanges"`
}

func (a *SshKeyArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Name, "The key's name in Robot.")
	an.Describe(&a.PublicKey, "The OpenSSH public key, `<type> <base64> [comment]`.")
}

type SshKeyState struct {
	SshKeyArgs
	Fingerprint string `pulumi:"fingerprint"`
}

func (k *SshKey) Annotate(a infer.Annotator) {
	a.Describe(&k, "A public SSH key stored in Hetzner Robot, for the rescue system.")
}

// fingerprint is the key's MD5 fingerprint as Robot names keys (colon-separated hex of the
// decoded key blob; community.hrobot ssh_key.py extract_fingerprint computes the same).
func fingerprint(publicKey string) (string, error) {
	fields := strings.Fields(publicKey)
	if len(fields) < 2 {
		return "", fmt.Errorf("publicKey is not an OpenSSH public key (`<type> <base64> [comment]`)")
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return "", fmt.Errorf("publicKey is not an OpenSSH public key: %v", err)
	}
	sum := md5.Sum(blob)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":"), nil
}

type keyAnswer struct {
	Key struct {
		Name        string `json:"name"`
		Fingerprint string `json:"fingerprint"`
	} `json:"key"`
}

func (*SshKey) Create(ctx context.Context, req infer.CreateRequest[SshKeyArgs]) (infer.CreateResponse[SshKeyState], error) {
	in := req.Inputs
	if req.DryRun && in.PublicKey == "" {
		// An unknown input (the key of a tls.PrivateKey not yet created) reaches a preview as "";
		// the fingerprint is computed once the key exists.
		return infer.CreateResponse[SshKeyState]{Output: SshKeyState{SshKeyArgs: in}}, nil
	}
	fp, err := fingerprint(in.PublicKey)
	if err != nil {
		return infer.CreateResponse[SshKeyState]{}, err
	}
	state := SshKeyState{SshKeyArgs: in, Fingerprint: fp}
	if req.DryRun {
		return infer.CreateResponse[SshKeyState]{ID: fp, Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := clientOf(ctx)
	// Only `<type> <base64>`: Robot stores no comment (community.hrobot sends the same two fields).
	data := strings.Join(strings.Fields(in.PublicKey)[:2], " ")
	var out keyAnswer
	err = c.Do(ctx, http.MethodPost, "/key", url.Values{"name": {in.Name}, "data": {data}}, &out)
	switch {
	case IsCode(err, "KEY_ALREADY_EXISTS"):
		// Stored by an interrupted earlier up (or by hand): the same key, adopted under our name.
		if err := c.Do(ctx, http.MethodPost, "/key/"+fp, url.Values{"name": {in.Name}}, &out); err != nil {
			return infer.CreateResponse[SshKeyState]{}, fmt.Errorf("ssh key %s: %w", in.Name, err)
		}
	case err != nil:
		return infer.CreateResponse[SshKeyState]{}, fmt.Errorf("ssh key %s: %w", in.Name, err)
	}
	if out.Key.Fingerprint != "" && out.Key.Fingerprint != fp {
		return infer.CreateResponse[SshKeyState]{}, fmt.Errorf("ssh key %s: Robot answered fingerprint %s, the key's own is %s", in.Name, out.Key.Fingerprint, fp)
	}
	return infer.CreateResponse[SshKeyState]{ID: fp, Output: state}, nil
}

// Update renames the key (POST /key/{fingerprint} name); a new public key is a replacement.
func (*SshKey) Update(ctx context.Context, req infer.UpdateRequest[SshKeyArgs, SshKeyState]) (infer.UpdateResponse[SshKeyState], error) {
	state := SshKeyState{SshKeyArgs: req.Inputs, Fingerprint: req.State.Fingerprint}
	if req.DryRun || req.Inputs.Name == req.State.Name {
		return infer.UpdateResponse[SshKeyState]{Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	if err := clientOf(ctx).Do(ctx, http.MethodPost, "/key/"+req.State.Fingerprint, url.Values{"name": {req.Inputs.Name}}, nil); err != nil {
		return infer.UpdateResponse[SshKeyState]{}, fmt.Errorf("ssh key %s: %w", req.Inputs.Name, err)
	}
	return infer.UpdateResponse[SshKeyState]{Output: state}, nil
}

// Delete removes the key; one already gone (NOT_FOUND) is fine.
func (*SshKey) Delete(ctx context.Context, req infer.DeleteRequest[SshKeyState]) (infer.DeleteResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	err := clientOf(ctx).Do(ctx, http.MethodDelete, "/key/"+req.State.Fingerprint, nil, nil)
	if err != nil && !IsCode(err, "NOT_FOUND") {
		return infer.DeleteResponse{}, fmt.Errorf("ssh key %s: %w", req.State.Name, err)
	}
	return infer.DeleteResponse{}, nil
}

var _ infer.CustomUpdate[SshKeyArgs, SshKeyState] = (*SshKey)(nil)
var _ infer.CustomDelete[SshKeyState] = (*SshKey)(nil)
