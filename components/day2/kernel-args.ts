import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess, commandStep } from "./command-step";
import { kernelArgsScript, recordInstalled } from "./kernel-args-plan";
import { membersOf, NodeImage, UpgradeNode, upgradeOrder } from "./upgrade-plan";

/** `after`: what must finish first: the config rollout, so every node holds its new kernel args. */
export interface KernelArgsArgs extends ClusterAccess {
  /** Every node, with every kernel arg its config layers and the schematic ask for. Required. */
  readonly nodes: readonly (UpgradeNode & NodeImage & { readonly kernelArgs: readonly string[] })[];
  /** The installer every node without its own image runs (the cluster's target); the power cycle reinstalls it. Required. */
  readonly installerImage: string;
  /**
   * Kernel args the boot media (the Image Factory ISO) boots with, i.e. imageFactory.extraKernelArgs:
   * a new node has had these since a real boot; its other args wait for its next change. Default: none.
   */
  readonly bootMediaKernelArgs?: readonly string[];
}

/**
 * Kernel-argument changes, one node at a time (control planes first), after the config rollout:
 * one step per node whose inputs hold the node's kernel args, so a change re-runs exactly that
 * node's step, which power-cycles the node into a reinstall of the image it runs, checks the new
 * args on /proc/cmdline, gates on the cluster's health and records the args in its state. A step
 * created with its node only records the args its boot media booted with.
 */
export class KernelArgs extends pulumi.ComponentResource {
  /** The steps in the order they run. */
  public readonly steps: command.local.Command[] = [];
  /** What must wait for every kernel-args change. */
  public readonly done: readonly pulumi.Resource[];

  constructor(name: string, args: KernelArgsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:day2:KernelArgs", name, {}, opts);
    const members = membersOf(args.nodes);
    let previous: readonly pulumi.Resource[] = args.after;
    for (const node of upgradeOrder(args.nodes)) {
      const step = commandStep(
        `${node.name}-kernel-args`,
        args,
        {
          create: recordInstalled(node.name, node.kernelArgs, args.bootMediaKernelArgs ?? []),
          update: kernelArgsScript(node, { kernelArgs: node.kernelArgs, installerImage: node.installerImage ?? args.installerImage, timeout: args.timeout, members }),
          // The kernel-args record this step printed last time (KERNEL_ARGS_RECORD).
          previousOutput: true,
        },
        this,
        previous,
      );
      this.steps.push(step);
      previous = [step];
    }
    this.done = previous;
    this.registerOutputs({});
  }
}
