// The `tls` resource plugin. schema-embed.json and bridge-metadata.json are produced at
// setup time by pulumi-tfgen-tls from the same sources, so the plugin and its schema agree.
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	tls "talos-cluster.local/providers/tls"
)

//go:embed schema-embed.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pf.Main(context.Background(), "tls", tls.Provider(metadata), pf.ProviderMetadata{PackageSchema: schema})
}
