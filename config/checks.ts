// Cross-field checks on the stack config. They run even when some fields already failed
// (so every problem is reported at once), hence they read the value defensively.
import { Ctx, issue, Path, record, str } from "./check-helpers";
import { checkBackupAndRecovery } from "./backup";
import { checkConfigContract } from "./contract-checks";
import { checkEndpointAndVip, checkRemoveUnreachable } from "./endpoint-checks";
import { checkGatewayAndViz } from "./gateway-checks";
import { checkHetznerLimits } from "./hetzner-checks";
import { checkLoadBalancer } from "./load-balancer-checks";
import { Cidr, contains, overlaps, parseCidr, parseIpv4 } from "./ip";
import { checkCertificates, checkNodeRules } from "./node-checks";
import { checkSynology } from "./synology";
import { checkHybridNetworks, checkNamesAcrossPlatforms, checkSiteQuorum, siteMembers } from "./sites";
// The meaning rules of config/README.md, one file per kind (kind 6's field rules: disk-paths.ts).
import { checkValuePremises } from "./premise-checks";
import { checkRoles } from "./role-checks";
import { checkBudgets } from "./budget-checks";
import { checkBaseUrls } from "./base-urls";
import { checkPrivileges } from "./privilege-checks";
import { checkVmDataDisks } from "./disk-paths";

/** Runs every cross-field check; registered with `when: () => true` so it runs despite field errors. */
export function crossFieldChecks(value: unknown, ctx: Ctx): void {
  const root = record(value);
  const cluster = record(root.cluster);
  const nodes = Array.isArray(root.nodes) ? root.nodes.map(record) : [];
  checkUnique(nodes, "name", ctx);
  checkUnique(nodes, "address", ctx);
  const hybrid = root.hetzner !== undefined && root.nodes !== undefined;
  if (root.hetzner !== undefined) {
    checkHetzner(record(root.hetzner), cluster, root.hcloudToken, ctx, hybrid, siteMembers(root).map((m) => m.role));
    // A hybrid stack (config/sites.ts): etcd counts every control plane, LAN and cloud.
    if (hybrid) checkControlPlanes(siteMembers(root).map((m) => m.role), ["nodes"], "nodes", cluster, ctx);
  } else if (root.nodes === undefined) {
    issue(ctx, ["nodes"], "required");
  } else if (Array.isArray(root.nodes)) {
    checkControlPlanes(nodes.map((n) => n.role), ["nodes"], "nodes", cluster, ctx);
  }
  if (root.hcloudToken !== undefined && root.hetzner === undefined) {
    issue(ctx, ["hcloudToken"], "is set but the stack has no talos-cluster:hetzner section");
  }
  checkNetworks(cluster, nodes, ctx);
  checkDisks(nodes, ctx);
  checkAddons(record(root.addons), cluster, nodes, root.hetzner !== undefined, ctx);
  checkGatewayAndViz(record(root.addons), ctx);
  checkLoadBalancer(root, ctx);
  checkNodeRules(root, cluster, nodes, ctx);
  checkEndpointAndVip(root, cluster, nodes, ctx);
  checkRemoveUnreachable(root, cluster, nodes, ctx);
  checkCertificates(record(root.addons), ctx);
  checkConfigContract(root, cluster, ctx);
  checkBackupAndRecovery(root, ctx);
  checkSynology(root, ctx);
  checkValuePremises(record(root.addons), cluster, nodes, ctx);
  checkRoles(root, cluster, nodes, ctx);
  checkBudgets(root, cluster, nodes, ctx);
  checkBaseUrls(root, ctx);
  checkPrivileges(root, ctx);
  checkVmDataDisks(nodes, ctx);
  checkSiteQuorum(root, ctx);
  if (hybrid) checkHybrid(root, cluster, ctx);
}

/**
 * A stack of LAN nodes and Hetzner servers (README, "Hybrid clusters"): one name space and
 * separate address ranges, KubeSpan between them, and nothing that assumes every node is a
 * Hetzner server.
 */
function checkHybrid(root: Record<string, unknown>, cluster: Record<string, unknown>, ctx: Ctx) {
  checkNamesAcrossPlatforms(root, ctx);
  checkHybridNetworks(root, ctx);
  if (record(cluster.kubespan).enabled === false) {
    issue(ctx, ["cluster", "kubespan", "enabled"], "is false in a stack of LAN nodes and Hetzner servers: they reach each other's private addresses only through KubeSpan; remove it (the default is true here)");
  }
  // The controller's node lifecycle deletes a Node whose server Hetzner does not know: every LAN node.
  if (record(record(root.addons).hcloudCcm).enabled === true) {
    issue(ctx, ["addons", "hcloudCcm", "enabled"], "is true in a stack with LAN nodes: the Hetzner cloud controller would find no Hetzner server for them and delete their Node objects; remove it (the default is false here)");
  }
}

