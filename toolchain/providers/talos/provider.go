// Package talos bridges the Terraform Talos provider (siderolabs/terraform-provider-talos) into
// a Pulumi resource plugin named `talos`, with the module layout of @pulumiverse/talos
// (talos.machine.Secrets, talos.machine.getConfiguration, talos.client.getConfiguration, ...).
//
// Why we bridge it ourselves: the Go module proxy this project can reach serves no version of
// github.com/pulumiverse/pulumi-talos/provider, but it does serve the Terraform provider and
// pulumi-terraform-bridge, which is all the upstream plugin is made of.
package talos

import (
	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	tfprovider "github.com/siderolabs/terraform-provider-talos/pkg/talos"
)

// Version is set at build time from toolchain/versions.json.
var Version = "0.0.0-dev"

// Provider describes the bridged plugin. metadata is the bridge-metadata.json that tfgen
// wrote for this same provider (nil while tfgen itself runs).
func Provider(metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pf.ShimProvider(tfprovider.New()),
		Name:         "talos",
		DisplayName:  "Talos",
		Description:  "Talos Linux machine secrets, configurations, bootstrap and kubeconfig (bridged locally from the Terraform Talos provider).",
		License:      "MPL-2.0",
		Homepage:     "https://www.talos.dev",
		GitHubOrg:    "siderolabs",
		Publisher:    "talos-cluster",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		JavaScript: &tfbridge.JavaScriptInfo{
			PackageName:          "@pulumiverse/talos",
			RespectSchemaVersion: true,
		},
	}
	// Same token layout as @pulumiverse/talos: talos_machine_secrets -> talos:machine/secrets:Secrets.
	info.MustComputeTokens(tokens.KnownModules("talos_", "index",
		[]string{"client", "cluster", "machine", "image_factory"}, tokens.MakeStandard("talos")))
	return info
}
