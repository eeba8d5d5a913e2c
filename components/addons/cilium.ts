import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PinnedChart, releaseArgs } from "./chart";
import { privilegedNamespace } from "./privileged-namespace";
import { ciliumValues, CiliumFacts, mergeValues, Values } from "./values";

export interface CiliumArgs {
  /** The pinned chart. Required. */
  readonly chart: PinnedChart;
  /** Cluster facts the values derive from. Required. */
  readonly facts: CiliumFacts;
  /** Stack-config values merged over the derived ones. Default: none. */
  readonly values?: Values;
  /** The Kubernetes provider. Required. */
  readonly provider: k8s.Provider;
  /** What must exist first (the prometheus-operator CRDs, for its ServiceMonitors). Default: none. */
  readonly after?: readonly pulumi.Resource[];
  /** Holds the release's values back (e.g. until the cluster is ready). Default: none. */
  readonly gate?: (values: pulumi.Input<Values>) => pulumi.Input<Values>;
}

/** Cilium as the cluster's CNI and kube-proxy replacement, in its own privileged namespace. */
export class Cilium extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: CiliumArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:Cilium", name, {}, opts);
    const namespace = privilegedNamespace(`${name}-namespace`, "cilium", this, args.provider, args.gate);
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      releaseArgs(args.chart, "cilium", (args.gate ?? ((v) => v))(mergeValues(ciliumValues(args.facts), args.values))),
      { parent: this, provider: args.provider, dependsOn: [namespace, ...(args.after ?? [])] },
    );
    this.registerOutputs({ status: this.release.status });
  }
}
