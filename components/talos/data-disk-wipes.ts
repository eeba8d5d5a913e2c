import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess, commandStep } from "../day2/command-step";
import { diskSlug, DiskWipe, wipeDone, wipeScript } from "./wipe-plan";

/** A node with the data disks to wipe once, and the apply that enrolled it. */
export interface WipeNode {
  readonly name: string;
  readonly address: string;
  readonly installDisk: string;
  /** Data disks whose `wipe` setting is true (config/schema.ts dataDisks), in config order. */
  readonly wipeDisks: readonly string[];
  /** The node's configuration apply: its wipes wait for it. */
  readonly apply: pulumi.Resource;
}

/** `after`: what every wipe waits for besides its node's apply (the day-2 chain). */
export interface DataDiskWipesArgs extends ClusterAccess {
  /** Nodes with disks to wipe. Required. */
  readonly nodes: readonly WipeNode[];
}

/**
 * One command step per data disk that runs `talosctl wipe disk` once, when the step is created:
 * with its node's enrollment, or when the disk is added to the stack. Its update only says the
 * disk was wiped before, and config changes are ignored, so no later run touches the disk again.
 * Steps wait for their node's apply and for `after`; whatever installs Rook must wait for
 * `steps`. Nothing runs in a preview (command steps only run during `up`).
 */
export class DataDiskWipes extends pulumi.ComponentResource {
  /** Every wipe step, node by node in config order. */
  public readonly steps: command.local.Command[] = [];

  constructor(name: string, args: DataDiskWipesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:DataDiskWipes", name, {}, opts);
    for (const node of args.nodes) {
      for (const disk of node.wipeDisks) {
        const wipe: DiskWipe = { node: node.name, address: node.address, disk, installDisk: node.installDisk, timeout: args.timeout };
        const wipeAfter = [node.apply, ...args.after];
        // The configs in the environment change whenever a node joins; that must never re-run a wipe.
        this.steps.push(commandStep(`${node.name}-wipe-${diskSlug(disk)}`, args, { create: wipeScript(wipe), update: wipeDone(wipe) }, this, wipeAfter, ["environment"]));
      }
    }
    this.registerOutputs({});
  }
}
