// Command pulumi-resource-robot serves this project's `robot` plugin (see package
// talos-cluster.local/providers/robot).
package main

import (
	"context"

	p "github.com/pulumi/pulumi-go-provider"
	pprovider "github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	robot "talos-cluster.local/providers/robot"
)

func main() {
	err := pprovider.MainContext(context.Background(), "robot",
		func(host *pprovider.HostClient) (rpc.ResourceProviderServer, error) {
			srv, err := p.RawServer("robot", robot.Version, robot.Provider())(host)
			if err != nil {
				return nil, err
			}
			return withoutInternalKey{srv}, nil
		})
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
}

// withoutInternalKey: the same two corrections as toolchain/providers/synology's main (the
// "__internal" key pulumi-go-provider v1.0.0 adds to CheckConfig's result, and the SDK's
// `version` input, kept in the checked config and left out of DiffConfig so an explicit provider
// is not replaced, with every resource, on the next run).
type withoutInternalKey struct{ rpc.ResourceProviderServer }

func (s withoutInternalKey) CheckConfig(ctx context.Context, req *rpc.CheckRequest) (*rpc.CheckResponse, error) {
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

func (s withoutInternalKey) DiffConfig(ctx context.Context, req *rpc.DiffRequest) (*rpc.DiffResponse, error) {
	for _, m := range []*structpb.Struct{req.GetOlds(), req.GetNews(), req.GetOldInputs()} {
		if m != nil {
			delete(m.GetFields(), "version")
		}
	}
	return s.ResourceProviderServer.DiffConfig(ctx, req)
}
