// Package synology is this project's `synology` resource plugin: the guests of Synology's
// Virtual Machine Manager through the DSM Web API (SYNO.API.Auth, SYNO.FileStation.Upload and
// .Delete, SYNO.Virtualization.API.*), as Synology's published API guides describe them.
//
// Why our own: no Pulumi provider for VMM exists, and the community Terraform provider is not
// served by the module proxy here (nor can it set what seed 001 asks for). It is built on
// pulumi-go-provider like toolchain/providers/command; its Node.js SDK is generated from its
// schema by toolchain/gen-nodejs-sdk (toolchain/setup.mjs).
package synology

import (
	"context"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi-go-provider/middleware/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// Version is set at build time from toolchain/versions.json.
var Version = "0.0.0-dev"

// NpmPackage is the name of the generated Node.js SDK (package.json: file:sdks/synology).
const NpmPackage = "@talos-cluster/synology"

// Provider returns the `synology` provider: synology:vmm:Image, synology:vmm:Guest and
// synology:vmm:BootFromDisk.
func Provider() p.Provider {
	return infer.Provider(infer.Options{
		Metadata: schema.Metadata{
			DisplayName: "Synology Virtual Machine Manager",
			Description: "Images and guests of Synology Virtual Machine Manager through the DSM Web API.",
			LanguageMap: map[string]any{"nodejs": map[string]any{"packageName": NpmPackage}},
		},
		Resources: []infer.InferredResource{
			infer.Resource(&Image{}),
			infer.Resource(&Guest{}),
			infer.Resource(&BootFromDisk{}),
		},
		Config:    infer.Config(&Config{}),
		ModuleMap: map[tokens.ModuleName]tokens.ModuleName{"synology": "vmm"},
	})
}

// Config is the provider's configuration: where DSM is and who logs in.
type Config struct {
	URL      string  `pulumi:"url"`
	User     string  `pulumi:"user"`
	Password string  `pulumi:"password" provider:"secret"`
	CACert   *string `pulumi:"caCert,optional"`

	client *Client
}

func (c *Config) Annotate(a infer.Annotator) {
	a.Describe(&c.URL, "DSM's address, https://<host>:<port> (5001 by default).")
	a.Describe(&c.User, "A DSM administrator account without 2-step verification.")
	a.Describe(&c.Password, "The account's password.")
	a.Describe(&c.CACert, "PEM of a CA to trust beside the system roots (a NAS with a self-signed certificate).")
}

// Configure builds the client only: nothing dials DSM until a resource needs it, so a preview
// stays offline. The session is shared by every resource of this provider process.
func (c *Config) Configure(_ context.Context) error {
	ca := ""
	if c.CACert != nil {
		ca = *c.CACert
	}
	client, err := NewClient(c.URL, c.User, c.Password, ca)
	if err != nil {
		return err
	}
	c.client = client
	register(client)
	return nil
}

// operationTimeout bounds one resource operation (upload, create, power cycle).
const operationTimeout = 20 * time.Minute

var _ infer.CustomConfigure = (*Config)(nil)
