// The Robot resources of dedicated servers, as components/hetzner/dedicated-servers.ts makes them
// (key, server name with its address checked, firewall with robotFirewallRules, vSwitch
// membership, rescue + reset after the name and the firewall),
// without the SSH steps: the robot plugin through the engine against the fake Robot webservice.
import * as pulumi from "@pulumi/pulumi";
import * as robot from "@talos-cluster/robot";
import { robotFirewallRules } from "./components/hetzner/robot-firewall";

interface Server {
  name: string;
  serverNumber: number;
  address: string;
}
interface Refusal {
  name: string;
  password?: string;
  serverNumber: number;
  /** A firewall with this many admin networks (3 rules each). */
  adminNetworks?: number;
  /** Instead of a firewall: a rescue boot with this key fingerprint. */
  rescueKey?: string;
  /** Instead of a firewall: the server's name, with this address for it. */
  address?: string;
}
const test = new pulumi.Config("robot-test");
const url = test.require("url");
const user = test.requireSecret("user");
const password = new pulumi.Config("talos-cluster").requireSecret("robotPassword");
const servers = test.requireObject<Server[]>("servers");
const adminCidrs = test.requireObject<string[]>("adminCidrs");
const vswitch = test.getObject<{ id: number; subnet: string }>("vswitch");

// robot-test:refusals: one provider and resource per refusal, so one `up` shows each error.
for (const r of test.getObject<Refusal[]>("refusals") ?? []) {
  const provider = new robot.Provider(`refusal-${r.name}`, { url, user, password: r.password === undefined ? password : pulumi.secret(r.password), pollSeconds: 1 });
  const cidrs = Array.from({ length: r.adminNetworks ?? 1 }, (_, i) => `198.51.100.${i * 4}/30`);
  if (r.address !== undefined) new robot.ServerName(`refusal-${r.name}`, { serverNumber: r.serverNumber, name: r.name, address: r.address }, { provider });
  else if (r.rescueKey !== undefined) new robot.RescueReset(`refusal-${r.name}`, { serverNumber: r.serverNumber, authorizedKey: r.rescueKey }, { provider });
  else new robot.Firewall(`refusal-${r.name}`, { serverNumber: r.serverNumber, input: robotFirewallRules(cidrs, undefined).map((x) => ({ ...x })) }, { provider });
}

const provider = new robot.Provider("robot", { url, user, password, pollSeconds: 1 });
// No servers, no key (as the component: it exists for the servers' rescue systems).
const key = servers.length ? new robot.SshKey("rescue-key", { name: "tales-rescue", publicKey: test.require("publicKey") }, { provider }) : undefined;
const rules = robotFirewallRules(adminCidrs, vswitch?.subnet);
export const rescues: Record<string, pulumi.Output<string[]>> = {};
for (const s of servers) {
  const name = new robot.ServerName(`${s.name}-name`, { serverNumber: s.serverNumber, name: s.name, address: s.address }, { provider });
  const firewall = new robot.Firewall(`${s.name}-firewall`, { serverNumber: s.serverNumber, whitelistHos: true, input: rules.map((r) => ({ ...r })) }, { provider });
  const member = vswitch && new robot.VSwitchServer(`${s.name}-vswitch`, { vswitchId: vswitch.id, serverNumber: s.serverNumber }, { provider });
  const rescue = new robot.RescueReset(
    `${s.name}-rescue`,
    { serverNumber: s.serverNumber, authorizedKey: key!.fingerprint, os: "linux", resetType: "hw" },
    { provider, dependsOn: [name, firewall, ...(member ? [member] : [])] },
  );
  rescues[s.name] = rescue.hostKeys;
}
export const fingerprint = key?.fingerprint ?? null;
