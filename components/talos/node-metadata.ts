import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { KUBECONFIG_ENV } from "../day2/upgrade-plan";
import { needsApi, nodeMetadataScript, splitNodeMetadata } from "./node-metadata-plan";

/** One node as the stack gives it, with its enrollment. */
export interface NodeMetadataNode {
  readonly name: string;
  readonly role: "controlplane" | "worker";
  readonly labels: Readonly<Record<string, string>>;
  /** key -> "value:Effect" or ":Effect". */
  readonly taints: Readonly<Record<string, string>>;
  /**
   * The node's config apply (TalosNode.apply): the step runs after it, runs again (replaced) when
   * it is replaced (a new machine registers a new Node), and is not run on delete when the node
   * leaves the stack with it (its Node is removed anyway). Required.
   */
  readonly apply: pulumi.Resource;
}

export interface NodeMetadataArgs {
  /** Every node; only those with labels or taints the API must apply get a step. Required. */
  readonly nodes: readonly NodeMetadataNode[];
  /** The cluster's admin kubeconfig (the bootstrap's output). Required; secret, only in the steps' environment. */
  readonly kubeconfig: pulumi.Input<string>;
  /**
   * Resolves once the cluster's API answers (Talos health without Kubernetes checks: with no CNI
   * yet nodes are NotReady, but registered). Every script waits for it. Required.
   */
  readonly ready: pulumi.Output<string>;
  /** How long a step waits for its Node to register, e.g. 10m. Required. */
  readonly timeout: string;
  /** What every step runs after (e.g. the kubeconfig). Default: none. */
  readonly after?: readonly pulumi.Resource[];
}

/**
 * A worker's node-role labels and taints, which NodeRestriction refuses the worker's own kubelet
 * (and so Talos on a worker), written through the Kubernetes API with the admin kubeconfig once
 * the Node is registered: one command step per such node, in parallel. It runs when created,
 * whenever the node's API labels or taints change (its previous taints in its own output), and
 * on delete removes them; never in a preview (the command provider runs nothing then). What it
 * writes and leaves alone: components/talos/node-metadata-plan.ts.
 */
export class NodeMetadata extends pulumi.ComponentResource {
  /** By node name. */
  public readonly steps: Readonly<Record<string, command.local.Command>>;

  constructor(name: string, args: NodeMetadataArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:NodeMetadata", name, {}, opts);
    // The gate's value is no secret (the health check's id), whatever it was derived from: the
    // scripts stay readable in a preview's diff.
    const gate = (script: string) => pulumi.unsecret(args.ready.apply(() => script));
    const steps: Record<string, command.local.Command> = {};
    for (const node of args.nodes) {
      const split = splitNodeMetadata(node);
      if (!needsApi(split)) continue;
      const target = { node: node.name, labels: split.api.labels, taints: split.api.taints, timeout: args.timeout };
      const apply = nodeMetadataScript(target, false);
      steps[node.name] = new command.local.Command(
        `${name}-${node.name}`,
        {
          create: gate(apply),
          update: gate(apply),
          delete: nodeMetadataScript(target, true),
          environment: pulumi.secret({ [KUBECONFIG_ENV]: args.kubeconfig }),
          interpreter: ["node", "-e"],
          // The previous run's record: which taints it applied, so a removed one is removed.
          addPreviousOutputInEnv: true,
        },
        {
          parent: this,
          dependsOn: [...(args.after ?? []), node.apply],
          replaceWith: [node.apply],
          // The old step's delete must not remove from the new Node what the new step applied.
          deleteBeforeReplace: true,
          deletedWith: node.apply,
        },
      );
    }
    this.steps = steps;
    this.registerOutputs({});
  }
}
