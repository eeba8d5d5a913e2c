// Taints and tolerations as the Kubernetes scheduler reads them. Pure: the placement check
// (placement.ts) asks which nodes a pod with given tolerations can land on, before anything exists.

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
  readonly key: string;
  /** "" when the taint has no value. */
  readonly value: string;
  readonly effect: TaintEffect;
}

/** A pod toleration (core/v1 Toleration). */
export interface Toleration {
  readonly key?: string;
  readonly operator?: "Exists" | "Equal";
  readonly value?: string;
  readonly effect?: string;
}

/** A node as the scheduler sees it for our add-ons: its taints and the disks it gives to Ceph. */
export interface SchedulingNode {
  readonly name: string;
  readonly role: "controlplane" | "worker";
  readonly taints: readonly Taint[];
  readonly dataDisks: readonly string[];
}

/** The taint Talos puts on control planes unless cluster.allowSchedulingOnControlPlanes is true. */
export const CONTROL_PLANE_TAINT: Taint = { key: "node-role.kubernetes.io/control-plane", value: "", effect: "NoSchedule" };

/** Node taints from the stack config (`key: "value:Effect"`, the form Talos writes). */
export function parseTaints(taints: Readonly<Record<string, string>>): Taint[] {
  return Object.entries(taints).map(([key, text]) => {
    const at = text.lastIndexOf(":");
    return { key, value: text.slice(0, at), effect: text.slice(at + 1) as TaintEffect };
  });
}

/** Every node with the taints it will carry: its own, plus Talos's control-plane taint when control planes take no workloads. */
export function schedulingNodes(
  nodes: readonly { readonly name: string; readonly role: "controlplane" | "worker"; readonly taints?: Readonly<Record<string, string>>; readonly dataDisks?: readonly string[] }[],
  allowSchedulingOnControlPlanes: boolean,
): SchedulingNode[] {
  return nodes.map((n) => ({
    name: n.name,
    role: n.role,
    taints: [...(n.role === "controlplane" && !allowSchedulingOnControlPlanes ? [CONTROL_PLANE_TAINT] : []), ...parseTaints(n.taints ?? {})],
    dataDisks: n.dataDisks ?? [],
  }));
}

/** Whether one toleration matches a taint (core/v1 Toleration.ToleratesTaint). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  // An empty key with Exists tolerates every taint.
  if (toleration.key && toleration.key !== taint.key) return false;
  if ((toleration.operator ?? "Equal") === "Exists") return true;
  return !!toleration.key && (toleration.value ?? "") === taint.value;
}

/** The taints that keep a pod with these tolerations off the node. PreferNoSchedule only steers, it never blocks. */
export function blockingTaints(tolerations: readonly Toleration[], node: SchedulingNode): Taint[] {
  return node.taints.filter((taint) => taint.effect !== "PreferNoSchedule" && !tolerations.some((t) => tolerates(t, taint)));
}

/** The nodes a pod with these tolerations can be scheduled on. */
export function nodesFor(tolerations: readonly Toleration[], nodes: readonly SchedulingNode[]): SchedulingNode[] {
  return nodes.filter((n) => blockingTaints(tolerations, n).length === 0);
}

/** The narrowest toleration for one taint. */
export function tolerationFor(taint: Taint): Toleration {
  return taint.value === "" ? { key: taint.key, operator: "Exists", effect: taint.effect } : { key: taint.key, operator: "Equal", value: taint.value, effect: taint.effect };
}

/** Tolerations for every blocking taint of these nodes, each once, in node order. */
export function tolerationsForNodes(nodes: readonly SchedulingNode[]): Toleration[] {
  const seen = new Set<string>();
  const out: Toleration[] = [];
  for (const taint of nodes.flatMap((n) => blockingTaints([], n))) {
    const id = `${taint.key}=${taint.value}:${taint.effect}`;
    if (!seen.has(id)) {
      seen.add(id);
      out.push(tolerationFor(taint));
    }
  }
  return out;
}

/** "a (taint k:NoSchedule), b" — which taint keeps each node out. */
export function describeTaint(taint: Taint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect}`;
}
