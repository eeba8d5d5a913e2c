// addons.loadBalancer.addresses: the Cilium LB IPAM pool, checked against what else owns
// addresses on the cluster's network. Cross-field, on the raw config (like config/checks.ts).
import { Ctx, issue, list, record, str } from "./check-helpers";
import { Cidr, contains, formatIpv4, overlaps, parseCidr, parseIpv4 } from "./ip";

/**
 * Each block: an IPv4 CIDR; not overlapping another block, the pod or service network; holding no
 * node's address; inside a node network where the nodes have static networks. Only with Cilium
 * (its LB IPAM and L2 announcements) and not on Hetzner (no L2 segment to announce on).
 */
export function checkLoadBalancer(root: Record<string, unknown>, ctx: Ctx): void {
  const addons = record(root.addons);
  const addresses = list(record(addons.loadBalancer).addresses);
  if (!addresses.length) return;
  const at = ["addons", "loadBalancer", "addresses"];
  if (root.hetzner !== undefined) {
    issue(ctx, at, "not on a Hetzner cluster: Hetzner's network carries no L2 announcements");
    return;
  }
  const cilium = record(addons.cilium).enabled;
  if (cilium === false) issue(ctx, at, "needs addons.cilium (the pool is Cilium's LB IPAM)");
  const cluster = record(root.cluster);
  const nodes = list(root.nodes).map(record);
  const networks: { name: string; cidr: Cidr }[] = nodes.flatMap((n) =>
    list(record(n.network).addresses).flatMap((a) => {
      const cidr = parseCidr(String(a), false);
      return cidr ? [{ name: String(n.name), cidr: { ...cidr, text: `${formatNet(cidr)}` } }] : [];
    }),
  );
  const blocks: (Cidr | undefined)[] = addresses.map((a) => parseCidr(String(a)));
  blocks.forEach((block, i) => {
    const path = [...at, i];
    if (!block) {
      issue(ctx, path, "must be an IPv4 CIDR without host bits, e.g. 10.0.1.240/28");
      return;
    }
    for (const [field, fallback, what] of [["podCidr", "10.244.0.0/16", "pod"], ["serviceCidr", "10.96.0.0/12", "service"]] as const) {
      const text = str(cluster[field]) ?? fallback;
      const other = parseCidr(text);
      if (other && overlaps(block, other)) issue(ctx, path, `overlaps the ${what} network ${text} (cluster.${field})`);
    }
    for (let j = 0; j < i; j++) {
      const earlier = blocks[j];
      if (earlier && overlaps(block, earlier)) issue(ctx, path, `overlaps addresses[${j}] ${earlier.text}`);
    }
    for (const n of nodes) {
      const ip = parseIpv4(String(n.address));
      if (ip !== undefined && contains(block, ip)) issue(ctx, path, `holds node ${String(n.name)}'s address ${String(n.address)}`);
    }
    if (networks.length && !networks.some((net) => block.first >= net.cidr.first && block.last <= net.cidr.last)) {
      const seen = [...new Set(networks.map((net) => net.cidr.text))].join(", ");
      issue(ctx, path, `is outside every node network (${seen}): L2 announcements reach only the nodes' own segment`);
    }
  });
}

function formatNet(cidr: Cidr): string {
  return `${formatIpv4(cidr.first)}/${cidr.prefix}`;
}