/** Add-ons that cannot work with the rest of the config; `enabled` defaults as in the schema. */
function checkAddons(addons: Record<string, unknown>, cluster: Record<string, unknown>, nodes: Record<string, unknown>[], hetzner: boolean, ctx: Ctx) {
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
  // The controller talks to Hetzner's API about the servers this stack created: nothing to do elsewhere.
  if (!hetzner && enabled("hcloudCcm", false)) {
    issue(ctx, ["addons", "hcloudCcm", "enabled"], "is only for a Hetzner cluster (talos-cluster:hetzner): the Hetzner cloud controller manages Hetzner servers and load balancers");
  }
  if (enabled("linkerd", false) && !enabled("gatewayApi", false)) {
    issue(ctx, ["addons", "linkerd", "enabled"], "needs the Gateway API CRDs (seed 003); set addons.gatewayApi.enabled: true");
  }
}

function checkUnique(items: Record<string, unknown>[], field: "name" | "address", ctx: Ctx, list = "nodes") {
  const seen = new Map<string, number>();
  const path = list.split(".");
  items.forEach((item, i) => {
    const v = str(item[field]);
    if (v === undefined) return;
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else issue(ctx, [...path, i, field], `duplicate ${field} "${v}", already used by ${list}[${first}]`);
  });
}

function checkControlPlanes(roles: readonly unknown[], path: Path, what: string, cluster: Record<string, unknown>, ctx: Ctx) {
  const count = roles.filter((r) => r === "controlplane").length;
  if (count === 0) {
    issue(ctx, path, `needs at least one ${what === "nodes" ? "node" : "server"} with role "controlplane" (it runs etcd and the Kubernetes API)`);
  } else if (count % 2 === 0 && cluster.allowEvenControlPlanes !== true) {
    issue(
      ctx,
      path,
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

/** Where pool k's n-th server (n from 1) sits in the subnet: each pool owns a block of 50 addresses. */
export function hetznerAddressOffset(pool: number, n: number): number {
  return 10 + 50 * pool + n;
}

function checkHetzner(hetzner: Record<string, unknown>, cluster: Record<string, unknown>, token: unknown, ctx: Ctx, hybrid: boolean, roles: readonly unknown[]) {
  if (token === undefined) {
    issue(ctx, ["hcloudToken"], "required for a Hetzner cluster: bash scripts/stack.sh secret <stack> hcloud:token < token-file (refused while the stack is on the demo passphrase)");
  }
  const pools = Array.isArray(hetzner.pools) ? hetzner.pools.map(record) : [];
  checkUnique(pools, "name", ctx, "hetzner.pools");
  // Every server's role, dedicated control planes too: etcd members all (config/sites.ts lists
  // every platform's nodes, counting only pool sizes the schema accepts).
  if (pools.length && !hybrid) checkControlPlanes(roles, ["hetzner", "pools"], "servers", cluster, ctx);

  const network = parseCidr(str(hetzner.networkCidr) ?? "10.0.0.0/16");
  const subnet = parseCidr(str(hetzner.subnetCidr) ?? "10.0.1.0/24");
  for (const [field, range] of [["podCidr", parseCidr(str(cluster.podCidr) ?? "10.244.0.0/16")], ["serviceCidr", parseCidr(str(cluster.serviceCidr) ?? "10.96.0.0/12")]] as const) {
    if (network && range && overlaps(network, range)) {
      issue(ctx, ["hetzner", "networkCidr"], `${network.text} overlaps ${field} ${range.text}; the private network must be outside the pod and service networks`);
    }
  }
  if (network && subnet && !(subnet.first >= network.first && subnet.last <= network.last)) {
    issue(ctx, ["hetzner", "subnetCidr"], `${subnet.text} is not inside networkCidr ${network.text}`);
  }
  if (subnet) {
    pools.forEach((p, k) => {
      const count = typeof p.count === "number" ? p.count : 0;
      if (count > 0 && subnet.first + hetznerAddressOffset(k, count) >= subnet.last) {
        issue(ctx, ["hetzner", "pools", k, "count"], `${count} servers do not fit in subnet ${subnet.text} (pool ${k + 1} starts at offset ${hetznerAddressOffset(k, 1)})`);
      }
    });
  }
  const image = record(hetzner.image);
  if (hetzner.image !== undefined && (image.snapshotId === undefined) === (image.selector === undefined)) {
    issue(ctx, ["hetzner", "image"], "needs exactly one of snapshotId or selector");
  }
  checkHetznerLimits(hetzner, str(cluster.name), ctx);
}

function checkDisks(nodes: Record<string, unknown>[], ctx: Ctx) {
  nodes.forEach((node, i) => {
    const install = str(node.installDisk) ?? "/dev/sda";
    // A data disk is a path or {path, wipe}: the path is what must differ from the install disk.
    const raw: unknown[] = Array.isArray(node.dataDisks) ? node.dataDisks : [];
    const data = raw.map((d) => (typeof d === "string" ? d : str(record(d).path)));
    data.forEach((d, j) => {
      const at = typeof raw[j] === "string" ? ["nodes", i, "dataDisks", j] : ["nodes", i, "dataDisks", j, "path"];
      // Never the install disk: a wipe (dataDisks[].wipe) or Rook would destroy the OS.
      if (d === install) issue(ctx, at, `${install} is the install disk; data disks must be other disks`);
      else if (d !== undefined && data.indexOf(d) < j) issue(ctx, at, `${d} is listed twice (first as dataDisks[${data.indexOf(d)}])`);
    });
  });
}
