// Package robot is this project's `robot` resource plugin: Hetzner dedicated servers through the
// Robot webservice (robot-ws.your-server.de): SSH keys, the server firewall, the rescue system
// with a hardware reset, vSwitch membership, and the server's name.
//
// What each call sends and answers was read in Hetzner's documentation
// (robot.hetzner.com/doc/webservice/en.html) as the public clients implement it:
// ansible-collections/community.hrobot (plugins/modules/{ssh_key,firewall,boot,reset,v_switch,server}.py,
// plugins/module_utils/robot.py) and MathiasPius/hrobot-rs (src/api/{keys,firewall,boot,reset,
// vswitch}.rs, src/error.rs). No code was taken from them. Built on pulumi-go-provider like
// toolchain/providers/synology; its Node.js SDK is generated from its schema (toolchain/setup.mjs).
package robot

import (
	"context"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi-go-provider/middleware/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// Version is set at build time from toolchain/versions.json.
var Version = "0.0.0-dev"

// NpmPackage is the name of the generated Node.js SDK (package.json: file:sdks/robot).
const NpmPackage = "@talos-cluster/robot"

// Provider returns the `robot` provider: robot:index:SshKey, robot:index:Firewall,
// robot:index:RescueReset, robot:index:VSwitchServer and robot:index:ServerName.
func Provider() p.Provider {
	return infer.Provider(infer.Options{
		Metadata: schema.Metadata{
			DisplayName: "Hetzner Robot",
			Description: "Hetzner dedicated servers through the Robot webservice: SSH keys, firewall, rescue and reset, vSwitch membership.",
			LanguageMap: map[string]any{"nodejs": map[string]any{"packageName": NpmPackage}},
		},
		Resources: []infer.InferredResource{
			infer.Resource(&SshKey{}),
			infer.Resource(&Firewall{}),
			infer.Resource(&RescueReset{}),
			infer.Resource(&VSwitchServer{}),
			infer.Resource(&ServerName{}),
		},
		Config:    infer.Config(&Config{}),
		ModuleMap: map[tokens.ModuleName]tokens.ModuleName{"robot": "index"},
	})
}

// Config is the provider's configuration: the webservice user and where the webservice is.
type Config struct {
	User        string  `pulumi:"user" provider:"secret"`
	Password    string  `pulumi:"password" provider:"secret"`
	URL         *string `pulumi:"url,optional"`
	PollSeconds *int    `pulumi:"pollSeconds,optional"`

	client *Client
}

func (c *Config) Annotate(a infer.Annotator) {
	a.Describe(&c.User, "The Robot webservice user (robot.hetzner.com > Settings > Webservice and app settings).")
	a.Describe(&c.Password, "Its password.")
	a.Describe(&c.URL, "The webservice's address. Default: https://robot-ws.your-server.de.")
	a.Describe(&c.PollSeconds, "How often a change Robot makes in the background (firewall, vSwitch) is read. Default: 5.")
}

// Configure builds the client only: nothing calls Robot until a resource needs it, so a preview
// stays offline.
func (c *Config) Configure(_ context.Context) error {
	base := DefaultURL
	if c.URL != nil && *c.URL != "" {
		base = *c.URL
	}
	client, err := NewClient(base, c.User, c.Password)
	if err != nil {
		return err
	}
	if c.PollSeconds != nil && *c.PollSeconds > 0 {
		pollInterval = time.Duration(*c.PollSeconds) * time.Second
	}
	c.client = client
	return nil
}

// operationTimeout bounds one resource operation (a firewall or vSwitch change Robot applies in
// the background takes up to a few minutes, community.hrobot waits 180 s by default).
const operationTimeout = 15 * time.Minute

func clientOf(ctx context.Context) *Client { return infer.GetConfig[Config](ctx).client }

var _ infer.CustomConfigure = (*Config)(nil)
