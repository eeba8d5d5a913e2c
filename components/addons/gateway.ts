import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { gatewayAddress, gatewayClassName, gatewayClassSpec, gatewayMetadata, GatewaySettings, gatewaySpec } from "./gateway-values";
import type { Values } from "./values";

export interface GatewayControllerArgs {
  /** Controller, Gateway name, namespace and listeners (stack config addons.gateway). Required. */
  readonly settings: GatewaySettings;
  /** Contour's pinned provisioner files (toolchain/versions.json); used with controller contour. Required. */
  readonly contourFiles: readonly string[];
  readonly provider: k8s.Provider;
  /** What must exist first (the Gateway API CRDs; Cilium's release for controller cilium). Required. */
  readonly after: readonly pulumi.Resource[];
  /**
   * Whether something hands out LoadBalancer addresses (LB IPAM pool, Hetzner cloud controller):
   * `up` then waits until the Gateway has an address. Default: false.
   */
  readonly awaitAddress?: boolean;
  /** Holds inputs back until the cluster is healthy with its CNI. Default: none. */
  readonly gate?: <T>(value: pulumi.Input<T>) => pulumi.Input<T>;
}

/**
 * A Gateway API controller with its GatewayClass and one Gateway (seed 003). contour: Contour's
 * Gateway provisioner, which runs a Contour and an Envoy for each Gateway of its class; cilium:
 * Cilium's operator serves the class itself (its values come from ciliumGatewayValues).
 * Order: after -> (Contour provisioner) -> GatewayClass -> namespace, Gateway.
 */
export class GatewayController extends pulumi.ComponentResource {
  public readonly gatewayClass: k8s.apiextensions.CustomResource;
  public readonly gateway: k8s.apiextensions.CustomResource;
  /** The Gateway's first address from its status, or null while it has none (stack output gatewayAddress). */
  public readonly address: pulumi.Output<string | null>;

  constructor(name: string, args: GatewayControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:GatewayController", name, {}, opts);
    const { settings, provider } = args;
    const gate = args.gate ?? (<T>(v: pulumi.Input<T>) => v);
    const child = { parent: this, provider };

    const provisioner =
      settings.controller === "contour"
        ? new k8s.yaml.v2.ConfigGroup(`${name}-contour-provisioner`, { files: gate([...args.contourFiles]) }, { ...child, dependsOn: [...args.after] })
        : undefined;
    const classAfter = provisioner ? [provisioner] : [...args.after];
    this.gatewayClass = new k8s.apiextensions.CustomResource(
      `${name}-class`,
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "GatewayClass",
        metadata: { name: gatewayClassName(settings.controller) },
        spec: gate<Values>(gatewayClassSpec(settings.controller)),
      },
      { ...child, dependsOn: classAfter },
    );
    // No pod-security labels: Contour's provisioned Envoy runs unprivileged without host ports
    // (its dataplane objects at v1.32.5), and Cilium's Envoy lives in Cilium's namespace.
    const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: gate(settings.namespace) } }, child);
    this.gateway = new k8s.apiextensions.CustomResource(
      `${name}-gateway`,
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        metadata: gatewayMetadata(settings, args.awaitAddress ?? false),
        spec: gatewaySpec(settings),
        // Named so the resource's outputs carry the live object's status (a CustomResource has
        // outputs for its argument keys only); never sent, the controller writes it.
        status: undefined,
      },
      { ...child, dependsOn: [this.gatewayClass, namespace] },
    );
    this.address = (this.gateway as unknown as { status: pulumi.Output<unknown> }).status.apply(gatewayAddress);
    this.registerOutputs({ gatewayClass: gatewayClassName(settings.controller), address: this.address });
  }
}
