// Sites: where each node runs, so that one stack may span a LAN and Hetzner (a hybrid stack) and
// the placement of its etcd members can be judged. Reads the raw value defensively (see
// check-helpers.ts): it runs before any resource, with the other cross-field checks.
//
// A site is a failure domain: a LAN (all of `nodes`, unless `nodes[].site` names another), or a
// Hetzner location. Every platform that makes nodes lists them in SITE_SOURCES, each node with its
// name, role, site, address and the path of the field that sets its site; adding a platform (e.g.
// dedicated servers, `hetzner.dedicated`) is one entry there.
import { Ctx, issue, list, Path, record, str } from "./check-helpers";
import { hetznerAddressOffset } from "./checks";
import { contains, formatIpv4, overlaps, parseCidr, parseIpv4 } from "./ip";

/** A LAN node's site when `nodes[].site` is not set. */
export const DEFAULT_LAN_SITE = "lan";

/** One node of the stack, whatever platform makes it. */
export interface SiteMember {
  readonly name: string;
  readonly role: "controlplane" | "worker";
  readonly site: string;
  /** Its address, when the stack says it before anything exists (every platform so far). */
  readonly address?: string;
  /** The field that places it: nodes[i].site, hetzner.pools[k].location, ... */
  readonly sitePath: Path;
  /** The field that names it (for a uniqueness problem). */
  readonly namePath: Path;
  /** How the stack calls the platform: "talos-cluster:nodes", "hetzner.pools[0]". */
  readonly from: string;
}

type SiteSource = (root: Record<string, unknown>) => SiteMember[];

const role = (v: unknown) => (v === "controlplane" || v === "worker" ? v : undefined);

/** `nodes`: bare metal and Synology VMs, at `nodes[].site` (default "lan"). */
const lanNodes: SiteSource = (root) =>
  list(root.nodes).flatMap((n, i) => {
    const node = record(n);
    const name = str(node.name);
    const r = role(node.role);
    if (name === undefined || r === undefined) return [];
    return [{ name, role: r, site: str(node.site) ?? DEFAULT_LAN_SITE, address: str(node.address), sitePath: ["nodes", i, "site"], namePath: ["nodes", i, "name"], from: `nodes[${i}]` }];
  });

/** `hetzner.pools`: Hetzner Cloud servers, at "hetzner-<location>" (the pool's, or hetzner.location). */
const hetznerCloudPools: SiteSource = (root) => {
  const hetzner = record(root.hetzner);
  const cluster = str(record(root.cluster).name) ?? "";
  const subnet = parseCidr(str(hetzner.subnetCidr) ?? "10.0.1.0/24");
  return list(hetzner.pools).flatMap((p, k) => {
    const pool = record(p);
    const r = role(pool.role);
    // Only counts the schema accepts: the raw value may be 2^31 (config/checks.ts checkHetzner).
    const count = Number.isInteger(pool.count) && (pool.count as number) > 0 && (pool.count as number) <= 40 ? (pool.count as number) : 0;
    if (r === undefined || str(pool.name) === undefined) return [];
    const location = str(pool.location) ?? str(hetzner.location) ?? "fsn1";
    const sitePath: Path = pool.location === undefined ? ["hetzner", "location"] : ["hetzner", "pools", k, "location"];
    // Names and addresses as config/hetzner.ts hetznerNodes makes them.
    return Array.from({ length: count }, (_, i) => ({
      name: `${cluster}-${str(pool.name)}-${i + 1}`,
      role: r,
      site: `hetzner-${location}`,
      address: subnet ? formatIpv4(subnet.first + hetznerAddressOffset(k, i + 1)) : undefined,
      sitePath,
      namePath: ["hetzner", "pools", k, "name"],
      from: `hetzner.pools[${k}]`,
    }));
  });
};

/** A dedicated server's site when `hetzner.dedicated[].site` is not set: all of them one failure domain. */
export const DEFAULT_DEDICATED_SITE = "hetzner-dedicated";

/** `hetzner.dedicated`: Robot servers, at `hetzner.dedicated[].site` (default "hetzner-dedicated"). */
const hetznerDedicated: SiteSource = (root) =>
  list(record(root.hetzner).dedicated).flatMap((s, i) => {
    const server = record(s);
    const name = str(server.name);
    const r = role(server.role);
    if (name === undefined || r === undefined) return [];
    const sitePath: Path = ["hetzner", "dedicated", i, "site"];
    return [{ name, role: r, site: str(server.site) ?? DEFAULT_DEDICATED_SITE, address: str(server.address), sitePath, namePath: ["hetzner", "dedicated", i, "name"], from: `hetzner.dedicated[${i}]` }];
  });

