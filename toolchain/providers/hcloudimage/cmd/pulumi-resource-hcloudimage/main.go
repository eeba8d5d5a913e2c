// Command pulumi-resource-hcloudimage serves this project's `hcloudimage` plugin (see package
// talos-cluster.local/providers/hcloudimage).
package main

import (
	"context"

	p "github.com/pulumi/pulumi-go-provider"
	pprovider "github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	hcloudimage "talos-cluster.local/providers/hcloudimage"
)

func main() {
	err := pprovider.Main("hcloudimage", func(host *pprovider.HostClient) (rpc.ResourceProviderServer, error) {
		srv, err := p.RawServer("hcloudimage", hcloudimage.Version, hcloudimage.Provider())(host)
		if err != nil {
			return nil, err
		}
		return wrapped{srv}, nil
	})
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
}

// wrapped fixes three things of pulumi-go-provider v1.0.0 (the first two as in
// toolchain/providers/synology): the "__internal" key it adds to CheckConfig's result, the
// SDK's `version` it drops (the next run would replace the provider), and a preview's create,
// whose outputs it returns as empty values instead of unknown ones.
type wrapped struct{ rpc.ResourceProviderServer }

func (s wrapped) CheckConfig(ctx context.Context, req *rpc.CheckRequest) (*rpc.CheckResponse, error) {
	resp, err := s.ResourceProviderServer.CheckConfig(ctx, req)
	if resp != nil && resp.GetInputs() != nil {
		fields := resp.GetInputs().GetFields()
		delete(fields, "__internal")
		if v, ok := req.GetNews().GetFields()["version"]; ok {
			if _, has := fields["version"]; !has {
				fields["version"] = v
			}
		}
	}
	return resp, err
}

func (s wrapped) DiffConfig(ctx context.Context, req *rpc.DiffRequest) (*rpc.DiffResponse, error) {
	for _, m := range []*structpb.Struct{req.GetOlds(), req.GetNews(), req.GetOldInputs()} {
		if m != nil {
			delete(m.GetFields(), "version")
		}
	}
	return s.ResourceProviderServer.DiffConfig(ctx, req)
}

// Create in a preview: the snapshot's ID is not known before the build, so its outputs are
// unknown (servers that boot from it show "(computed)"), never 0.
func (s wrapped) Create(ctx context.Context, req *rpc.CreateRequest) (*rpc.CreateResponse, error) {
	resp, err := s.ResourceProviderServer.Create(ctx, req)
	if err == nil && req.GetPreview() && resp.GetProperties() != nil {
		for _, key := range hcloudimage.BuiltOutputs {
			resp.GetProperties().GetFields()[key] = structpb.NewStringValue(plugin.UnknownStringValue)
		}
	}
	return resp, err
}
