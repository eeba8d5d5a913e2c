// Build-time helper: `pulumi-tfgen-talos schema --out DIR` writes schema.json and
// bridge-metadata.json for the `talos` plugin.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	talos "talos-cluster.local/providers/talos"
)

func main() {
	tfgen.Main("talos", talos.Provider(nil))
}
