import * as pulumi from "@pulumi/pulumi";
import * as talos from "@pulumiverse/talos";
import { EtcdRecovery } from "./etcd-recovery";

/** What a health gate resolves to in a preview, where it checks nothing. */
export const UNCHECKED = "not checked in a preview";

/** Inputs of the bootstrap record that may change without a second bootstrap (the first control plane). */
export const BOOTSTRAP_ONCE = ["node", "endpoint"] as const;
/** Inputs whose change fetches a new kubeconfig (the node it comes from, the Talos endpoint used). */
export const KUBECONFIG_REFETCH_ON = ["node", "endpoint"] as const;

type ClientConfiguration = talos.types.input.machine.BootstrapClientConfiguration;

export interface ClusterBootstrapArgs {
  /** Address of the control plane that bootstraps etcd. Required. */
  readonly bootstrapNode: string;
  /** Where to reach the Talos API (e.g. a load balancer). Default: the bootstrap node itself. */
  readonly endpoint?: pulumi.Input<string>;
  /**
   * The Kubernetes API endpoint the machine configs carry, and so the server of the kubeconfig
   * Talos hands out. Default: none (the kubeconfig then follows only its node).
   */
  readonly clusterEndpoint?: pulumi.Input<string>;
  /** The configuration apply of that control plane: bootstrap waits for it and nothing else. Required. */
  readonly bootstrapNodeApply: pulumi.Resource;
  /** Every control-plane address (talosconfig endpoints, health). Required. */
  readonly controlPlanes: readonly string[];
  /** Every worker address. Default: none. */
  readonly workers?: readonly string[];
  /**
   * Run the health gates. false in a preview: a preview never dials a node nor waits for
   * health, and the gates then resolve at once. Default: true.
   */
  readonly checkHealth?: boolean;
  /** talosctl client material. Required; secret. */
  readonly clientConfiguration: pulumi.Input<ClientConfiguration>;
  /** How long each Talos API call may wait, e.g. `10m`. Required. */
  readonly timeout: string;
  /** The Talos provider. Required. */
  readonly provider: talos.Provider;
  /**
   * Bootstrap etcd from this snapshot (`talosctl bootstrap --recover-from`, through the cluster's
   * talosconfig) instead of the Talos provider's empty bootstrap. Default: none, an empty etcd.
   */
  readonly recoverFrom?: { readonly snapshotPath: string; readonly sha256: string; readonly talosconfig: pulumi.Input<string> };
}

/**
 * Bootstrap exactly once (empty, or from a snapshot), then kubeconfig; health gates for what comes after.
 * Order: first control plane's apply -> bootstrap -> kubeconfig -> (health gates, during `up` only).
 */
export class ClusterBootstrap extends pulumi.ComponentResource {
  /** The bootstrap: the Talos provider's, or the restore step when recovering from a snapshot. */
  public readonly bootstrap: pulumi.Resource;
  public readonly kubeconfigResource: talos.cluster.Kubeconfig;
  /** Admin kubeconfig. Secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  /**
   * A Talos health gate after `after` (and the kubeconfig), resolving once Talos reports etcd,
   * the API server and the nodes healthy; with Kubernetes checks once a CNI runs.
   */
  public readonly healthyAfter: (after: pulumi.Resource[], skipKubernetesChecks: boolean) => pulumi.Output<string>;

  constructor(name: string, args: ClusterBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:ClusterBootstrap", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const timeouts = { create: args.timeout };

    const bootstrapAfter = [args.bootstrapNodeApply];
    this.bootstrap = args.recoverFrom
      ? new EtcdRecovery(
          `${name}-recover`,
          { node: args.bootstrapNode, ...args.recoverFrom, timeout: args.timeout, after: bootstrapAfter },
          { parent: this },
        ).step
      : new talos.machine.Bootstrap(
          `${name}-bootstrap`,
          { node: args.bootstrapNode, endpoint: args.endpoint ?? args.bootstrapNode, clientConfiguration: args.clientConfiguration, timeouts },
          {
            ...child,
            dependsOn: bootstrapAfter,
            // Bootstrap happens once per cluster. When the first control plane is replaced, the
            // new first one joins the running etcd; the record keeps the node that bootstrapped
            // (the provider's update would only rewrite it, and never bootstraps again).
            ignoreChanges: [...BOOTSTRAP_ONCE],
          },
        );

    // Talos builds the kubeconfig from the node's config, so its server is the cluster endpoint.
    // The provider refetches only on certificate renewal (its update keeps kubeconfigRaw
    // otherwise), so a new endpoint, or a new node to fetch from, replaces the resource: the
    // replacement fetches after the node's apply (bootstrap waits for it), with the new endpoint.
    const kubeconfigAfter = [this.bootstrap];
    this.kubeconfigResource = new talos.cluster.Kubeconfig(
      `${name}-kubeconfig`,
      { node: args.bootstrapNode, endpoint: args.endpoint ?? args.bootstrapNode, clientConfiguration: args.clientConfiguration, timeouts },
      {
        ...child,
        dependsOn: kubeconfigAfter,
        additionalSecretOutputs: ["kubeconfigRaw", "kubernetesClientConfiguration"],
        replaceOnChanges: [...KUBECONFIG_REFETCH_ON],
        ...(args.clusterEndpoint !== undefined ? { replacementTrigger: args.clusterEndpoint } : {}),
      },
    );
    this.kubeconfig = pulumi.secret(this.kubeconfigResource.kubeconfigRaw);

    const checkHealth = args.checkHealth ?? true;
    this.healthyAfter = (after, skipKubernetesChecks) => {
      if (!checkHealth) return pulumi.output(UNCHECKED);
      return talos.cluster
        .getHealthOutput(
          {
            clientConfiguration: args.clientConfiguration,
            controlPlaneNodes: [...args.controlPlanes],
            workerNodes: [...(args.workers ?? [])],
            endpoints: args.endpoint ? [args.endpoint] : [...args.controlPlanes],
            skipKubernetesChecks,
            timeouts: { read: args.timeout },
          },
          { ...child, dependsOn: [this.kubeconfigResource, ...after] },
        )
        .apply((h) => h.id);
    };

    this.registerOutputs({ kubeconfig: this.kubeconfig });
  }
}
