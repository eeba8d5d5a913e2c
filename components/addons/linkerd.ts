import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PinnedChart, releaseArgs } from "./chart";
import { LinkerdIdentity } from "./linkerd-identity";
import { privilegedNamespace } from "./privileged-namespace";
import type { Toleration } from "./scheduling";
import { linkerdControlPlaneValues, linkerdCrdsValues, mergeValues, Values } from "./values";

export interface LinkerdArgs {
  readonly crdsChart: PinnedChart;
  readonly controlPlaneChart: PinnedChart;
  /** High-availability values (values-ha.yaml); on when 3 nodes can hold the controllers (placement.ts). Required. */
  readonly ha: boolean;
  /** Tolerations of the control-plane workloads (e.g. the control-plane taint, seed 003). Default: none. */
  readonly tolerations?: readonly Toleration[];
  /** Trust anchor lifetime in hours. Default: 87600 (10 years). */
  readonly trustAnchorValidityHours?: number;
  /** Issuer lifetime in hours. Default: 8760 (1 year, seed 003). */
  readonly issuerValidityHours?: number;
  /** Stack-config values merged over the derived control-plane values. Default: none. */
  readonly values?: Values;
  readonly provider: k8s.Provider;
  /** What must exist first (the Gateway API CRDs). Default: none. */
  readonly after?: readonly pulumi.Resource[];
  /** Gates the releases' values (e.g. on the cluster being healthy with its CNI). Default: none. */
  readonly gate?: (values: pulumi.Input<Values>) => pulumi.Input<Values>;
}

/**
 * Linkerd (seed 003): its identity (LinkerdIdentity), its CRDs, then the control plane.
 */
export class Linkerd extends pulumi.ComponentResource {
  public readonly trustAnchorPem: pulumi.Output<string>;
  public readonly issuerPem: pulumi.Output<string>;
  public readonly controlPlane: k8s.helm.v3.Release;

  constructor(name: string, args: LinkerdArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:Linkerd", name, {}, opts);
    const child = { parent: this };
    const gate = args.gate ?? ((v: pulumi.Input<Values>) => v);
    const identity = new LinkerdIdentity(
      `${name}-identity`,
      { trustAnchorValidityHours: args.trustAnchorValidityHours, issuerValidityHours: args.issuerValidityHours },
      child,
    );
    this.trustAnchorPem = identity.trustAnchorPem;
    this.issuerPem = identity.issuerCertPem;

    const namespace = privilegedNamespace(`${name}-namespace`, "linkerd", this, args.provider, args.gate);
    const crds = new k8s.helm.v3.Release(`${name}-crds`, releaseArgs(args.crdsChart, "linkerd", gate(linkerdCrdsValues())), {
      ...child,
      provider: args.provider,
      dependsOn: [namespace, ...(args.after ?? [])],
    });
    const values = pulumi
      .all([identity.trustAnchorPem, identity.issuerCertPem, identity.issuerKeyPem])
      .apply(([trustAnchorPem, issuerCertPem, issuerKeyPem]) =>
        mergeValues(linkerdControlPlaneValues({ trustAnchorPem, issuerCertPem, issuerKeyPem, ha: args.ha, tolerations: args.tolerations ?? [] }), args.values),
      );
    const controlPlaneAfter = [crds];
    this.controlPlane = new k8s.helm.v3.Release(`${name}-control-plane`, releaseArgs(args.controlPlaneChart, "linkerd", gate(pulumi.secret(values))), {
      ...child,
      provider: args.provider,
      dependsOn: controlPlaneAfter,
    });
    this.registerOutputs({ trustAnchorPem: this.trustAnchorPem, issuerPem: this.issuerPem });
  }
}
