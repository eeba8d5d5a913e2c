// The `hcloud` resource plugin. schema-embed.json and bridge-metadata.json are produced at
// setup time by pulumi-tfgen-hcloud from the same sources, so the plugin, its schema and the
// mux dispatch table agree.
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	hcloud "talos-cluster.local/providers/hcloud"
)

//go:embed schema-embed.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pf.MainWithMuxer(context.Background(), "hcloud", hcloud.Provider(metadata), schema)
}
