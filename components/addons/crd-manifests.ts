import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface CrdManifestsArgs {
  /** The pinned release manifest URL (toolchain/versions.json). Required. */
  readonly url: string;
  /** The pinned release version, recorded as an output. Required. */
  readonly version: string;
  /** The Kubernetes provider built from the cluster's kubeconfig. Required. */
  readonly provider: k8s.Provider;
  /** Holds the manifest back (e.g. until the cluster is ready). Default: none. */
  readonly gate?: (url: string) => pulumi.Input<string>;
}

/**
 * CRDs from a pinned upstream release manifest (prometheus-operator, Gateway API), applied
 * server-side (the provider's default) so large CRDs fit and field ownership is explicit.
 */
export class CrdManifests extends pulumi.ComponentResource {
  public readonly manifests: k8s.yaml.v2.ConfigFile;

  constructor(name: string, args: CrdManifestsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:CrdManifests", name, {}, opts);
    this.manifests = new k8s.yaml.v2.ConfigFile(`${name}-manifests`, { file: args.gate ? args.gate(args.url) : args.url }, { parent: this, provider: args.provider });
    this.registerOutputs({ version: args.version });
  }
}
