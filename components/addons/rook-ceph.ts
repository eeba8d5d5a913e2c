import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PinnedChart, releaseArgs } from "./chart";
import { privilegedNamespace } from "./privileged-namespace";
import { CephSizing, mergeValues, rookClusterValues, rookOperatorValues, StorageNode, Values } from "./values";

export interface RookCephArgs {
  readonly operatorChart: PinnedChart;
  readonly clusterChart: PinnedChart;
  /** Every node with the data disks it gives to Ceph. Required. */
  readonly nodes: readonly StorageNode[];
  /** Mon and mgr counts and the tolerations that reach the data-disk nodes (placement.ts addonSizing). Required. */
  readonly sizing: CephSizing;
  /** A replicated CephBlockPool and the default StorageClass on it. Default: true. */
  readonly blockPool?: boolean;
  /** Stack-config values merged over the operator's and the cluster's derived values. Default: none. */
  readonly operatorValues?: Values;
  readonly clusterValues?: Values;
  readonly provider: k8s.Provider;
  /** Gates the releases' values (e.g. on the cluster being healthy with its CNI). Default: none. */
  readonly gate?: (values: pulumi.Input<Values>) => pulumi.Input<Values>;
}

/** Rook Ceph (seed 003): the operator, then a Ceph cluster on the listed data disks only. */
export class RookCeph extends pulumi.ComponentResource {
  public readonly operator: k8s.helm.v3.Release;
  public readonly cluster: k8s.helm.v3.Release;

  constructor(name: string, args: RookCephArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:RookCeph", name, {}, opts);
    const gate = args.gate ?? ((v: pulumi.Input<Values>) => v);
    const namespace = privilegedNamespace(`${name}-namespace`, "rook-ceph", this, args.provider, args.gate);
    this.operator = new k8s.helm.v3.Release(
      `${name}-operator`,
      releaseArgs(args.operatorChart, "rook-ceph", gate(mergeValues(rookOperatorValues(), args.operatorValues))),
      { parent: this, provider: args.provider, dependsOn: [namespace] },
    );
    const clusterAfter = [this.operator];
    this.cluster = new k8s.helm.v3.Release(
      `${name}-cluster`,
      // Not awaited: the chart's only workload is the toolbox, which mounts the mon Secret and
      // ConfigMap the operator writes once the mons have quorum (first image pulls included), so
      // Helm's wait could outlast its timeout on a first up. The CephCluster is the operator's.
      releaseArgs(args.clusterChart, "rook-ceph", gate(mergeValues(rookClusterValues(args.nodes, args.blockPool ?? true, args.sizing), args.clusterValues)), false),
      { parent: this, provider: args.provider, dependsOn: clusterAfter },
    );
    this.registerOutputs({ operator: this.operator.status, cluster: this.cluster.status });
  }
}
