// Cross-field rules about nodes (static addressing, pod address space)
// and certificates, each refusing a config that would otherwise fail halfway through an `up` or
// leave a broken cluster. They read the raw value defensively (see check-helpers.ts).
import { Ctx, issue, list, record, str } from "./check-helpers";
import { Cidr, contains, formatIpv4, LOOPBACK, parseCidr, parseIpv4 } from "./ip";

/** Talos's kube-controller-manager gives every node a /24 of the pod CIDR (its default --node-cidr-mask-size-ipv4). */
const NODE_POD_PREFIX = 24;
/** kube-apiserver refuses an IPv4 --service-cluster-ip-range wider than /12 (cmd/kube-apiserver/app/options/validation.go: at most 20 host bits). */
const WIDEST_SERVICE_PREFIX = 12;

export function checkNodeRules(root: Record<string, unknown>, cluster: Record<string, unknown>, nodes: Record<string, unknown>[], ctx: Ctx) {
  checkLoopback(cluster, nodes, ctx);
  nodes.forEach((node, i) => checkStaticNetwork(node, i, nodes, ctx));
  // A worker's labels and taints the kubelet may not set are no problem here: they go through the
  // Kubernetes API (config/node-restriction.ts, components/talos/node-metadata.ts).
  // Every platform's nodes count (a hybrid stack has several; `nodes` is empty without a nodes list).
  const hetzner = record(root.hetzner);
  const poolServers = list(hetzner.pools).reduce<number>((n, p) => n + (typeof record(p).count === "number" ? (record(p).count as number) : 0), 0);
  const nodeCount = poolServers + list(hetzner.dedicated).length + nodes.length;
  checkClusterRanges(cluster, nodeCount, ctx);
}

/**
 * A loopback address is the machine running Pulumi, not a node, and as the endpoint every kubelet
 * would dial itself; only local stand-ins (tests) may use one, with an explicit opt-in.
 */
function checkLoopback(cluster: Record<string, unknown>, nodes: Record<string, unknown>[], ctx: Ctx) {
  if (cluster.allowLoopbackAddresses === true) return;
  const loopback = parseCidr(LOOPBACK)!;
  const why = (text: string) => `${text} is a loopback address (127.0.0.0/8), the machine running Pulumi, not a node; set talos-cluster:cluster.allowLoopbackAddresses: true only for stand-ins on this machine`;
  nodes.forEach((node, i) => {
    const ip = parseIpv4(str(node.address) ?? "");
    if (ip !== undefined && contains(loopback, ip)) issue(ctx, ["nodes", i, "address"], why(str(node.address)!));
  });
  const endpoint = str(cluster.endpoint);
  let host: number | undefined;
  try {
    host = endpoint ? parseIpv4(new URL(endpoint).hostname) : undefined;
  } catch {
    host = undefined;
  }
  if (host !== undefined && contains(loopback, host)) issue(ctx, ["cluster", "endpoint"], why(formatIpv4(host)));
}

/**
 * A node with static addressing answers only on its static addresses once its config is applied, so
 * `address` (where the program reaches it for bootstrap, health and upgrades) must be one of them.
 */
