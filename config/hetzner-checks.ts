// Hetzner Cloud's own limits, checked before anything is created so an `up` never stops halfway
// with some servers made and others refused. Reads the raw value defensively (see check-helpers.ts).
import { Ctx, issue, list, record, str } from "./check-helpers";
import { HETZNER_NETWORK_ZONES } from "./fields";
import { Cidr, coverEverything, parseCidr, RFC1918 } from "./ip";

/** A spread placement group holds at most 10 servers (Hetzner Cloud docs, "Placement groups"). */
export const SPREAD_GROUP_LIMIT = 10;
/** Server names must be valid hostnames (RFC 1123): one label, at most 63 characters (Hetzner Cloud API, POST /servers `name`). */
const HOSTNAME_LIMIT = 63;

/** The CPU architecture of a server type: Hetzner's CAX line is Arm64 (Ampere), the others x86-64 (components/hetzner/talos-snapshots.ts). */
const architectureOf = (serverType: string) => (serverType.startsWith("cax") ? "arm64" : "amd64");

export function checkHetznerLimits(hetzner: Record<string, unknown>, clusterName: string | undefined, ctx: Ctx) {
  const pools = list(hetzner.pools).map(record);
  const count = (p: Record<string, unknown>) => (typeof p.count === "number" && p.count > 0 ? p.count : 0);

  // One spread placement group per role.
  for (const role of ["controlplane", "worker"]) {
    const servers = pools.filter((p) => p.role === role).reduce((n, p) => n + count(p), 0);
    if (servers > SPREAD_GROUP_LIMIT) {
      issue(ctx, ["hetzner", "pools"], `has ${servers} ${role} servers, but they share one spread placement group and Hetzner allows at most ${SPREAD_GROUP_LIMIT} servers in it`);
    }
  }

  pools.forEach((p, k) => {
    const name = str(p.name);
    const longest = clusterName && name ? `${clusterName}-${name}-${Math.max(count(p), 1)}` : undefined;
    if (longest && longest.length > HOSTNAME_LIMIT) {
      issue(ctx, ["hetzner", "pools", k, "name"], `makes server names like ${longest} (${longest.length} characters); a hostname has at most ${HOSTNAME_LIMIT}`);
    }
  });

  // A snapshot named by hetzner.image is built for one architecture; without it, `up` builds one per architecture.
  const types = pools.map((p) => str(p.serverType));
  const first = types.findIndex((t) => t !== undefined);
  if (hetzner.image !== undefined) {
    types.forEach((type, k) => {
      if (first < 0 || k === first || type === undefined || architectureOf(type) === architectureOf(types[first]!)) return;
      issue(ctx, ["hetzner", "pools", k, "serverType"], `${type} is ${architectureOf(type)}, but pools[${first}]'s ${types[first]} is ${architectureOf(types[first]!)}; every server boots the one snapshot hetzner.image names, built for one architecture (leave hetzner.image out and up builds one per architecture)`);
    });
  }

  // The subnet lives in the network zone of hetzner.location; a server joins subnets of its own zone only.
  const location = str(hetzner.location) ?? "fsn1";
  const zone = HETZNER_NETWORK_ZONES[location];
  pools.forEach((p, k) => {
    const own = str(p.location);
    const ownZone = own === undefined ? undefined : HETZNER_NETWORK_ZONES[own];
    if (zone && ownZone && ownZone !== zone) {
      issue(ctx, ["hetzner", "pools", k, "location"], `${own} is in network zone ${ownZone}, but the private subnet is in ${zone} (hetzner.location ${location}); its servers could not join the network`);
    }
  });

  // Hetzner networks: an RFC 1918 range of at least /24 (Hetzner Cloud API, POST /networks `ip_range`).
  const network = parseCidr(str(hetzner.networkCidr) ?? "10.0.0.0/16");
  if (network && !RFC1918.some((r) => network.first >= r.first && network.last <= r.last)) {
    issue(ctx, ["hetzner", "networkCidr"], `${network.text} is not inside a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), which Hetzner networks require`);
  } else if (network && network.prefix > 24) {
    issue(ctx, ["hetzner", "networkCidr"], `${network.text} is smaller than the /24 Hetzner networks need at least`);
  }

  const admin = list(hetzner.adminCidrs).map((c) => parseCidr(str(c) ?? "")).filter((c): c is Cidr => c !== undefined);
  if (admin.length && coverEverything(admin) && hetzner.allowAdminFromInternet !== true) {
    issue(
      ctx,
      ["hetzner", "adminCidrs"],
      `${admin.map((c) => c.text).join(", ")} opens the Talos API (50000) and the Kubernetes API (6443) to the whole internet; ` +
        "list your own networks, or set talos-cluster:hetzner.allowAdminFromInternet: true to accept it",
    );
  }
}
