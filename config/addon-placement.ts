// The add-ons' scheduling feasibility, checked once the config is otherwise valid: every
// component that the nodes cannot hold is refused here, before any resource exists.
import { addonPlacement } from "../components/addons/placement";
import { schedulingNodes } from "../components/addons/scheduling";
import type { AddonSettings } from "./addons";
import type { Ctx } from "./check-helpers";

interface PlacedConfig {
  readonly addons: AddonSettings;
  readonly cluster: { readonly podCidr: string; readonly allowSchedulingOnControlPlanes: boolean };
  readonly nodes: readonly { readonly name: string; readonly role: "controlplane" | "worker"; readonly taints?: Readonly<Record<string, string>>; readonly dataDisks?: readonly string[] }[];
}

/** Adds one issue per add-on component the nodes cannot hold (components/addons/placement.ts). */
export function checkAddonPlacement(config: PlacedConfig, ctx: Pick<Ctx, "addIssue">): void {
  const nodes = schedulingNodes(config.nodes, config.cluster.allowSchedulingOnControlPlanes);
  for (const problem of addonPlacement({ addons: config.addons, nodes, podCidr: config.cluster.podCidr }).problems) {
    ctx.addIssue({ code: "custom", path: [...problem.path], message: problem.message });
  }
}
