// The add-ons' scheduling feasibility, checked once the config is otherwise valid: every
// component that the nodes cannot hold is refused here, before any resource exists.
import { addonPlacement, NodeBudget } from "../components/addons/placement";
import { schedulingNodes } from "../components/addons/scheduling";
import type { AddonSettings } from "./addons";
import { mebibytes } from "./budget-checks";
import type { Ctx } from "./check-helpers";

interface PlacedConfig {
  readonly addons: AddonSettings;
  readonly cluster: {
    readonly podCidr: string;
    readonly allowSchedulingOnControlPlanes: boolean;
    readonly kubeletReservations: { readonly systemMemory: string; readonly kubeMemory: string; readonly evictionMemory: string };
  };
  readonly nodes: readonly {
    readonly name: string;
    readonly role: "controlplane" | "worker";
    readonly taints?: Readonly<Record<string, string>>;
    readonly dataDisks?: readonly string[];
    readonly capacity?: { readonly vcpus: number; readonly memoryMiB: number };
  }[];
}

/**
 * What pods may request on each node whose size the stack states (nodes[].capacity): its memory
 * less the kubelet's reservations (what it keeps from pods), its CPUs. Only such machines can hold
 * OSDs of known size: Hetzner servers and the guests a vm section makes have one disk each and no
 * dataDisks (config/hetzner.ts, config/disk-paths.ts), and Rook is given no device outside a
 * node's dataDisks (premise checks), so no OSD runs on them.
 */
export function nodeBudgets(config: PlacedConfig): Record<string, NodeBudget> {
  const r = config.cluster.kubeletReservations;
  const reserved = [r.systemMemory, r.kubeMemory, r.evictionMemory].reduce((sum, q) => sum + (mebibytes(q) ?? 0), 0);
  const out: Record<string, NodeBudget> = {};
  config.nodes.forEach((node, i) => {
    const size = node.capacity;
    if (size) {
      out[node.name] = {
        memoryMiB: size.memoryMiB - reserved,
        memoryText: `${size.memoryMiB} MiB of nodes[${i}].capacity.memoryMiB less ${reserved} MiB of kubelet reservations`,
        cpuMillis: size.vcpus * 1000,
        cpuText: `nodes[${i}].capacity.vcpus ${size.vcpus}`,
        path: ["nodes", i, "capacity"],
      };
    }
  });
  return out;
}

/** Adds one issue per add-on component the nodes cannot hold (components/addons/placement.ts). */
export function checkAddonPlacement(config: PlacedConfig, ctx: Pick<Ctx, "addIssue">): void {
  const nodes = schedulingNodes(config.nodes, config.cluster.allowSchedulingOnControlPlanes);
  for (const problem of addonPlacement({ addons: config.addons, nodes, podCidr: config.cluster.podCidr, budgets: nodeBudgets(config) }).problems) {
    ctx.addIssue({ code: "custom", path: [...problem.path], message: problem.message });
  }
}
