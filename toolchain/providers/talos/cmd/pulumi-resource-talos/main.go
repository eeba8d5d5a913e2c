// The `talos` resource plugin. schema-embed.json and bridge-metadata.json are produced at
// setup time by pulumi-tfgen-talos from the same sources, so the plugin and its schema agree.
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	talos "talos-cluster.local/providers/talos"
)

//go:embed schema-embed.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pf.Main(context.Background(), "talos", talos.Provider(metadata), pf.ProviderMetadata{PackageSchema: schema})
}
