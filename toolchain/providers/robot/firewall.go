package robot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// Firewall is a dedicated server's Robot firewall (POST /firewall/{server-number} with status,
// filter_ipv6, whitelist_hos and rules[input|output][i][field]; the field names as
// community.hrobot plugins/modules/firewall.py and hrobot-rs src/api/firewall/serde.rs send them).
// Robot applies a change in the background: the status reads "in process" until it is done, and
// a change sent meanwhile is refused with 409 FIREWALL_IN_PROCESS, so both are waited out.
// The firewall is stateless: return traffic needs its own rules (components/hetzner/robot-firewall.ts).
type Firewall struct{}

// FirewallRule is one rule; empty fields match anything.
type FirewallRule struct {
	Name      string  `pulumi:"name"`
	IPVersion *string `pulumi:"ipVersion,optional"`
	SrcIP     *string `pulumi:"srcIp,optional"`
	DstIP     *string `pulumi:"dstIp,optional"`
	SrcPort   *string `pulumi:"srcPort,optional"`
	DstPort   *string `pulumi:"dstPort,optional"`
	Protocol  *string `pulumi:"protocol,optional"`
	TCPFlags  *string `pulumi:"tcpFlags,optional"`
	Action    string  `pulumi:"action"`
}

type FirewallArgs struct {
	ServerNumber int            `pulumi:"serverNumber" provider:"replaceOnChanges"`
	WhitelistHos *bool          `pulumi:"whitelistHos,optional"`
	Input        []FirewallRule `pulumi:"input"`
	Output       []FirewallRule `pulumi:"output,optional"`
}

func (a *FirewallArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.ServerNumber, "The server's Robot number.")
	an.Describe(&a.WhitelistHos, "Let Hetzner's own services (monitoring, DHCP of the rescue system) through. Default: true.")
	an.Describe(&a.Input, "Input rules, first match wins; what no rule accepts is discarded. Robot takes at most 10.")
	an.Describe(&a.Output, "Output rules. Default: one rule accepting everything.")
}

type FirewallState struct {
	FirewallArgs
	Status string `pulumi:"status"`
}

func (f *Firewall) Annotate(a infer.Annotator) {
	a.Describe(&f, "The Robot firewall of a Hetzner dedicated server.")
}

type firewallAnswer struct {
	Firewall struct {
		Status string `json:"status"`
	} `json:"firewall"`
}

func firewallForm(in FirewallArgs) url.Values {
	whitelist := in.WhitelistHos == nil || *in.WhitelistHos
	form := url.Values{
		"status":        {"active"},
		"filter_ipv6":   {"false"},
		"whitelist_hos": {strconv.FormatBool(whitelist)},
	}
	output := in.Output
	if len(output) == 0 {
		output = []FirewallRule{{Name: "allow all out", Action: "accept"}}
	}
	for dir, rules := range map[string][]FirewallRule{"input": in.Input, "output": output} {
		for i, r := range rules {
			prefix := fmt.Sprintf("rules[%s][%d]", dir, i)
			form.Set(prefix+"[name]", r.Name)
			form.Set(prefix+"[action]", r.Action)
			for field, v := range map[string]*string{
				"ip_version": r.IPVersion, "src_ip": r.SrcIP, "dst_ip": r.DstIP, "src_port": r.SrcPort,
				"dst_port": r.DstPort, "protocol": r.Protocol, "tcp_flags": r.TCPFlags,
			} {
				if v != nil && *v != "" {
					form.Set(prefix+"["+field+"]", *v)
				}
			}
		}
	}
	return form
}

// firewallCall sends one change, waiting out a change still in process first; then waits until
// Robot has applied it. The status it ends in.
func firewallCall(ctx context.Context, c *Client, method string, n int, form url.Values) (string, error) {
	path := fmt.Sprintf("/firewall/%d", n)
	status := func() (string, error) {
		var out firewallAnswer
		err := c.Do(ctx, http.MethodGet, path, nil, &out)
		return out.Firewall.Status, err
	}
	settled := func() (bool, error) {
		s, err := status()
		return s != "in process", err
	}
	sent := false
	err := waitFor(ctx, operationTimeout, fmt.Sprintf("firewall of server %d", n), func() (bool, error) {
		err := c.Do(ctx, method, path, form, nil)
		if IsCode(err, "FIREWALL_IN_PROCESS") {
			// An earlier change is still being applied: wait for it, then send ours.
			return false, waitFor(ctx, operationTimeout, fmt.Sprintf("firewall of server %d", n), settled)
		}
		sent = err == nil
		return true, err
	})
	if err != nil || !sent {
		return "", err
	}
	if err := waitFor(ctx, operationTimeout, fmt.Sprintf("firewall of server %d", n), settled); err != nil {
		return "", err
	}
	return status()
}

func applyFirewall(ctx context.Context, in FirewallArgs) (FirewallState, error) {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	status, err := firewallCall(ctx, clientOf(ctx), http.MethodPost, in.ServerNumber, firewallForm(in))
	if err != nil {
		return FirewallState{}, fmt.Errorf("firewall of server %d: %w", in.ServerNumber, err)
	}
	if status != "active" {
		return FirewallState{}, fmt.Errorf("firewall of server %d: Robot reports it %q after the change, not active", in.ServerNumber, status)
	}
	return FirewallState{FirewallArgs: in, Status: status}, nil
}

func (*Firewall) Create(ctx context.Context, req infer.CreateRequest[FirewallArgs]) (infer.CreateResponse[FirewallState], error) {
	id := strconv.Itoa(req.Inputs.ServerNumber)
	if req.DryRun {
		return infer.CreateResponse[FirewallState]{ID: id, Output: FirewallState{FirewallArgs: req.Inputs, Status: "active"}}, nil
	}
	state, err := applyFirewall(ctx, req.Inputs)
	return infer.CreateResponse[FirewallState]{ID: id, Output: state}, err
}

func (*Firewall) Update(ctx context.Context, req infer.UpdateRequest[FirewallArgs, FirewallState]) (infer.UpdateResponse[FirewallState], error) {
	if req.DryRun {
		return infer.UpdateResponse[FirewallState]{Output: FirewallState{FirewallArgs: req.Inputs, Status: req.State.Status}}, nil
	}
	state, err := applyFirewall(ctx, req.Inputs)
	return infer.UpdateResponse[FirewallState]{Output: state}, err
}

// Delete clears the firewall (DELETE /firewall/{n}: Robot's default, everything allowed), as the
// server was before the stack took it. A server no longer in the account is fine.
func (*Firewall) Delete(ctx context.Context, req infer.DeleteRequest[FirewallState]) (infer.DeleteResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	_, err := firewallCall(ctx, clientOf(ctx), http.MethodDelete, req.State.ServerNumber, nil)
	if err != nil && !IsCode(err, "SERVER_NOT_FOUND") {
		return infer.DeleteResponse{}, fmt.Errorf("firewall of server %d: %w", req.State.ServerNumber, err)
	}
	return infer.DeleteResponse{}, nil
}

var _ infer.CustomUpdate[FirewallArgs, FirewallState] = (*Firewall)(nil)
var _ infer.CustomDelete[FirewallState] = (*Firewall)(nil)