/** Every platform that makes nodes; a new one adds its source here. */
export const SITE_SOURCES: readonly SiteSource[] = [lanNodes, hetznerCloudPools, hetznerDedicated];

/** Every node of the stack, from every platform, with its site. */
export function siteMembers(root: Record<string, unknown>): SiteMember[] {
  return SITE_SOURCES.flatMap((source) => source(root));
}

/** Control planes etcd needs for a majority of n members. */
export const quorumOf = (n: number) => Math.floor(n / 2) + 1;

/**
 * Losing any one site must leave etcd a quorum: with n control planes, no site may hold more than
 * n - quorum of them. A stack on one site is not judged (losing its only site loses everything,
 * which no placement avoids); `cluster.acceptSiteLoss: true` accepts the risk knowingly.
 */
export function checkSiteQuorum(root: Record<string, unknown>, ctx: Ctx) {
  const members = siteMembers(root);
  const sites = [...new Set(members.map((m) => m.site))];
  if (sites.length < 2 || record(root.cluster).acceptSiteLoss === true) return;
  const controlPlanes = members.filter((m) => m.role === "controlplane");
  const n = controlPlanes.length;
  if (n === 0) return; // refused elsewhere: a cluster needs a control plane
  const quorum = quorumOf(n);
  for (const site of sites) {
    const here = controlPlanes.filter((m) => m.site === site);
    const left = n - here.length;
    if (left >= quorum) continue;
    const most = n - quorum;
    // With n control planes a site may hold at most n - quorum of them, so ceil(n / most) sites
    // are needed; with fewer than 3 control planes no site may hold any.
    const fix =
      most === 0
        ? `${n} control plane${n === 1 ? "" : "s"} cannot survive the loss of any site: use 3 on 3 sites (or 5, at most 2 a site)`
        : `place them so that no site holds more than ${most} (at least ${Math.ceil(n / most)} sites)`;
    issue(
      ctx,
      here[0]?.sitePath ?? ["cluster", "acceptSiteLoss"],
      `losing site "${site}" (control plane${here.length === 1 ? "" : "s"} ${here.map((m) => m.name).join(", ")}) leaves ${left} of ${n} control planes, ` +
        `fewer than etcd's quorum of ${quorum}, and the cluster would stop; ${fix}, or set talos-cluster:cluster.acceptSiteLoss: true to accept it`,
    );
  }
}

/**
 * In a stack of several platforms, names are unique across all of them (a node's name is its
 * hostname and Kubernetes node name); each platform's own duplicates are its own checks' (nodes:
 * checks.ts checkUnique, pools: by pool name).
 */
export function checkNamesAcrossPlatforms(root: Record<string, unknown>, ctx: Ctx) {
  const seen = new Map<string, SiteMember>();
  for (const m of siteMembers(root)) {
    const first = seen.get(m.name);
    if (first === undefined) seen.set(m.name, m);
    else if (platformOf(first) !== platformOf(m)) {
      issue(ctx, m.namePath, `makes node "${m.name}", already the name of a node of ${first.from}; a name is a hostname and Kubernetes node name, unique across every platform of the stack`);
    }
  }
}

/** "nodes", "hetzner.pools": the list a member comes from. */
const platformOf = (m: SiteMember) => m.from.replace(/\[\d+\]$/, "");

/**
 * The LAN's addresses stay apart from the Hetzner network: a LAN node's address or static
 * subnet inside hetzner.networkCidr would be routed two ways (the LAN, and KubeSpan to the cloud
 * nodes' private addresses), and the kubelet and etcd subnets that pick each node's address
 * (the Hetzner ones by hetzner.subnetCidr) would match the wrong node.
 */
export function checkHybridNetworks(root: Record<string, unknown>, ctx: Ctx) {
  if (root.hetzner === undefined || root.nodes === undefined) return;
  const network = parseCidr(str(record(root.hetzner).networkCidr) ?? "10.0.0.0/16");
  if (!network) return;
  list(root.nodes).forEach((n, i) => {
    const node = record(n);
    const address = parseIpv4(str(node.address) ?? "");
    if (address !== undefined && contains(network, address)) {
      issue(ctx, ["nodes", i, "address"], `${str(node.address)} is inside hetzner.networkCidr ${network.text}; LAN and Hetzner addresses must not overlap: give the Hetzner network a range the LAN does not use`);
    }
    list(record(node.network).addresses).forEach((a, j) => {
      const net = parseCidr(str(a) ?? "", false);
      if (net && overlaps(net, network)) {
        issue(ctx, ["nodes", i, "network", "addresses", j], `${str(a)} overlaps hetzner.networkCidr ${network.text}; LAN and Hetzner networks must not overlap`);
      }
    });
  });
}
