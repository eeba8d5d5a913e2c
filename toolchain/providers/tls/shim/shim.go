// Package shim re-exports the TLS provider's constructor, which upstream keeps in an internal
// package. Go allows importing internal/ from any package whose import path sits under the
// internal directory's parent, whichever module it lives in, so this small module takes the
// path github.com/hashicorp/terraform-provider-tls/shim and is wired in with a local replace
// (the same arrangement pulumi/pulumi-tls uses).
package shim

import (
	pfprovider "github.com/hashicorp/terraform-plugin-framework/provider"

	"github.com/hashicorp/terraform-provider-tls/internal/provider"
)

// NewProvider returns the Terraform TLS provider (plugin framework).
func NewProvider() pfprovider.Provider {
	return provider.New()
}
