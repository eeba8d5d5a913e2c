// Build-time helper: `pulumi-tfgen-tls schema --out DIR` writes schema.json and
// bridge-metadata.json for the `tls` plugin.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	tls "talos-cluster.local/providers/tls"
)

func main() {
	tfgen.Main("tls", tls.Provider(nil))
}
