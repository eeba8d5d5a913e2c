// Kind 3 of the meaning rules (config/README.md): budgets larger than the machine. Where the stack
// knows a node's memory (a Synology guest's vm.memoryMiB, a machine's capacity.memoryMiB, a
// Hetzner server type), the kubelet's
// reservations must fit in it: the kubelet refuses to start when system-reserved + kube-reserved +
// the hard eviction threshold exceed the node's capacity (kubernetes pkg/kubelet/cm/
// node_container_manager_linux.go, validateNodeAllocatable: "Expected capacity >= reservation"),
// and the node never becomes Ready. Equal is refused too: it leaves pods nothing.
import { Ctx, issue, list, record, str } from "./check-helpers";

/**
 * Memory of Hetzner Cloud server types in GiB (Hetzner Cloud docs, "Server types"; the API's
 * GET /server_types `memory`). Types not listed here are not judged.
 */
export const HETZNER_MEMORY_GIB: Readonly<Record<string, number>> = {
  cx22: 4, cx32: 8, cx42: 16, cx52: 32,
  cx23: 4, cx33: 8, cx43: 16,
  cpx11: 2, cpx21: 4, cpx31: 8, cpx41: 16, cpx51: 32,
  cpx22: 4, cpx32: 8,
  cax11: 4, cax21: 8, cax31: 16, cax41: 32,
  ccx13: 8, ccx23: 16, ccx33: 32, ccx43: 64, ccx53: 128, ccx63: 192,
};

const UNIT_MIB: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024 };

/** A memory quantity (config/fields.ts memoryQuantity) in MiB, or undefined. */
export function mebibytes(q: unknown): number | undefined {
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(str(q) ?? "");
  return m ? Number(m[1]) * UNIT_MIB[m[2]!]! : undefined;
}

const DEFAULTS = { systemMemory: "512Mi", kubeMemory: "512Mi", evictionMemory: "256Mi" };

export function checkBudgets(root: Record<string, unknown>, cluster: Record<string, unknown>, nodes: Record<string, unknown>[], ctx: Ctx): void {
  const given = record(cluster.kubeletReservations);
  const parts = (["systemMemory", "kubeMemory", "evictionMemory"] as const).map((k) => ({ k, text: str(given[k]) ?? DEFAULTS[k], mib: mebibytes(given[k] ?? DEFAULTS[k]) }));
  if (parts.some((p) => p.mib === undefined)) return; // a malformed quantity has its own message
  const total = parts.reduce((sum, p) => sum + p.mib!, 0);
  const sum = `${parts.map((p) => `${p.k} ${p.text}`).join(" + ")} = ${total} MiB`;
  const refuse = (where: string, memory: number, fix: string) =>
    issue(
      ctx,
      ["cluster", "kubeletReservations"],
      `${sum} is not less than the ${memory} MiB of ${where}; the kubelet refuses to start when its reservations reach the node's memory, so the node would never be Ready; lower them or ${fix}`,
    );
  nodes.forEach((node, i) => {
    const memory = record(node.vm).memoryMiB;
    if (typeof memory === "number" && total >= memory) refuse(`${str(node.name) ?? "a node"} (nodes[${i}].vm.memoryMiB)`, memory, "give the VM more memory");
    const stated = record(node.capacity).memoryMiB;
    if (typeof stated === "number" && total >= stated) refuse(`${str(node.name) ?? "a node"} (nodes[${i}].capacity.memoryMiB)`, stated, "give the machine more memory");
  });
  list(record(root.hetzner).pools).forEach((pool, k) => {
    const type = str(record(pool).serverType) ?? "";
    const gib = HETZNER_MEMORY_GIB[type];
    if (gib !== undefined && total >= gib * 1024) refuse(`a ${type} server (hetzner.pools[${k}].serverType)`, gib * 1024, "choose a larger server type");
  });
}
