// Where the Kubernetes API is reached: the endpoint every machine config and the kubeconfig carry,
// the Talos VIP that can provide it, and the nodes removed without dialing them. They read the raw
// value defensively (see check-helpers.ts).
//
// Why a multi-control-plane endpoint must not be one node's address: it is written into every
// node's config (kubelets, kube-proxy, the kubeconfig), so replacing or losing that one node moves
// or breaks the endpoint of the whole cluster. A Talos VIP (machine.network.interfaces[].vip,
// announced by the control plane that holds etcd leadership on a shared layer-2 link), a DNS name
// or a load balancer stays while any control plane is up.
import { Ctx, issue, list, record, str } from "./check-helpers";
import { Cidr, contains, formatIpv4, parseCidr, parseIpv4 } from "./ip";

const FIX =
  "set talos-cluster:cluster.vip (a shared address the control planes hand over among themselves) " +
  "or cluster.endpoint to a DNS name or load balancer in front of every control plane";

/** A node's addresses: `address` and its static ones, as numbers. */
function addressesOf(node: Record<string, unknown>): number[] {
  const statics = list(record(node.network).addresses).map((a) => parseIpv4((str(a) ?? "").split("/")[0] ?? ""));
  return [parseIpv4(str(node.address) ?? ""), ...statics].filter((ip): ip is number => ip !== undefined);
}

function hostOf(url: string): number | undefined {
  try {
    return parseIpv4(new URL(url).hostname);
  } catch {
    return undefined;
  }
}

export function checkEndpointAndVip(root: Record<string, unknown>, cluster: Record<string, unknown>, nodes: Record<string, unknown>[], ctx: Ctx) {
  if (root.hetzner !== undefined) {
    if (cluster.vip !== undefined) issue(ctx, ["cluster", "vip"], "is not for Hetzner: there the load balancer in front of the control planes is the endpoint; remove cluster.vip");
    return;
  }
  const controlPlanes = nodes.map((node, i) => ({ node, i })).filter(({ node }) => node.role === "controlplane");
  if (cluster.vip !== undefined) checkVip(record(cluster.vip), cluster, nodes, controlPlanes, ctx);

  if (controlPlanes.length < 2) return;
  const endpoint = str(cluster.endpoint);
  if (endpoint === undefined) {
    if (cluster.vip === undefined) {
      const first = str(controlPlanes[0]!.node.address) ?? "<first control plane>";
      issue(
        ctx,
        ["cluster", "endpoint"],
        `required with ${controlPlanes.length} control planes: the default, https://${first}:6443, is the first control plane's own address, ` +
          `so replacing or losing that node would move or break the endpoint of every node; ${FIX}`,
      );
    }
    return;
  }
  const host = hostOf(endpoint);
  const owner = host === undefined ? undefined : controlPlanes.find(({ node }) => addressesOf(node).includes(host));
  if (owner) {
    issue(
      ctx,
      ["cluster", "endpoint"],
      `${endpoint} is the own address of control plane ${str(owner.node.name) ?? `nodes[${owner.i}]`} (nodes[${owner.i}]), ` +
        `which the other ${controlPlanes.length - 1} control plane${controlPlanes.length === 2 ? "" : "s"} cannot take over; ${FIX}`,
    );
  }
}

