import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface LoadBalancerPoolArgs {
  /** IPv4 CIDRs LoadBalancer Services take their addresses from (addons.loadBalancer.addresses). Required. */
  readonly addresses: readonly string[];
  /** The Kubernetes provider built from the cluster's kubeconfig. Required. */
  readonly provider: k8s.Provider;
  /** The Cilium release: its operator registers the pool and policy CRDs. Required. */
  readonly cilium: pulumi.Resource;
}

/** The pool's spec: one block per CIDR (cilium.io/v2 CiliumLoadBalancerIPPool). */
export function ipPoolSpec(addresses: readonly string[]) {
  return { blocks: addresses.map((cidr) => ({ cidr })) };
}

/** Announce LoadBalancer IPs (not external IPs) from every node, on every interface. */
export function l2PolicySpec() {
  return { loadBalancerIPs: true, externalIPs: false };
}

/**
 * LoadBalancer addresses on a LAN: a Cilium LB IPAM pool and an L2 announcement policy, after
 * Cilium (values l2announcements.enabled, externalIPs.enabled: platform-addons.ts).
 */
export class LoadBalancerPool extends pulumi.ComponentResource {
  public readonly pool: k8s.apiextensions.CustomResource;
  public readonly policy: k8s.apiextensions.CustomResource;

  constructor(name: string, args: LoadBalancerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:LoadBalancerPool", name, {}, opts);
    const child = { parent: this, provider: args.provider, dependsOn: [args.cilium] };
    this.pool = new k8s.apiextensions.CustomResource(
      `${name}-pool`,
      { apiVersion: "cilium.io/v2", kind: "CiliumLoadBalancerIPPool", metadata: { name: "lan" }, spec: ipPoolSpec(args.addresses) },
      child,
    );
    this.policy = new k8s.apiextensions.CustomResource(
      `${name}-l2`,
      { apiVersion: "cilium.io/v2alpha1", kind: "CiliumL2AnnouncementPolicy", metadata: { name: "lan" }, spec: l2PolicySpec() },
      child,
    );
    this.registerOutputs({ addresses: [...args.addresses] });
  }
}
