// Cross-field checks on the stack config. They run even when some fields already failed
// (so every problem is reported at once), hence they read the value defensively.
import type { z } from "zod";
import { Cidr, contains, overlaps, parseCidr, parseIpv4 } from "./ip";

type Ctx = z.core.$RefinementCtx<unknown>;
type Path = (string | number)[];

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const record = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function issue(ctx: Ctx, path: Path, message: string) {
  ctx.addIssue({ code: "custom", path, message });
}

/** Runs every cross-field check; registered with `when: () => true` so it runs despite field errors. */
export function crossFieldChecks(value: unknown, ctx: Ctx): void {
  const root = record(value);
  const cluster = record(root.cluster);
  const nodes = Array.isArray(root.nodes) ? root.nodes.map(record) : [];
  checkUnique(nodes, "name", ctx);
  checkUnique(nodes, "address", ctx);
  // A missing node list is already reported as required; counting its control planes adds noise.
  if (Array.isArray(root.nodes)) checkControlPlanes(nodes, cluster, ctx);
  checkNetworks(cluster, nodes, ctx);
  checkDisks(nodes, ctx);
  checkAddons(record(root.addons), cluster, nodes, ctx);
}

/** Add-ons that cannot work with the rest of the config; `enabled` defaults as in the schema. */
function checkAddons(addons: Record<string, unknown>, cluster: Record<string, unknown>, nodes: Record<string, unknown>[], ctx: Ctx) {
  const enabled = (name: string, byDefault: boolean) => {
    const v = record(addons[name]).enabled;
    return typeof v === "boolean" ? v : byDefault;
  };
  const cni = cluster.cni ?? "cilium";
  if (cni === "cilium" && !enabled("cilium", true)) {
    issue(ctx, ["addons", "cilium", "enabled"], "is false while cluster.cni is cilium: the cluster would have no CNI; enable it or set cluster.cni: flannel");
  }
  if (cni === "flannel" && enabled("cilium", true)) {
    issue(ctx, ["addons", "cilium", "enabled"], "needs cluster.cni: cilium; with flannel, Talos would run its own CNI beside Cilium");
  }
  if (enabled("rookCeph", false) && !nodes.some((n) => Array.isArray(n.dataDisks) && n.dataDisks.length > 0)) {
    issue(ctx, ["addons", "rookCeph", "enabled"], "needs at least one node with dataDisks for Ceph OSDs");
  }
  if (enabled("linkerd", false) && !enabled("gatewayApi", false)) {
    issue(ctx, ["addons", "linkerd", "enabled"], "needs the Gateway API CRDs (seed 003); set addons.gatewayApi.enabled: true");
  }
}

function checkUnique(nodes: Record<string, unknown>[], field: "name" | "address", ctx: Ctx) {
  const seen = new Map<string, number>();
  nodes.forEach((node, i) => {
    const v = str(node[field]);
    if (v === undefined) return;
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else issue(ctx, ["nodes", i, field], `duplicate ${field} "${v}", already used by nodes[${first}]`);
  });
}

function checkControlPlanes(nodes: Record<string, unknown>[], cluster: Record<string, unknown>, ctx: Ctx) {
  const count = nodes.filter((n) => n.role === "controlplane").length;
  if (count === 0) {
    issue(ctx, ["nodes"], "needs at least one node with role \"controlplane\" (it runs etcd and the Kubernetes API)");
  } else if (count % 2 === 0 && cluster.allowEvenControlPlanes !== true) {
    issue(
      ctx,
      ["nodes"],
      `has ${count} control planes: refused, because etcd needs a majority and ${count} members tolerate no more failures than ${count - 1}; ` +
        `use ${count - 1} or ${count + 1}, or set cluster.allowEvenControlPlanes: true to accept it`,
    );
  }
}

function checkNetworks(cluster: Record<string, unknown>, nodes: Record<string, unknown>[], ctx: Ctx) {
  const pod = parseCidr(str(cluster.podCidr) ?? "10.244.0.0/16");
  const service = parseCidr(str(cluster.serviceCidr) ?? "10.96.0.0/12");
  const networks: [string, Cidr | undefined][] = [["podCidr", pod], ["serviceCidr", service]];
  if (pod && service && overlaps(pod, service)) {
    issue(ctx, ["cluster", "serviceCidr"], `${service.text} overlaps podCidr ${pod.text}; pods and services need separate ranges`);
  }
  const inClusterNetwork = (ip: number | undefined) => networks.find(([, net]) => net && ip !== undefined && contains(net, ip));
  nodes.forEach((node, i) => {
    const hit = inClusterNetwork(parseIpv4(str(node.address) ?? ""));
    if (hit) issue(ctx, ["nodes", i, "address"], `${str(node.address)} is inside ${hit[0]} ${hit[1]!.text}; node addresses must be outside the pod and service networks`);
    const network = record(node.network);
    const addresses = Array.isArray(network.addresses) ? network.addresses : [];
    addresses.forEach((a, j) => {
      const net = parseCidr(str(a) ?? "", false);
      const clash = net && networks.find(([, n]) => n && overlaps(n, net));
      if (clash) issue(ctx, ["nodes", i, "network", "addresses", j], `${str(a)} overlaps ${clash[0]} ${clash[1]!.text}`);
    });
    const gateway = parseIpv4(str(network.gateway) ?? "");
    const subnets = addresses.map((a) => parseCidr(str(a) ?? "", false)).filter((c): c is Cidr => c !== undefined);
    if (gateway !== undefined && subnets.length && !subnets.some((s) => contains(s, gateway))) {
      issue(ctx, ["nodes", i, "network", "gateway"], `${str(network.gateway)} is not inside any of the node's addresses (${subnets.map((s) => s.text).join(", ")})`);
    }
  });
  const endpoint = str(cluster.endpoint);
  if (endpoint) {
    const host = parseIpv4(safeHostname(endpoint));
    const hit = inClusterNetwork(host);
    if (hit) issue(ctx, ["cluster", "endpoint"], `${endpoint} points into ${hit[0]} ${hit[1]!.text}, which is not reachable from outside the cluster`);
  }
}

function safeHostname(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

function checkDisks(nodes: Record<string, unknown>[], ctx: Ctx) {
  nodes.forEach((node, i) => {
    const install = str(node.installDisk) ?? "/dev/sda";
    const data = Array.isArray(node.dataDisks) ? node.dataDisks : [];
    data.forEach((d, j) => {
      if (d === install) issue(ctx, ["nodes", i, "dataDisks", j], `${install} is the install disk; data disks must be other disks`);
    });
  });
}
