// Package hcloudimage is this project's `hcloudimage` resource plugin: the Talos snapshot of a
// Hetzner Cloud project, built the way Talos's Hetzner guide describes by hand (a server booted
// into the rescue system, the Image Factory's hcloud image written to its disk, a snapshot of it),
// through the Hetzner Cloud API (docs.hetzner.cloud: servers, server actions enable_rescue,
// poweron, poweroff and create_image, actions, ssh_keys, images) with hcloud-go v2.36.0, and
// golang.org/x/crypto/ssh for the rescue system.
//
// Why our own: neither the hcloud Terraform provider nor Pulumi's has a resource that builds an
// image (hcloud-k8s and hcloud-talos users run Packer for it). It is built on pulumi-go-provider
// like toolchain/providers/synology; its Node.js SDK is generated from its schema by
// toolchain/gen-nodejs-sdk (toolchain/setup.mjs).
package hcloudimage

import (
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi-go-provider/middleware/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// Version is set at build time from toolchain/versions.json.
var Version = "0.0.0-dev"

// NpmPackage is the name of the generated Node.js SDK (package.json: file:sdks/hcloudimage).
const NpmPackage = "@talos-cluster/hcloudimage"

// Provider returns the `hcloudimage` provider: hcloudimage:index:TalosSnapshot. It has no
// configuration: the token and the API endpoint are inputs of each snapshot, kept in its state
// so that a later delete needs nothing else.
func Provider() p.Provider {
	return infer.Provider(infer.Options{
		Metadata: schema.Metadata{
			DisplayName: "Talos snapshots for Hetzner Cloud",
			Description: "Talos Linux snapshots of Hetzner Cloud, built from the Image Factory's hcloud image in a rescue system.",
			LanguageMap: map[string]any{"nodejs": map[string]any{"packageName": NpmPackage}},
		},
		Resources: []infer.InferredResource{
			infer.Resource(&TalosSnapshot{}),
		},
		ModuleMap: map[tokens.ModuleName]tokens.ModuleName{"hcloudimage": "index"},
	})
}
