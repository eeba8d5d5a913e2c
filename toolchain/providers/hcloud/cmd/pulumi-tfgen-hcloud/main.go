// Build-time helper: `pulumi-tfgen-hcloud schema --out DIR` writes schema.json and
// bridge-metadata.json (including the mux dispatch table) for the `hcloud` plugin.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	hcloud "talos-cluster.local/providers/hcloud"
)

func main() {
	tfgen.MainWithMuxer("hcloud", hcloud.Provider(nil))
}
