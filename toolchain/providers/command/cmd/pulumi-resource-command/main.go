// Command pulumi-resource-command serves this project's `command` plugin (see package
// talos-cluster.local/providers/command for why it exists and what it implements).
package main

import (
	"context"

	p "github.com/pulumi/pulumi-go-provider"
	pprovider "github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	command "talos-cluster.local/providers/command"
)

func main() {
	// Same as p.RunProvider, plus withoutInternalKey around the gRPC server.
	err := pprovider.MainContext(context.Background(), "command",
		func(host *pprovider.HostClient) (rpc.ResourceProviderServer, error) {
			srv, err := p.RawServer("command", command.Version, command.Provider())(host)
			if err != nil {
				return nil, err
			}
			return withoutInternalKey{srv}, nil
		})
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
}

// withoutInternalKey drops the "__internal" key that pulumi-go-provider v1.0.0 adds to
// CheckConfig's result (it records its own version there). The engine reserves that key and
// replaces it with its own value anyway, but since pulumi v3.191 it also prints "provider
// attempted to use __internal key that is reserved by the engine" on every run (the official
// plugin showed the same warning: pulumi/pulumi-command#918).
type withoutInternalKey struct{ rpc.ResourceProviderServer }

func (s withoutInternalKey) CheckConfig(ctx context.Context, req *rpc.CheckRequest) (*rpc.CheckResponse, error) {
	resp, err := s.ResourceProviderServer.CheckConfig(ctx, req)
	if resp != nil && resp.GetInputs() != nil {
		delete(resp.GetInputs().GetFields(), "__internal")
	}
	return resp, err
}
