// Command gen-nodejs-sdk generates a provider's Node.js SDK from its Pulumi schema with
// Pulumi's own Node.js code generator (pkg/v3/codegen/nodejs).
//
// Why a program of our own: the Pulumi CLI delegates `package gen-sdk --language nodejs`
// to the Node.js language host's GeneratePackage RPC, and the language host this project can
// build offline predates that RPC. The generator itself lives in the pinned pkg/v3 module,
// so the output is what `pulumi package gen-sdk` produces for the same schema.
//
// Usage: gen-nodejs-sdk <schema.json> <out-dir>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen-nodejs-sdk <schema.json> <out-dir>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "gen-nodejs-sdk:", err)
		os.Exit(1)
	}
}

func run(schemaPath, outDir string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("parse %s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, nil, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("bind schema: %w", err)
	}
	if diags.HasErrors() {
		return fmt.Errorf("schema has errors: %s", diags.Error())
	}
	files, err := nodejs.GeneratePackage("talos-cluster-setup", pkg, nil, nil, false, nil)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	for name, content := range files {
		target := filepath.Join(outDir, name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
