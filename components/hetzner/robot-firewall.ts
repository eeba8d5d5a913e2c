// The Robot firewall of a dedicated server, as a pure function of the stack's settings.
//
// Robot's firewall is stateless and takes at most 10 input rules (operate-first/
// hetzner-baremetal-openshift#8, a Hetzner ticket; Robot answers FIREWALL_RULE_LIMIT_EXCEEDED past
// it); what no rule accepts is discarded. Rule fields as community.hrobot plugins/modules/firewall.py
// and hrobot-rs src/api/firewall/serde.rs send them. So:
//   - the Talos API (50000), the Kubernetes API (6443) and SSH (22, the rescue system; Talos has no
//     SSH) are accepted from each admin network only: the maintenance API is never open to the internet;
//   - TCP return traffic of the node's own connections: ACK set, to the ephemeral ports (a new
//     connection's SYN has no ACK, so no listener there is reachable);
//   - UDP to the ephemeral ports: DNS and NTP answers, and KubeSpan's WireGuard (51820) between nodes;
//   - ICMP (path MTU discovery, ping);
//   - with a vSwitch, everything from its private subnet (the VLAN's node-to-node traffic).

/** Robot's limit on input rules. */
export const ROBOT_MAX_INPUT_RULES = 10;
/** The ports a dedicated node serves to admins: SSH of the rescue system, Kubernetes API, Talos API. */
export const ADMIN_PORTS = ["22", "6443", "50000"] as const;
/** Linux's default ephemeral port range starts here (net.ipv4.ip_local_port_range 32768 60999). */
const EPHEMERAL = "32768-65535";

export interface RobotFirewallRule {
  readonly name: string;
  readonly ipVersion?: string;
  readonly srcIp?: string;
  readonly dstPort?: string;
  readonly protocol?: string;
  readonly tcpFlags?: string;
  readonly action: "accept" | "discard";
}

/** Input rules that are there whatever the admin networks: return traffic, ICMP, the vSwitch. */
export function fixedInputRules(vswitchSubnet: string | undefined): RobotFirewallRule[] {
  return [
    { name: "tcp return traffic", ipVersion: "ipv4", protocol: "tcp", dstPort: EPHEMERAL, tcpFlags: "ack", action: "accept" },
    { name: "udp return and kubespan", ipVersion: "ipv4", protocol: "udp", dstPort: EPHEMERAL, action: "accept" },
    { name: "icmp", ipVersion: "ipv4", protocol: "icmp", action: "accept" },
    ...(vswitchSubnet ? [{ name: "vswitch", ipVersion: "ipv4", srcIp: vswitchSubnet, action: "accept" as const }] : []),
  ];
}

/** Every input rule of a dedicated server, admin rules first. */
export function robotFirewallRules(adminCidrs: readonly string[], vswitchSubnet: string | undefined): RobotFirewallRule[] {
  const admin = adminCidrs.flatMap((cidr, i) =>
    ADMIN_PORTS.map((port) => ({ name: `admin ${i + 1} port ${port}`, ipVersion: "ipv4", protocol: "tcp", srcIp: cidr, dstPort: port, action: "accept" as const })),
  );
  return [...admin, ...fixedInputRules(vswitchSubnet)];
}

/** How many admin networks fit beside the fixed rules. */
export function maxAdminCidrs(vswitch: boolean): number {
  return Math.floor((ROBOT_MAX_INPUT_RULES - fixedInputRules(vswitch ? "10.0.0.0/24" : undefined).length) / ADMIN_PORTS.length);
}
