import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess, commandStep, StepScripts } from "./command-step";
import { minorStopsFor, minorStepsScript } from "./minor-steps";
import { kubernetesUpgradeScript, membersOf, NodeImage, OsTarget, osUpgradeScript, recordOnly, UpgradeNode, upgradeOrder } from "./upgrade-plan";

export interface ClusterUpgradesArgs extends ClusterAccess {
  /** Every node, with its own image where it has one (NodeImage). Required. */
  readonly nodes: readonly (UpgradeNode & NodeImage & { readonly kernelArgs?: readonly string[] })[];
  readonly talosVersion: string;
  readonly schematicId: string;
  readonly installerImage: string;
  readonly kubernetesVersion: string;
}

/**
 * Declarative upgrades with the steps of seed 002, one node at a time: first the minors a bump
 * skips (one step for the whole cluster, see minor-steps.ts), then each node to the target,
 * control planes then workers, then Kubernetes. Each step is a command whose script names its
 * target; when the target changes (Talos version, schematic, Kubernetes version) the engine runs
 * the step's update, serially through the dependency chain. Talos cordons, drains and uncordons
 * each node itself (upgrade-plan.ts). A failed step keeps its old inputs in state and stops the
 * chain, so the next `pulumi up` resumes at that node. A step created with a new node only
 * records its target: a fresh install already runs it. Kernel-argument changes come after the
 * config rollout (kernel-args.ts).
 */
export class ClusterUpgrades extends pulumi.ComponentResource {
  /** The steps in the order they run. */
  public readonly steps: command.local.Command[] = [];
  /** The cluster-wide step through the Talos minors a bump skips, first of all. */
  public readonly minorSteps: command.local.Command;
  /** The Kubernetes step, last of all: config rollouts wait for it. */
  public readonly kubernetes: command.local.Command;

  constructor(name: string, args: ClusterUpgradesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:day2:Upgrades", name, {}, opts);
    const step = (stepName: string, scripts: StepScripts, after: readonly pulumi.Resource[]) => commandStep(stepName, args, scripts, this, after);

    const members = membersOf(args.nodes);
    const stops = minorStopsFor(args.talosVersion, args.installerImage);
    this.minorSteps = step(
      `${name}-talos-minors`,
      // Its create text names no version, so a bump within a minor leaves the step unchanged.
      { create: recordOnly("Talos minor steps"), update: minorStepsScript(args.nodes, stops, members, args.timeout, args.talosVersion) },
      args.after,
    );
    this.steps.push(this.minorSteps);
    let previous: readonly pulumi.Resource[] = [this.minorSteps];
    for (const node of upgradeOrder(args.nodes)) {
      const target: OsTarget = {
        talosVersion: args.talosVersion,
        schematicId: node.schematicId ?? args.schematicId,
        installerImage: node.installerImage ?? args.installerImage,
        // a node with kernel args keeps them through the upgrade (OsTarget.legacy)
        legacy: (node.kernelArgs ?? []).length > 0,
        timeout: args.timeout,
        members,
      };
      const upgrade = step(
        `${node.name}-upgrade`,
        { create: recordOnly(`${node.name} ${target.installerImage}`), update: osUpgradeScript(node, target) },
        previous,
      );
      this.steps.push(upgrade);
      previous = [upgrade];
    }
    const kubernetesAfter = previous;
    this.kubernetes = step(
      `${name}-kubernetes`,
      { create: recordOnly(`Kubernetes ${args.kubernetesVersion}`), update: kubernetesUpgradeScript(members, args.kubernetesVersion, args.timeout, args.talosVersion) },
      kubernetesAfter,
    );
    this.steps.push(this.kubernetes);
    this.registerOutputs({});
  }
}
