import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess, commandStep } from "./command-step";
import { kubernetesUpgradeScript, membersOf, OsTarget, osUpgradeScript, recordOnly, UpgradeNode, upgradeOrder } from "./upgrade-plan";

export interface ClusterUpgradesArgs extends ClusterAccess {
  /** Every node, with the kernel args its config asks for. Required. */
  readonly nodes: readonly (UpgradeNode & { readonly kernelArgs: readonly string[] })[];
  readonly talosVersion: string;
  readonly schematicId: string;
  readonly installerImage: string;
  readonly kubernetesVersion: string;
}

/**
 * Declarative upgrades with the steps of seed 002, one node at a time: control planes, then
 * workers, then Kubernetes. Each step is a command whose script names its target; when the
 * target changes (Talos version, schematic, kernel args, Kubernetes version) the engine runs the
 * step's update, serially through the dependency chain. A failed step keeps its old inputs in
 * state and stops the chain, so the next `pulumi up` resumes at that node. A step created with
 * a new node only records its target: a fresh install already runs it.
 */
export class ClusterUpgrades extends pulumi.ComponentResource {
  /** The steps in the order they run. */
  public readonly steps: command.local.Command[] = [];
  /** The Kubernetes step, last of all: config rollouts wait for it. */
  public readonly kubernetes: command.local.Command;

  constructor(name: string, args: ClusterUpgradesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:day2:Upgrades", name, {}, opts);
    const step = (stepName: string, what: string, script: string, after: readonly pulumi.Resource[]) =>
      commandStep(stepName, args, { create: recordOnly(what), update: script }, this, after);

    const members = membersOf(args.nodes);
    let previous: readonly pulumi.Resource[] = args.after;
    for (const node of upgradeOrder(args.nodes)) {
      const target: OsTarget = {
        talosVersion: args.talosVersion,
        schematicId: args.schematicId,
        installerImage: args.installerImage,
        kernelArgs: node.kernelArgs,
        timeout: args.timeout,
        members,
      };
      const upgrade = step(`${node.name}-upgrade`, `${node.name} ${args.installerImage}`, osUpgradeScript(node, target), previous);
      this.steps.push(upgrade);
      previous = [upgrade];
    }
    const kubernetesAfter = previous;
    this.kubernetes = step(`${name}-kubernetes`, `Kubernetes ${args.kubernetesVersion}`, kubernetesUpgradeScript(members, args.kubernetesVersion, args.timeout), kubernetesAfter);
    this.steps.push(this.kubernetes);
    this.registerOutputs({});
  }
}
