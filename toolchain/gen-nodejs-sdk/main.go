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
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// selfContained is the loader for a schema that references no other package: any lookup is
// an error, so the generator never tries to start or download another plugin.
type selfContained struct{}

func (selfContained) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("schema references package %q; only self-contained schemas are supported", pkg)
}

func (l selfContained) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return l.LoadPackage(d.Name, d.Version)
}

func (l selfContained) LoadPackageReference(pkg string, v *semver.Version) (schema.PackageReference, error) {
	_, err := l.LoadPackage(pkg, v)
	return nil, err
}

func (l selfContained) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return l.LoadPackageReference(d.Name, d.Version)
}

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
	pkg, diags, err := schema.BindSpec(spec, selfContained{}, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("bind schema: %w", err)
	}
	if diags.HasErrors() {
		return fmt.Errorf("schema has errors: %s", diags.Error())
	}
	files, err := nodejs.GeneratePackage("talos-cluster-setup", pkg, nil, nil, false, selfContained{})
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
