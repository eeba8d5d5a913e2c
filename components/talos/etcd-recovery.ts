import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { KUBECONFIG_ENV, TALOSCONFIG_ENV } from "../day2/upgrade-plan";
import { recoverRefusal, recoverScript, SNAPSHOT_PATH_ENV } from "./recover-plan";

/** What may change once the restore ran without reaching its update: the node (in create) and the environment. */
export const RECOVERED_ONCE = ["create", "environment"] as const;

export interface EtcdRecoveryArgs {
  /** Address of the control plane that receives the snapshot. Required. */
  readonly node: string;
  /** Absolute path of the snapshot on the machine running Pulumi. Required. */
  readonly snapshotPath: string;
  /** The snapshot's SHA-256 (hex), computed at the edge. Required. */
  readonly sha256: string;
  /** How long the node may take to answer after its apply, e.g. 10m. Required. */
  readonly timeout: string;
  /** The cluster's talosconfig. Required; secret. */
  readonly talosconfig: pulumi.Input<string>;
  /** What must exist first (the node's config apply). Required. */
  readonly after: readonly pulumi.Resource[];
}

/**
 * Bootstraps etcd from a snapshot instead of empty, once: a command step whose create copies the
 * snapshot into a private temporary file and runs `talosctl bootstrap --recover-from` on it.
 *
 * Refusing a cluster that already bootstrapped, and its limits:
 * - this step in state means the stack bootstrapped from a snapshot; a changed snapshot changes
 *   the update script, and the update refuses. Its create script (which names the node) and
 *   environment (talosconfig, path) are ignored after create: a moved file, or a new first
 *   control plane (the old one replaced; it joins the restored etcd like any control plane),
 *   changes nothing and runs nothing;
 * - a stack bootstrapped normally (talos Bootstrap in state) that gains recoverFrom gets this step
 *   as a new resource: its create asks the node first and refuses when etcd already runs there,
 *   before touching anything (and Talos itself rejects a second bootstrap). That check is made by
 *   `pulumi up` on the node, not by the preview, which never dials a node.
 */
export class EtcdRecovery extends pulumi.ComponentResource {
  public readonly step: command.local.Command;

  constructor(name: string, args: EtcdRecoveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:EtcdRecovery", name, {}, opts);
    const target = { node: args.node, sha256: args.sha256, timeout: args.timeout };
    this.step = new command.local.Command(
      `${name}-bootstrap`,
      {
        create: recoverScript(target),
        update: recoverRefusal(target),
        // Only the path travels; the snapshot itself is read from it by the script.
        environment: pulumi.secret({ [TALOSCONFIG_ENV]: args.talosconfig, [KUBECONFIG_ENV]: "", [SNAPSHOT_PATH_ENV]: args.snapshotPath }),
        interpreter: ["/bin/sh", "-c"],
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [...args.after], ignoreChanges: [...RECOVERED_ONCE] },
    );
    this.registerOutputs({});
  }
}
