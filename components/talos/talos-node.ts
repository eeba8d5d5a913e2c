import * as pulumi from "@pulumi/pulumi";
import * as talos from "@pulumiverse/talos";

/** What removing a node from the stack does to the machine. */
export interface OnDestroy {
  /** Cordon, drain and leave etcd before resetting. */
  readonly graceful: boolean;
  /** Wipe the node back to maintenance mode, ready to be applied again. */
  readonly reset: boolean;
  /** Reboot after the reset. */
  readonly reboot: boolean;
}

export interface TalosNodeArgs {
  /** The node's address: its Talos API (port 50000), first in maintenance mode. Required. */
  readonly address: string;
  /** Where to reach the Talos API to get to the node (e.g. a load balancer). Default: the address itself. */
  readonly endpoint?: pulumi.Input<string>;
  /** The node's complete rendered machine configuration (every patch layer merged). Required; secret. */
  readonly machineConfiguration: pulumi.Input<string>;
  /** talosctl client material from the cluster secrets. Required; secret. */
  readonly clientConfiguration: pulumi.Input<talos.types.input.machine.ConfigurationApplyClientConfiguration>;
  /** How long the apply may wait for the node, e.g. `10m`. Required (the stack config defaults it). */
  readonly timeout: string;
  /** What destroying this resource does to the machine, as set when the node was enrolled. Required (the stack config defaults it). */
  readonly onDestroy: OnDestroy;
  /** The Talos provider. Required. */
  readonly provider: talos.Provider;
  /** Resources that must exist before the node is touched (e.g. the schematic registration). Default: none. */
  readonly after?: readonly pulumi.Resource[];
}

/** The inputs of one node's configuration apply. Pure, so tests compare them exactly. */
export function applyInputs(args: TalosNodeArgs): talos.machine.ConfigurationApplyArgs {
  return {
    node: args.address,
    // By default talk to the node itself: before bootstrap there is no other endpoint that answers.
    endpoint: args.endpoint ?? args.address,
    clientConfiguration: args.clientConfiguration,
    // Complete already: every layer was merged when it was rendered, so no patches here.
    machineConfigurationInput: args.machineConfiguration,
    // Talos decides per change whether a reboot is needed; the provider first tries the
    // authenticated API and falls back to the maintenance-mode (insecure) apply of a fresh node.
    applyMode: "auto",
    onDestroy: { ...args.onDestroy },
    timeouts: { create: args.timeout, update: args.timeout },
  };
}

/**
 * Every input the apply could be updated for. The provider's update re-applies the config it
 * holds, and later configs reach running nodes through the serial rollout (components/day2),
 * so an update here could only push a stale config to every node at once.
 */
export const ENROLLMENT_ONLY: readonly string[] = ["machineConfigurationInput", "configPatches", "applyMode", "endpoint", "clientConfiguration", "onDestroy", "timeouts"];

/**
 * One Talos machine's enrollment: its first configuration applied (maintenance mode or not), in
 * parallel with every other new node, and what removing it does. Later config changes roll out
 * one node at a time through ConfigRollout, never through this resource.
 */
export class TalosNode extends pulumi.ComponentResource {
  public readonly apply: talos.machine.ConfigurationApply;
  public readonly address: string;

  constructor(name: string, args: TalosNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:Node", name, {}, opts);
    this.address = args.address;
    this.apply = new talos.machine.ConfigurationApply(`${name}-apply`, applyInputs(args), {
      parent: this,
      provider: args.provider,
      dependsOn: [...(args.after ?? [])],
      additionalSecretOutputs: ["machineConfiguration"],
      ignoreChanges: [...ENROLLMENT_ONLY],
      // Removing a node is the membership step's work (components/day2/node-removal.ts), which
      // runs before every health gate; Pulumi deletes only after every create and update, by
      // when the node has left already, so deleting the apply must not dial it again.
      retainOnDelete: true,
    });
    this.registerOutputs({ address: this.address });
  }
}
