import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess, commandStep } from "./command-step";
import { destroyScript, recordMembers, RemovalSettings, removalScript } from "./removal-plan";
import { UpgradeNode } from "./upgrade-plan";

/** `after`: what must finish first: the bootstrap, the kubeconfig and every node's enrollment (joining control planes count toward quorum). */
export interface NodeRemovalArgs extends ClusterAccess {
  /** Every node the stack lists. Required. */
  readonly nodes: readonly UpgradeNode[];
  /** The cluster's Talos version: the scripts refuse a talosctl older than its minor (talosctlCheck). Required. */
  readonly talosVersion: string;
  /** Nodes being removed that do not answer (cluster.removeUnreachable). Default: none. */
  readonly unreachable?: readonly string[];
  /** What removal does to a node that answers (cluster.onDestroy). Required. */
  readonly settings: RemovalSettings;
  /** Resolves once the member change was checked (removal-guard.ts); nothing runs before. Default: no check. */
  readonly checked?: pulumi.Input<string>;
}

/**
 * The cluster's membership, first of the day-2 steps: one step that keeps the member list in its
 * state and, when the stack's nodes change, takes every node that left the list out of the
 * cluster (Talos leaves etcd, cordons and drains on its graceful reset; the Node object is
 * deleted; an unreachable node is removed through the other control planes), one at a time,
 * each followed by the health gate, before any upgrade or rollout step gates on the new list.
 * The nodes' configuration applies keep their machines on delete (retainOnDelete in
 * TalosNode): by the time Pulumi deletes them, this step has already taken the node out.
 */
export class NodeRemoval extends pulumi.ComponentResource {
  public readonly step: command.local.Command;

  constructor(name: string, args: NodeRemovalArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:day2:NodeRemoval", name, {}, opts);
    this.step = commandStep(
      `${name}-members`,
      args,
      {
        create: recordMembers(args.nodes),
        update: removalScript(args.nodes, args.unreachable ?? [], args.settings, args.timeout, args.talosVersion),
        // A destroy of the whole stack resets the machines here (the applies keep theirs).
        delete: destroyScript(args.nodes, args.settings, args.timeout),
        // The member list this step recorded last time (MEMBERS_RECORD).
        previousOutput: true,
        ...(args.checked ? { environment: { TALOS_CLUSTER_MEMBERS_CHECKED: args.checked } } : {}),
      },
      this,
      args.after,
    );
    this.registerOutputs({});
  }
}
