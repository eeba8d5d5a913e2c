import * as pulumi from "@pulumi/pulumi";
import * as talos from "@pulumiverse/talos";

type ClientConfiguration = talos.types.input.machine.BootstrapClientConfiguration;

export interface ClusterBootstrapArgs {
  /** Address of the control plane that bootstraps etcd. Required. */
  readonly bootstrapNode: string;
  /** Where to reach the Talos API (e.g. a load balancer). Default: the bootstrap node itself. */
  readonly endpoint?: pulumi.Input<string>;
  /** The configuration apply of that control plane: bootstrap waits for it and nothing else. Required. */
  readonly bootstrapNodeApply: pulumi.Resource;
  /** Every control-plane address (talosconfig endpoints, health). Required. */
  readonly controlPlanes: readonly string[];
  /** Every worker address. Default: none. */
  readonly workers?: readonly string[];
  /** Every node's configuration apply: the health gate waits for all of them. Required. */
  readonly nodeApplies: readonly pulumi.Resource[];
  /** talosctl client material. Required; secret. */
  readonly clientConfiguration: pulumi.Input<ClientConfiguration>;
  /** How long each Talos API call may wait, e.g. `10m`. Required. */
  readonly timeout: string;
  /** The Talos provider. Required. */
  readonly provider: talos.Provider;
}

/**
 * Bootstrap exactly once, then kubeconfig, then a health gate that needs no CNI yet.
 * Order: first control plane's apply -> bootstrap -> kubeconfig -> health.
 */
export class ClusterBootstrap extends pulumi.ComponentResource {
  public readonly bootstrap: talos.machine.Bootstrap;
  public readonly kubeconfigResource: talos.cluster.Kubeconfig;
  /** Admin kubeconfig. Secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** Resolves once Talos reports the cluster healthy (etcd, API, nodes; Kubernetes checks skipped until the CNI runs). */
  public readonly healthy: pulumi.Output<string>;
  /** A Talos health gate after `after` (and the kubeconfig); with Kubernetes checks once a CNI runs. */
  public readonly healthyAfter: (after: pulumi.Resource[], skipKubernetesChecks: boolean) => pulumi.Output<string>;

  constructor(name: string, args: ClusterBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:ClusterBootstrap", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const timeouts = { create: args.timeout };

    const bootstrapAfter = [args.bootstrapNodeApply];
    this.bootstrap = new talos.machine.Bootstrap(
      `${name}-bootstrap`,
      { node: args.bootstrapNode, endpoint: args.endpoint ?? args.bootstrapNode, clientConfiguration: args.clientConfiguration, timeouts },
      { ...child, dependsOn: bootstrapAfter },
    );

    const kubeconfigAfter = [this.bootstrap];
    this.kubeconfigResource = new talos.cluster.Kubeconfig(
      `${name}-kubeconfig`,
      { node: args.bootstrapNode, endpoint: args.endpoint ?? args.bootstrapNode, clientConfiguration: args.clientConfiguration, timeouts },
      { ...child, dependsOn: kubeconfigAfter, additionalSecretOutputs: ["kubeconfigRaw", "kubernetesClientConfiguration"] },
    );
    this.kubeconfig = pulumi.secret(this.kubeconfigResource.kubeconfigRaw);

    this.healthyAfter = (after, skipKubernetesChecks) => {
      // Runs on every update once the cluster exists. Its node list waits for the kubeconfig's
      // ID, so while that is unknown (any preview before the cluster exists) the check is
      // skipped instead of dialling nodes that are not there yet.
      const controlPlanesOnceBootstrapped = this.kubeconfigResource.id.apply(() => [...args.controlPlanes]);
      return talos.cluster
        .getHealthOutput(
          {
            clientConfiguration: args.clientConfiguration,
            controlPlaneNodes: controlPlanesOnceBootstrapped,
            workerNodes: [...(args.workers ?? [])],
            endpoints: args.endpoint ? [args.endpoint] : [...args.controlPlanes],
            skipKubernetesChecks,
            timeouts: { read: args.timeout },
          },
          { ...child, dependsOn: [this.kubeconfigResource, ...after] },
        )
        .apply((h) => h.id);
    };
    // Nodes stay NotReady until a CNI runs, so only Talos-level checks gate here.
    const healthAfter = [...args.nodeApplies];
    this.healthy = this.healthyAfter(healthAfter, true);

    this.registerOutputs({ kubeconfig: this.kubeconfig, healthy: this.healthy });
  }
}
