import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess, commandStep } from "./command-step";
import { configRolloutScript, MACHINECONFIG_ENV, recordEnrollment, rolloutBatches } from "./rollout-plan";
import { membersOf, UpgradeNode } from "./upgrade-plan";

/** `after`: what must finish before any config change rolls out (the Talos and Kubernetes upgrades). */
export interface ConfigRolloutArgs extends ClusterAccess {
  /** Every node of the cluster. Required. */
  readonly nodes: readonly UpgradeNode[];
  /** Each node's complete rendered machine config, by node name. Required; secret. */
  readonly machineConfigs: Readonly<Record<string, pulumi.Input<string>>>;
  /** The cluster's Talos version: the scripts refuse a talosctl older than its minor (talosctlCheck). Required. */
  readonly talosVersion: string;
  /** Workers changed at the same time (control planes always go one by one). Required (the stack config defaults it to 1). */
  readonly maxUnavailableWorkers: number;
}

/**
 * Config changes on running nodes, without taking more than one control plane down: one step
 * per node whose (secret) environment holds the node's complete config, so a changed config
 * re-runs exactly that node's step. Control planes go one at a time, then workers in batches of
 * `maxUnavailableWorkers`; every step ends with a cluster health gate and the next batch waits
 * for the whole previous one. A node's first config comes from its enrollment apply
 * (TalosNode), in parallel with every other new node, so a step created with its node only
 * records the config. A failed step keeps its old inputs and stops the chain; the next
 * `pulumi up` resumes there.
 */
export class ConfigRollout extends pulumi.ComponentResource {
  /** The steps, batch by batch. */
  public readonly batches: command.local.Command[][] = [];
  /** The last batch: what must wait for every config change to be rolled out. */
  public readonly done: readonly pulumi.Resource[];

  constructor(name: string, args: ConfigRolloutArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:day2:ConfigRollout", name, {}, opts);
    const members = membersOf(args.nodes);
    let previous: readonly pulumi.Resource[] = args.after;
    for (const batch of rolloutBatches(args.nodes, args.maxUnavailableWorkers)) {
      const batchAfter = previous;
      const steps = batch.map((node) =>
        commandStep(
          `${node.name}-rollout`,
          args,
          {
            create: recordEnrollment(node.name),
            update: configRolloutScript(node, members, args.timeout, args.talosVersion),
            environment: { [MACHINECONFIG_ENV]: args.machineConfigs[node.name]! },
          },
          this,
          batchAfter,
        ),
      );
      this.batches.push(steps);
      previous = steps;
    }
    this.done = previous;
    this.registerOutputs({});
  }
}
