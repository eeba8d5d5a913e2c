// Kind 5 of the meaning rules (config/README.md): choices that widen privileges. A namespace
// setting hands its namespace a right (Talos API access, a Pod Security level, internet-facing
// proxies); given to a namespace the system or another add-on already uses, every workload there
// would get it too, or lose what it needs.
import { Ctx, issue, record, str } from "./check-helpers";

/** Namespaces Kubernetes itself creates and uses; the kube- prefix is reserved for them (Kubernetes docs, "Namespaces"). */
export const SYSTEM_NAMESPACES = ["kube-system", "default", "kube-public", "kube-node-lease"];
const isSystem = (ns: string) => SYSTEM_NAMESPACES.includes(ns) || ns.startsWith("kube-");

/** The namespaces the program labels Pod Security `privileged` for its enabled add-ons (components/addons/privileged-namespace.ts). */
function privilegedAddonNamespaces(root: Record<string, unknown>): Record<string, string> {
  const addons = record(root.addons);
  const on = (name: string, byDefault: boolean) => (typeof record(addons[name]).enabled === "boolean" ? record(addons[name]).enabled === true : byDefault);
  const out: Record<string, string> = {};
  if (on("cilium", true) && (record(root.cluster).cni ?? "cilium") === "cilium") out.cilium = "Cilium";
  if (on("rookCeph", false)) out["rook-ceph"] = "Rook Ceph";
  if (on("linkerd", false)) out.linkerd = "Linkerd";
  return out;
}

export function checkPrivileges(root: Record<string, unknown>, ctx: Ctx): void {
  const addons = record(root.addons);
  const gatewayOn = record(addons.gateway).enabled === true;
  const gatewayNs = str(record(addons.gateway).namespace) ?? "gateway";
  const PRIVILEGED_ADDON_NAMESPACES = privilegedAddonNamespaces(root);

  // The backup namespace gets Talos API access (machine.features.kubernetesTalosAPIAccess admits
  // exactly it, with the os:etcd:backup role) and is labelled Pod Security `restricted`.
  if (root.backup !== undefined && record(root.backup).enabled !== false) {
    const ns = str(record(root.backup).namespace) ?? "talos-backup";
    const path = ["backup", "namespace"];
    if (isSystem(ns)) {
      issue(
        ctx,
        path,
        `${ns} is ${SYSTEM_NAMESPACES.includes(ns) ? "a namespace Kubernetes itself uses" : "in the kube- prefix Kubernetes reserves for itself"}: the backup namespace is the one allowed to ask Talos for API credentials (etcd snapshots) and is labelled Pod Security restricted, so every workload in ${ns} could read etcd and lose what restricted forbids; use a namespace of its own, e.g. talos-backup`,
      );
    } else if (PRIVILEGED_ADDON_NAMESPACES[ns]) {
      issue(ctx, path, `${ns} is ${PRIVILEGED_ADDON_NAMESPACES[ns]}'s namespace (Pod Security privileged): its pods could ask Talos for API credentials, and its restricted label would break them; use a namespace of its own, e.g. talos-backup`);
    } else if (gatewayOn && ns === gatewayNs) {
      issue(ctx, path, `${ns} is also addons.gateway.namespace: the Gateway's internet-facing proxies would share the namespace allowed to ask Talos for API credentials; use a namespace of its own, e.g. talos-backup`);
    }
  }

  // The Gateway's namespace runs the proxies that take traffic from outside the cluster.
  if (gatewayOn) {
    const path = ["addons", "gateway", "namespace"];
    if (isSystem(gatewayNs)) {
      issue(ctx, path, `${gatewayNs} is ${SYSTEM_NAMESPACES.includes(gatewayNs) ? "a namespace Kubernetes itself uses" : "in the kube- prefix Kubernetes reserves for itself"}: the Gateway's internet-facing proxies would run beside the cluster's own workloads and their secrets; use a namespace of its own, e.g. gateway`);
    } else if (PRIVILEGED_ADDON_NAMESPACES[gatewayNs]) {
      issue(ctx, path, `${gatewayNs} is ${PRIVILEGED_ADDON_NAMESPACES[gatewayNs]}'s namespace, labelled Pod Security privileged: the Gateway's internet-facing proxies would run with host access allowed; use a namespace of its own, e.g. gateway`);
    }
  }
}
