// Package tls bridges the Terraform TLS provider (hashicorp/terraform-provider-tls) into a
// Pulumi resource plugin named `tls`, with the token layout of @pulumi/tls
// (tls:index/privateKey:PrivateKey, tls:index/getPublicKey:getPublicKey, ...).
//
// Why we bridge it ourselves: the Go module proxy this project can reach serves no version of
// github.com/pulumi/pulumi-tls/provider/v5, but it does serve the Terraform provider and
// pulumi-terraform-bridge, which is all the upstream plugin is made of.
package tls

import (
	"github.com/hashicorp/terraform-provider-tls/shim"
	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
)

// Version is set at build time from toolchain/versions.json.
var Version = "0.0.0-dev"

// Provider describes the bridged plugin. metadata is the bridge-metadata.json that tfgen
// wrote for this same provider (nil while tfgen itself runs).
func Provider(metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pf.ShimProvider(shim.NewProvider()),
		Name:         "tls",
		DisplayName:  "TLS",
		Description:  "Private keys, certificate requests and certificates (bridged locally from the Terraform TLS provider).",
		License:      "MPL-2.0",
		Homepage:     "https://registry.terraform.io/providers/hashicorp/tls",
		GitHubOrg:    "hashicorp",
		Publisher:    "talos-cluster",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		JavaScript: &tfbridge.JavaScriptInfo{
			PackageName:          "@pulumi/tls",
			RespectSchemaVersion: true,
		},
		// As upstream pulumi-tls: state written by the SDK's schema-version-0 resources stays readable.
		EnableZeroDefaultSchemaVersion: true,
	}
	// Same token layout as @pulumi/tls: everything in "index", tls_private_key -> tls:index/privateKey:PrivateKey.
	info.MustComputeTokens(tokens.SingleModule("tls_", "index", tokens.MakeStandard("tls")))
	return info
}