function checkVip(
  vip: Record<string, unknown>,
  cluster: Record<string, unknown>,
  nodes: Record<string, unknown>[],
  controlPlanes: { node: Record<string, unknown>; i: number }[],
  ctx: Ctx,
) {
  const staticLinks = controlPlanes.map(({ node }) => str(record(node.network).interface));
  const named = str(vip.interface);
  if (named !== undefined && vip.deviceSelector !== undefined) {
    issue(ctx, ["cluster", "vip"], "names its link twice: set interface or deviceSelector, not both");
  } else if (named === undefined && vip.deviceSelector === undefined) {
    const common = staticLinks.every((l) => l !== undefined && l === staticLinks[0]) && staticLinks.length > 0;
    if (!common) {
      issue(ctx, ["cluster", "vip", "interface"], "required unless every control plane has a static network on the same interface: name the link the control planes share (e.g. eth0), or select it with deviceSelector");
    }
  } else if (vip.deviceSelector !== undefined) {
    controlPlanes.forEach(({ node, i }) => {
      if (node.network === undefined) return;
      issue(
        ctx,
        ["cluster", "vip", "deviceSelector"],
        `cannot join control plane ${str(node.name) ?? `nodes[${i}]`}'s static network, which names its link (nodes[${i}].network.interface); ` +
          `Talos merges interface settings by name, so use vip.interface: ${str(record(node.network).interface) ?? "<its interface>"}`,
      );
    });
  }

  const address = parseIpv4(str(vip.address) ?? "");
  if (address === undefined) return;
  nodes.forEach((node, i) => {
    if (addressesOf(node).includes(address)) {
      issue(ctx, ["cluster", "vip", "address"], `${str(vip.address)} is ${str(node.name) ?? "a node"}'s own address (nodes[${i}]); the VIP must be an address no node has`);
    }
  });
  for (const field of ["podCidr", "serviceCidr"] as const) {
    const range = parseCidr(str(cluster[field]) ?? (field === "podCidr" ? "10.244.0.0/16" : "10.96.0.0/12"));
    if (range && contains(range, address)) issue(ctx, ["cluster", "vip", "address"], `${str(vip.address)} is inside ${field} ${range.text}; the VIP must be on the control planes' own network`);
  }
  // Known only for control planes with a static address on the VIP's link.
  const link = named ?? (vip.deviceSelector === undefined ? staticLinks[0] : undefined);
  controlPlanes.forEach(({ node, i }) => {
    const network = record(node.network);
    if (link === undefined || str(network.interface) !== link) return;
    const subnets = list(network.addresses).map((a) => parseCidr(str(a) ?? "", false)).filter((c): c is Cidr => c !== undefined);
    if (subnets.length && !subnets.some((s) => contains(s, address))) {
      const nets = subnets.map((s) => `${formatIpv4(s.first)}/${s.prefix}`).join(", ");
      issue(
        ctx,
        ["cluster", "vip", "address"],
        `${str(vip.address)} is outside control plane ${str(node.name) ?? `nodes[${i}]`}'s subnet on ${link} (${nets}, nodes[${i}].network.addresses); ` +
          "Talos announces the VIP only on the control planes' shared layer-2 network",
      );
    }
  });
}

/** The nodes to remove without dialing them: each once, and no longer part of the stack. */
export function checkRemoveUnreachable(root: Record<string, unknown>, cluster: Record<string, unknown>, nodes: Record<string, unknown>[], ctx: Ctx) {
  const names = list(cluster.removeUnreachable).map((n) => str(n));
  const clusterName = str(cluster.name) ?? "";
  // A Hetzner pool's servers are named <cluster>-<pool>-<n> (config/hetzner.ts).
  const members = new Map<string, string>();
  nodes.forEach((node, i) => {
    const name = str(node.name);
    if (name !== undefined && !members.has(name)) members.set(name, `talos-cluster:nodes (nodes[${i}])`);
  });
  list(record(root.hetzner).pools).forEach((p, k) => {
    const pool = record(p);
    const count = Number.isInteger(pool.count) && (pool.count as number) <= 40 ? (pool.count as number) : 0;
    for (let n = 1; n <= count; n++) members.set(`${clusterName}-${str(pool.name) ?? ""}-${n}`, `a server of hetzner.pools[${k}] (lower its count)`);
  });
  names.forEach((name, j) => {
    if (name === undefined) return;
    const first = names.indexOf(name);
    if (first < j) {
      issue(ctx, ["cluster", "removeUnreachable", j], `duplicate name "${name}", already listed as removeUnreachable[${first}]`);
      return;
    }
    const where = members.get(name);
    if (where !== undefined) {
      issue(ctx, ["cluster", "removeUnreachable", j], `"${name}" is still ${where.startsWith("a server") ? where : `listed in ${where}`}; remove it from the stack's nodes first: only a node the stack no longer has is removed without dialing it`);
    }
  });
}