function checkStaticNetwork(node: Record<string, unknown>, i: number, nodes: Record<string, unknown>[], ctx: Ctx) {
  if (node.network === undefined) return;
  const network = record(node.network);
  const addresses = list(network.addresses).map((a) => str(a) ?? "");
  const hosts = addresses.map((a) => parseIpv4(a.split("/")[0] ?? "")).filter((ip): ip is number => ip !== undefined);
  const address = parseIpv4(str(node.address) ?? "");
  if (address !== undefined && hosts.length === addresses.length && hosts.length && !hosts.includes(address)) {
    issue(ctx, ["nodes", i, "address"], `${str(node.address)} is not one of the node's static addresses (${addresses.join(", ")}); once configured the node answers only there`);
  }
  // Another node's address or static address, given to this node too.
  addresses.forEach((a, j) => {
    const ip = parseIpv4(a.split("/")[0] ?? "");
    if (ip === undefined) return;
    const other = nodes.findIndex((n, k) => k !== i && (parseIpv4(str(n.address) ?? "") === ip || list(record(n.network).addresses).some((b) => parseIpv4((str(b) ?? "").split("/")[0] ?? "") === ip)));
    if (other >= 0) issue(ctx, ["nodes", i, "network", "addresses", j], `${formatIpv4(ip)} is also nodes[${other}]'s address`);
  });
  const gateway = parseIpv4(str(network.gateway) ?? "");
  if (gateway === undefined) return;
  if (hosts.includes(gateway)) {
    issue(ctx, ["nodes", i, "network", "gateway"], `${str(network.gateway)} is the node's own address; the gateway is another machine`);
    return;
  }
  const subnet = addresses.map((a) => parseCidr(a, false)).find((c): c is Cidr => c !== undefined && contains(c, gateway));
  if (subnet && subnet.prefix <= 30 && (gateway === subnet.first || gateway === subnet.last)) {
    issue(ctx, ["nodes", i, "network", "gateway"], `${str(network.gateway)} is the ${gateway === subnet.first ? "network" : "broadcast"} address of ${formatIpv4(subnet.first)}/${subnet.prefix}, not a gateway`);
  }
}

function checkClusterRanges(cluster: Record<string, unknown>, nodeCount: number, ctx: Ctx) {
  const pod = parseCidr(str(cluster.podCidr) ?? "10.244.0.0/16");
  if (pod && pod.prefix > NODE_POD_PREFIX) {
    issue(ctx, ["cluster", "podCidr"], `${pod.text} is smaller than the /${NODE_POD_PREFIX} every node takes from it; use /${NODE_POD_PREFIX} or wider`);
  } else if (pod && 2 ** (NODE_POD_PREFIX - pod.prefix) < nodeCount) {
    issue(ctx, ["cluster", "podCidr"], `${pod.text} holds ${2 ** (NODE_POD_PREFIX - pod.prefix)} node ranges of /${NODE_POD_PREFIX}, but the cluster has ${nodeCount} nodes; nodes without one never get pod addresses`);
  }
  const service = parseCidr(str(cluster.serviceCidr) ?? "10.96.0.0/12");
  if (service && service.prefix < WIDEST_SERVICE_PREFIX) {
    issue(ctx, ["cluster", "serviceCidr"], `${service.text} is wider than the /${WIDEST_SERVICE_PREFIX} kube-apiserver accepts for services`);
  }
}

/**
 * The tls provider computes notAfter as now + time.Duration(hours) * time.Hour, which overflows Go's
 * int64 nanoseconds beyond 2,562,047 hours (292 years) and yields a certificate that expired before it was made.
 */
export const MAX_VALIDITY_HOURS = 2_562_047;

/** Linkerd's chain: the issuer is signed by the trust anchor and must not outlive it. */
export function checkCertificates(addons: Record<string, unknown>, ctx: Ctx) {
  const linkerd = record(addons.linkerd);
  const anchor = typeof linkerd.trustAnchorValidityHours === "number" ? linkerd.trustAnchorValidityHours : 87600;
  const issuer = typeof linkerd.issuerValidityHours === "number" ? linkerd.issuerValidityHours : 8760;
  for (const [field, hours] of [["trustAnchorValidityHours", anchor], ["issuerValidityHours", issuer]] as const) {
    if (hours > MAX_VALIDITY_HOURS) issue(ctx, ["addons", "linkerd", field], `${hours} hours is beyond the ${MAX_VALIDITY_HOURS} (292 years) a certificate lifetime can be computed with`);
  }
  if (issuer >= anchor && anchor <= MAX_VALIDITY_HOURS) {
    issue(ctx, ["addons", "linkerd", "issuerValidityHours"], `${issuer} hours is not shorter than the trust anchor's ${anchor}; an issuer must expire before the anchor that signs it`);
  }
}
