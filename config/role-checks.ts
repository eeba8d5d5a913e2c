// Kind 2 of the meaning rules (config/README.md): roles that no machine can fill. A setting that
// needs a machine (an API server behind the endpoint, a node that runs pods, a cluster that gets
// add-ons) is refused when the stack has none that can do it.
import { Ctx, issue, list, record, str } from "./check-helpers";
import { parseIpv4 } from "./ip";

const hostOf = (url: string): number | undefined => {
  try {
    return parseIpv4(new URL(url).hostname);
  } catch {
    return undefined;
  }
};

/** A node's addresses: where it is reached, and its static ones. */
const addressesOf = (node: Record<string, unknown>) => [str(node.address), ...list(record(node.network).addresses).map((a) => (str(a) ?? "").split("/")[0])].map((a) => parseIpv4(a ?? ""));

export function checkRoles(root: Record<string, unknown>, cluster: Record<string, unknown>, nodes: Record<string, unknown>[], ctx: Ctx): void {
  // Only control planes run kube-apiserver: a worker's address answers nothing on the API port.
  const endpoint = str(cluster.endpoint);
  const host = endpoint === undefined ? undefined : hostOf(endpoint);
  if (host !== undefined) {
    const i = nodes.findIndex((n) => n.role === "worker" && addressesOf(n).includes(host));
    if (i >= 0) {
      issue(
        ctx,
        ["cluster", "endpoint"],
        `${endpoint} is worker ${str(nodes[i]!.name) ?? `nodes[${i}]`}'s address (nodes[${i}]), where no API server runs (only control planes run kube-apiserver); ` +
          "point it at a control plane, at cluster.vip, or at a load balancer in front of the control planes",
      );
    }
  }
  // Pods (CoreDNS, every add-on) need a schedulable node: workers, or control planes that allow it.
  // Pools and nodes both count (a hybrid stack has both; `nodes` is empty without a nodes list).
  const workers = list(record(root.hetzner).pools).filter((p) => record(p).role === "worker" && Number(record(p).count) > 0).length + nodes.filter((n) => n.role === "worker").length;
  if (cluster.allowSchedulingOnControlPlanes === false && workers === 0) {
    issue(
      ctx,
      ["cluster", "allowSchedulingOnControlPlanes"],
      "is false, but the stack has no workers: no node could run a pod (CoreDNS, Cilium's operator, every add-on); add a worker, or remove it (the default with no workers is true)",
    );
  }
  // Add-ons, backups included, are installed only on a cluster the program applies and bootstraps.
  const backup = record(root.backup);
  if (root.backup !== undefined && backup.enabled !== false && cluster.applyNodes === false) {
    issue(
      ctx,
      ["backup", "enabled"],
      "is on, but cluster.applyNodes is false: a stack that only renders configs installs nothing in the cluster, so no snapshot would ever be taken; set cluster.applyNodes: true, or backup.enabled: false",
    );
  }
}
