// Checks of Hetzner dedicated servers (hetzner.dedicated, hetzner.vswitch, the Robot secrets),
// before any resource exists. They read the raw value defensively (see check-helpers.ts).
import { maxAdminCidrs } from "../components/hetzner/robot-firewall";
import { baseUrlProblems } from "./base-urls";
import { Ctx, issue, list, record, str } from "./check-helpers";
import { Cidr, contains, coverEverything, overlaps, parseCidr, parseIpv4 } from "./ip";

const SECRET_HINT = (key: string) => `bash scripts/stack.sh secret <stack> talos-cluster:${key} < file (refused while the stack is on the demo passphrase)`;

export function checkDedicated(value: unknown, ctx: Ctx): void {
  const root = record(value);
  const hetzner = record(root.hetzner);
  const servers = list(hetzner.dedicated).map(record);
  const vswitch = hetzner.vswitch === undefined ? undefined : record(hetzner.vswitch);

  for (const key of ["robotUser", "robotPassword"] as const) {
    if (servers.length && root[key] === undefined) issue(ctx, [key], `required with talos-cluster:hetzner.dedicated (the Robot webservice login): ${SECRET_HINT(key)}`);
    if (!servers.length && root[key] !== undefined) issue(ctx, [key], "is set but talos-cluster:hetzner.dedicated lists no server");
  }
  if (vswitch && !servers.length) issue(ctx, ["hetzner", "vswitch"], "is set but talos-cluster:hetzner.dedicated lists no server to join it");
  if (!servers.length) return;

  // Unique among themselves and against every other node of the stack.
  const cluster = str(record(root.cluster).name) ?? "";
  const others: { name?: string; address?: string; where: string }[] = [
    ...list(root.nodes).map(record).map((n, i) => ({ name: str(n.name), address: str(n.address), where: `nodes[${i}]` })),
    ...list(hetzner.pools).map(record).flatMap((p, k) =>
      Array.from({ length: typeof p.count === "number" && p.count > 0 ? Math.min(p.count, 100) : 0 }, (_, i) => ({ name: `${cluster}-${str(p.name)}-${i + 1}`, where: `hetzner.pools[${k}]` })),
    ),
  ];
  for (const field of ["name", "address", "serverNumber", "privateAddress"] as const) {
    const seen = new Map<string, string>();
    for (const o of others) {
      const v = field === "name" ? o.name : field === "address" ? o.address : undefined;
      if (v !== undefined && !seen.has(v)) seen.set(v, o.where);
    }
    servers.forEach((s, i) => {
      const raw = s[field];
      const v = typeof raw === "number" ? String(raw) : field === "privateAddress" ? str(raw)?.split("/")[0] : str(raw);
      if (v === undefined) return;
      const first = seen.get(v);
      if (first !== undefined) issue(ctx, ["hetzner", "dedicated", i, field], `duplicate ${field} "${v}", already used by ${first}`);
      else seen.set(v, `hetzner.dedicated[${i}]`);
    });
  }

  // The plugin adds /key, /firewall/… itself; the login is a secret; plain http only to a loopback stand-in.
  const robotUrl = str(hetzner.robotUrl);
  if (robotUrl !== undefined) {
    const base = { example: "https://robot-ws.your-server.de", pathHint: "the plugin adds /key, /firewall/… itself", secrets: "the login is the encrypted talos-cluster:robotUser and robotPassword" };
    for (const problem of baseUrlProblems(robotUrl, base)) issue(ctx, ["hetzner", "robotUrl"], problem);
    const host = URL.canParse(robotUrl) ? new URL(robotUrl).hostname : undefined;
    if (host !== undefined && robotUrl.startsWith("http:") && !/^127\./.test(host) && host !== "localhost") {
      issue(ctx, ["hetzner", "robotUrl"], `${robotUrl} must be https: the Robot password must not cross the network in clear (plain http only to a loopback address, for tests)`);
    }
  }

  // The Robot firewall lets no other node in but through KubeSpan's WireGuard (and the vSwitch).
  // Either switch turns it on: hetzner.kubespan, or cluster.kubespan (on by default in a hybrid stack, config/kubespan.ts).
  const clusterKubespan = record(record(root.cluster).kubespan).enabled;
  const meshOn = hetzner.kubespan === true || clusterKubespan === true || (root.nodes !== undefined && clusterKubespan !== false);
  if (!meshOn) {
    issue(ctx, ["hetzner", "kubespan"], "must be true with talos-cluster:hetzner.dedicated (or cluster.kubespan.enabled): the cloud servers reach the dedicated servers (behind their Robot firewall, outside the cloud network) only through KubeSpan's WireGuard, UDP 51820");
  }

  const allowLoopback = record(root.cluster).allowLoopbackAddresses === true;
  servers.forEach((s, i) => {
    const ip = parseIpv4(str(s.address) ?? "");
    if (ip !== undefined && ip >>> 24 === 127 && !allowLoopback) issue(ctx, ["hetzner", "dedicated", i, "address"], "is a loopback address: a dedicated server's address is its main public IPv4 (loopback only with cluster.allowLoopbackAddresses, for tests)");
  });

  // The maintenance API of a server in rescue-installed maintenance mode must never face the internet.
  const admin = list(hetzner.adminCidrs).map((c) => parseCidr(str(c) ?? "")).filter((c): c is Cidr => c !== undefined);
  if (admin.length && coverEverything(admin)) {
    issue(ctx, ["hetzner", "adminCidrs"], `${admin.map((c) => c.text).join(", ")} would open the Talos maintenance API (50000) of the dedicated servers to the whole internet, which allowAdminFromInternet does not permit for them; list your own networks`);
  }
  const fit = maxAdminCidrs(vswitch !== undefined);
  if (admin.length > fit) {
    issue(ctx, ["hetzner", "adminCidrs"], `lists ${admin.length} networks, but the Robot firewall of a dedicated server takes 10 input rules: 3 per admin network (22, 6443, 50000) beside ${vswitch ? 4 : 3} fixed ones leave room for ${fit}; list fewer or wider networks`);
  }

  // The vSwitch VLAN: each server's private address inside its subnet, no overlap with the pod or service network.
  const subnet = vswitch ? parseCidr(str(vswitch.subnet) ?? "") : undefined;
  servers.forEach((s, i) => {
    const address = str(s.privateAddress);
    if (address === undefined) {
      if (vswitch) issue(ctx, ["hetzner", "dedicated", i, "privateAddress"], "required with talos-cluster:hetzner.vswitch: the server's address on the VLAN, inside vswitch.subnet");
      return;
    }
    if (!vswitch) return issue(ctx, ["hetzner", "dedicated", i, "privateAddress"], "is set but the stack has no talos-cluster:hetzner.vswitch");
    const [host, prefix] = address.split("/");
    const ip = parseIpv4(host ?? "");
    if (subnet && ip !== undefined && (!contains(subnet, ip) || Number(prefix) !== subnet.prefix)) {
      issue(ctx, ["hetzner", "dedicated", i, "privateAddress"], `${address} is not an address of vswitch.subnet ${subnet.text} with its prefix /${subnet.prefix}`);
    }
  });
  const c = record(root.cluster);
  for (const [field, fallback] of [["podCidr", "10.244.0.0/16"], ["serviceCidr", "10.96.0.0/12"]] as const) {
    const range = parseCidr(str(c[field]) ?? fallback);
    if (subnet && range && overlaps(subnet, range)) issue(ctx, ["hetzner", "vswitch", "subnet"], `${subnet.text} overlaps cluster.${field} ${range.text}`);
  }
}
