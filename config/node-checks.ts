// Cross-field rules about nodes (static addressing, labels the node may set, pod address space)
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
  nodes.forEach((node, i) => {
    if (node.role !== "worker") return;
    const name = str(node.name) ?? "<node>";
    checkWorkerLabels(record(node.labels), ["nodes", i, "labels"], name, ctx);
    checkWorkerTaints(record(node.taints), ["nodes", i, "taints"], name, ctx);
  });
  list(record(root.hetzner).pools).forEach((pool, k) => {
    if (record(pool).role !== "worker") return;
    // A pool's servers are named <cluster>-<pool>-<n> (config/hetzner.ts).
    const name = `<each ${str(record(pool).name) ?? "pool"} server>`;
    checkWorkerLabels(record(record(pool).labels), ["hetzner", "pools", k, "labels"], name, ctx);
    checkWorkerTaints(record(record(pool).taints), ["hetzner", "pools", k, "taints"], name, ctx);
  });
  // A hybrid stack has both (config/sites.ts); `nodes` is empty without a nodes list.
  const nodeCount = list(record(root.hetzner).pools).reduce<number>((n, p) => n + (typeof record(p).count === "number" ? (record(p).count as number) : 0), 0) + nodes.length;
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

// Who applies a node's labels and taints: Talos's NodeApplyController (machine.nodeLabels,
// machine.nodeTaints) patches the Node object with admin credentials on a control plane, but with
// the kubelet's own credentials on a worker (siderolabs/talos v1.10-v1.13
// internal/app/machined/pkg/controllers/k8s/node_apply.go, getK8sClient). Talos always enables the
// NodeRestriction admission plugin, which limits what a kubelet may do to its own Node
// (https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#noderestriction):
//   - labels: none under node-restriction.kubernetes.io; under kubernetes.io and k8s.io only the
//     kubelet's own ones (the list the kubelet documents for --node-labels,
//     https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/, and
//     k8s.io/kubelet/pkg/apis IsKubeletLabel), anything else in other domains;
//   - taints: no change at all after registration ("node %q is not allowed to modify taints"), so
//     Talos never applies a worker's nodeTaints (Talos's own config docs say so).
// Refused here, each with the alternative: seed 002 sets both with kubectl once the cluster runs.
const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/arch",
  "kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
]);
/** Label domains (and their subdomains) a kubelet may set freely. */
const KUBELET_LABEL_DOMAINS = ["kubelet.kubernetes.io", "node.kubernetes.io"];
const inDomain = (prefix: string, domain: string) => prefix === domain || prefix.endsWith(`.${domain}`);

/** Whether NodeRestriction refuses this label when a node sets it on itself. */
export function kubeletMayNotSet(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return false;
  const prefix = key.slice(0, slash);
  if (inDomain(prefix, "node-restriction.kubernetes.io")) return true;
  if (!inDomain(prefix, "kubernetes.io") && !inDomain(prefix, "k8s.io")) return false;
  return !KUBELET_LABELS.has(key) && !KUBELET_LABEL_DOMAINS.some((d) => inDomain(prefix, d));
}

function checkWorkerLabels(labels: Record<string, unknown>, path: (string | number)[], node: string, ctx: Ctx) {
  for (const [key, value] of Object.entries(labels)) {
    if (kubeletMayNotSet(key)) {
      issue(
        ctx,
        [...path, key],
        "a worker sets its labels with its kubelet's credentials, and the NodeRestriction admission plugin refuses kubernetes.io and k8s.io labels " +
          "other than the kubelet's own (node.kubernetes.io/*, kubelet.kubernetes.io/*, topology.kubernetes.io/zone|region, kubernetes.io/hostname|arch|os); " +
          `use your own prefix (e.g. example.com/role), or set it once the cluster runs: kubectl label node ${node} ${key}=${str(value) ?? ""}`,
      );
    }
  }
}

function checkWorkerTaints(taints: Record<string, unknown>, path: (string | number)[], node: string, ctx: Ctx) {
  for (const [key, value] of Object.entries(taints)) {
    // kubectl's own forms: key=value:Effect, or key:Effect without a value.
    const taint = (str(value) ?? "").startsWith(":") ? `${key}${str(value)}` : `${key}=${str(value) ?? ""}`;
    issue(
      ctx,
      [...path, key],
      "a worker sets its taints with its kubelet's credentials, and the NodeRestriction admission plugin refuses any change a node makes to its own taints, so Talos never applies them; " +
        `taint it once the cluster runs: kubectl taint node ${node} ${taint} (seed 002), or select it with a label of your own prefix`,
    );
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
