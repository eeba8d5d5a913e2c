// Package hcloud bridges the Terraform Hetzner Cloud provider (hetznercloud/terraform-provider-hcloud)
// into a Pulumi resource plugin named `hcloud`, with the token layout of @pulumi/hcloud
// (hcloud:index/server:Server, hcloud:index/getImage:getImage, ...).
//
// Why we bridge it ourselves: the Go module proxy this project can reach serves no version of
// github.com/pulumi/pulumi-hcloud/provider, but it does serve the Terraform provider and
// pulumi-terraform-bridge, which is all the upstream plugin is made of.
//
// The Terraform provider is two providers muxed together: an SDKv2 one (hcloud.Provider) and a
// plugin-framework one (hcloud.NewPluginProvider), both exported from its public hcloud package.
// The bridge muxes them the same way (MuxShimWithPF + the *WithMuxer mains).
package hcloud

import (
	"context"

	tfhcloud "github.com/hetznercloud/terraform-provider-hcloud/hcloud"
	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
)

// Version is set at build time from toolchain/versions.json.
var Version = "0.0.0-dev"

// Provider describes the bridged plugin. metadata is the bridge-metadata.json that tfgen
// wrote for this same provider (nil while tfgen itself runs); for a muxed provider it also
// carries the dispatch table saying which half serves each resource and function.
func Provider(metadata []byte) tfbridge.ProviderInfo {
	ctx := context.Background()
	info := tfbridge.ProviderInfo{
		P:            pf.MuxShimWithPF(ctx, shimv2.NewProvider(tfhcloud.Provider()), tfhcloud.NewPluginProvider()),
		Name:         "hcloud",
		DisplayName:  "Hetzner Cloud",
		Description:  "Hetzner Cloud servers, networks, firewalls and load balancers (bridged locally from the Terraform hcloud provider).",
		License:      "MPL-2.0",
		Homepage:     "https://registry.terraform.io/providers/hetznercloud/hcloud",
		GitHubOrg:    "hetznercloud",
		Publisher:    "talos-cluster",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		JavaScript: &tfbridge.JavaScriptInfo{
			PackageName:          "@pulumi/hcloud",
			RespectSchemaVersion: true,
		},
	}
	// Same token layout as @pulumi/hcloud: everything in "index", hcloud_server -> hcloud:index/server:Server.
	info.MustComputeTokens(tokens.SingleModule("hcloud_", "index", tokens.MakeStandard("hcloud")))
	// As @pulumi/hcloud: a resource's `name` may be omitted and is then derived from the Pulumi
	// resource name plus a random suffix.
	info.SetAutonaming(255, "-")
	// The framework-side resources (Storage Box, Zone, ...) have an integer "id", but a Pulumi ID
	// is a string: map it as one (the bridge converts both ways) instead of failing tfgen's ID check.
	info.P.ResourcesMap().Range(func(name string, res shim.Resource) bool {
		if id, ok := res.Schema().GetOk("id"); ok && id.Type() == shim.TypeInt {
			r := info.Resources[name]
			if r.Fields == nil {
				r.Fields = map[string]*tfbridge.SchemaInfo{}
			}
			r.Fields["id"] = &tfbridge.SchemaInfo{Type: "string"}
		}
		return true
	})
	return info
}
