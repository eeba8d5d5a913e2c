// Command pulumi-resource-synology serves this project's `synology` plugin (see package
// talos-cluster.local/providers/synology).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	pprovider "github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	synology "talos-cluster.local/providers/synology"
)

func main() {
	// The engine stops a plugin with SIGINT and gives it 5 s: log the DSM session out then.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- pprovider.MainContext(ctx, "synology",
			func(host *pprovider.HostClient) (rpc.ResourceProviderServer, error) {
				srv, err := p.RawServer("synology", synology.Version, synology.Provider())(host)
				if err != nil {
					return nil, err
				}
				return withoutInternalKey{srv}, nil
			})
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
	}
	logout, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	synology.LogoutAll(logout)
	cancel()
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
	os.Exit(0)
}

// withoutInternalKey drops the "__internal" key pulumi-go-provider v1.0.0 adds to CheckConfig's
// result (same reason as in toolchain/providers/command). It also keeps the `version` input the
// generated SDK sends with an explicit provider: pulumi-go-provider drops it from the checked
// inputs, so the next run would see "+version" and replace the provider and every resource.
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

// DiffConfig leaves the SDK's `version` out of the comparison: the plugin's own version is not
// DSM configuration, and pulumi-go-provider would otherwise replace the provider (and with it
// every image and guest) because one side of the diff carries it and the other does not.
func (s withoutInternalKey) DiffConfig(ctx context.Context, req *rpc.DiffRequest) (*rpc.DiffResponse, error) {
	for _, m := range []*structpb.Struct{req.GetOlds(), req.GetNews(), req.GetOldInputs()} {
		if m != nil {
			delete(m.GetFields(), "version")
		}
	}
	return s.ResourceProviderServer.DiffConfig(ctx, req)
}
