import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import pins from "../../toolchain/versions.json";
import type { AddonSettings } from "../../config/schema";
import { locateChart, locateManifest, PinnedChart } from "./chart";
import { Cilium } from "./cilium";
import { CrdManifests } from "./crd-manifests";
import { GatewayController } from "./gateway";
import { HcloudCloudControllerManager } from "./hcloud-ccm";
import type { RobotLogin } from "./hcloud-values";
import { ciliumGatewayValues } from "./gateway-values";
import { Linkerd } from "./linkerd";
import { LoadBalancerPool } from "./load-balancer";
import { LinkerdViz } from "./linkerd-viz";
import { linkerdEdgeRelease } from "./linkerd-viz-values";
import { AddonPlacement, addonPlacement, addonSizing } from "./placement";
import { ciliumStatusScript, linkerdCheckScript } from "./post-install-check-plan";
import { PostInstallCheck, PostInstallChecks } from "./post-install-checks";
import { RookCeph } from "./rook-ceph";
import { schedulingNodes } from "./scheduling";
import { mergeValues, StorageNode } from "./values";

/** Holds an input back until `ready` resolves: what uses the input then waits for the gate. */
function gateOn(ready: pulumi.Output<string>) {
  return <T>(value: pulumi.Input<T>): pulumi.Output<T> => pulumi.all([ready, value]).apply(([, v]) => v as T);
}

export interface PlatformAddonsArgs {
  /** Which add-ons, with their value overrides (stack config `talos-cluster:addons`). Required. */
  readonly addons: AddonSettings;
  /** The cluster's kubeconfig (from its bootstrap). Required; secret. */
  readonly kubeconfig: pulumi.Input<string>;
  readonly podCidr: string;
  /** Every node, with its taints (stack config `key: "value:Effect"`). Required. */
  readonly nodes: readonly (StorageNode & { readonly role: "controlplane" | "worker"; readonly taints?: Readonly<Record<string, string>> })[];
  /** Whether control planes take workloads (else Talos taints them NoSchedule). Required. */
  readonly allowSchedulingOnControlPlanes: boolean;
  /** Resolves once Talos reports etcd, the API server and the nodes healthy (no CNI needed yet). Required. */
  readonly clusterReady: pulumi.Output<string>;
  /**
   * The health gate with Kubernetes checks, to run once the CNI is in: given what it must wait
   * for, resolves when Talos reports the cluster healthy. Required.
   */
  readonly healthyAfter: (after: pulumi.Resource[]) => pulumi.Output<string>;
  /**
   * Hetzner stacks: what the cloud controller manager needs (used when addons.hcloudCcm is on).
   * Default: none, not a Hetzner stack.
   */
  readonly hetzner?: {
    /** The Hetzner Cloud API token. Required; secret. */
    readonly token: pulumi.Input<string>;
    /** The cluster's private network. Required. */
    readonly networkId: pulumi.Input<string>;
    readonly location: string;
    readonly subnetCidr: string;
    /** The Robot webservice login when the stack has dedicated servers: the controller's Robot support. Default: none. */
    readonly robotLogin?: pulumi.Input<RobotLogin>;
  };
  /** How long each post-install check may wait for its add-on, e.g. 10m. Default: 10m. */
  readonly checkTimeout?: string;
}

/**
 * The cluster's add-ons, in order: kubeconfig -> cluster ready (Talos health, no CNI needed) ->
 * CRDs (prometheus-operator, Gateway API) -> Cilium, and beside it on Hetzner the cloud controller
 * manager -> cluster healthy with its CNI (and its nodes initialized) -> Rook
 * Ceph, Linkerd -> Linkerd Viz, the Gateway controller -> post-install checks. A health gate
 * orders what follows through the inputs it gates.
 */
export class PlatformAddons extends pulumi.ComponentResource {
  public readonly provider: k8s.Provider;
  public readonly healthy?: pulumi.Output<string>;
  /** Per add-on and component: replicas and the nodes they can run on (placement.ts). */
  public readonly placement: AddonPlacement;
  /** The Gateway's first address, or null (no gateway, or no address yet). */
  public readonly gatewayAddress: pulumi.Output<string | null>;

  constructor(name: string, args: PlatformAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:Platform", name, {}, opts);
    const { addons } = args;
    // Every add-on goes through this provider, built from our own kubeconfig output.
    this.provider = new k8s.Provider(`${name}-kubernetes`, { kubeconfig: args.kubeconfig, enableServerSideApply: true }, { parent: this });
    const provider = this.provider;
    const child = { parent: this };
    const afterReady = gateOn(args.clusterReady);
    // Replicas and tolerations from the nodes that can hold each add-on (checked at config parse).
    const nodes = schedulingNodes(args.nodes, args.allowSchedulingOnControlPlanes);
    const sizing = addonSizing(nodes);
    this.placement = addonPlacement({ addons, nodes, podCidr: args.podCidr }).placement;
    // Every chart and manifest from the configured source (repositories by default).
    const chart = (pin: PinnedChart) => locateChart(pin, addons.chartSource);
    const manifest = (url: string) => locateManifest(url, addons.chartSource);

    const crds: pulumi.Resource[] = [];
    if (addons.prometheusOperatorCrds.enabled) {
      crds.push(new CrdManifests(`${name}-prometheus-operator-crds`, { url: manifest(pins.addons.prometheusOperatorCrds.url), version: pins.addons.prometheusOperatorCrds.version, provider, gate: afterReady }, child));
    }
    const gateway = addons.gateway.enabled ? addons.gateway : undefined;
    // Contour's provisioned instances watch TLSRoute and TCPRoute: the experimental channel of the
    // same Gateway API release then replaces the standard one (one source for every CRD).
    const gatewayApiPin = gateway?.controller === "contour" ? pins.addons.gatewayApiExperimental : pins.addons.gatewayApi;
    const gatewayApi = addons.gatewayApi.enabled
      ? new CrdManifests(`${name}-gateway-api-crds`, { url: manifest(gatewayApiPin.url), version: gatewayApiPin.version, provider, gate: afterReady }, child)
      : undefined;
    if (gatewayApi) crds.push(gatewayApi);

    const ciliumAfter = crds;
    const cilium = addons.cilium.enabled
      ? new Cilium(
          `${name}-cilium`,
          {
            chart: chart(pins.addons.cilium),
            facts: { podCidr: args.podCidr, serviceMonitors: addons.prometheusOperatorCrds.enabled, linkerd: addons.linkerd.enabled, l2Announcements: addons.loadBalancer.addresses.length > 0, ...sizing.cilium },
            values: gateway?.controller === "cilium" ? mergeValues(ciliumGatewayValues(), addons.cilium.values) : addons.cilium.values,
            provider,
            after: ciliumAfter,
            gate: afterReady,
          },
          child,
        )
      : undefined;

    if (cilium && addons.loadBalancer.addresses.length) {
      new LoadBalancerPool(`${name}-load-balancer`, { addresses: addons.loadBalancer.addresses, provider, cilium: cilium.release }, child);
    }

    // Hetzner: kubelets run with an external cloud provider, so every node is tainted
    // uninitialized until this controller initializes it. Not after Cilium's release: that
    // release waits for Hubble relay and UI, which do not tolerate the taint, so it would wait for
    // this controller; the controller's own pod needs only the nodes Ready (Cilium's agent).
    const ccm =
      args.hetzner && addons.hcloudCcm.enabled
        ? new HcloudCloudControllerManager(
            `${name}-hcloud-ccm`,
            {
              chart: chart(pins.addons.hcloudCloudControllerManager),
              facts: { location: args.hetzner.location, subnetCidr: args.hetzner.subnetCidr, podCidr: args.podCidr },
              values: addons.hcloudCcm.values,
              token: args.hetzner.token,
              networkId: args.hetzner.networkId,
              robotLogin: args.hetzner.robotLogin,
              provider,
              gate: afterReady,
            },
            child,
          )
        : undefined;

    // Until the CNI runs nothing schedules; the remaining add-ons wait for a healthy cluster.
    const healthAfter = [...(cilium ? [cilium.release] : crds), ...(ccm ? [ccm.release] : [])];
    this.healthy = args.healthyAfter(healthAfter);
    const afterHealthy = gateOn(this.healthy);

    if (addons.rookCeph.enabled) {
      new RookCeph(
        `${name}-rook-ceph`,
        {
          operatorChart: chart(pins.addons.rookCeph),
          clusterChart: chart(pins.addons.rookCephCluster),
          nodes: args.nodes,
          sizing: sizing.rookCeph,
          blockPool: addons.rookCeph.blockPool,
          operatorValues: addons.rookCeph.operatorValues,
          clusterValues: addons.rookCeph.clusterValues,
          provider,
          gate: afterHealthy,
        },
        child,
      );
    }
    let linkerd: Linkerd | undefined;
    if (addons.linkerd.enabled) {
      linkerd = new Linkerd(
        `${name}-linkerd`,
        {
          crdsChart: chart(pins.addons.linkerdCrds),
          controlPlaneChart: chart(pins.addons.linkerdControlPlane),
          ha: sizing.linkerd.ha,
          tolerations: sizing.linkerd.tolerations,
          trustAnchorValidityHours: addons.linkerd.trustAnchorValidityHours,
          issuerValidityHours: addons.linkerd.issuerValidityHours,
          values: addons.linkerd.values,
          provider,
          after: gatewayApi ? [gatewayApi] : [],
          gate: afterHealthy,
        },
        child,
      );
    }
    // Linkerd Viz at the control plane's version, after it: its injector meshes the viz pods.
    const linkerdVizChart = chart({ ...pins.addons.linkerdViz, version: pins.addons.linkerdControlPlane.version });
    const viz =
      linkerd && addons.linkerdViz.enabled
        ? new LinkerdViz(`${name}-linkerd-viz`, { chart: linkerdVizChart, values: addons.linkerdViz.values, provider, after: [linkerd.controlPlane], gate: afterHealthy }, child)
        : undefined;
    const gatewayController =
      gateway &&
      new GatewayController(
        `${name}-gateway`,
        {
          settings: gateway,
          contourFiles: pins.addons.contourGatewayProvisioner.files.map(manifest),
          provider,
          after: [...(gatewayApi ? [gatewayApi] : []), ...(cilium && gateway.controller === "cilium" ? [cilium.release] : [])],
          // An address is coming only where something hands LoadBalancer Services one.
          awaitAddress: (cilium !== undefined && addons.loadBalancer.addresses.length > 0) || ccm !== undefined,
          gate: afterHealthy,
        },
        child,
      );
    this.gatewayAddress = gatewayController ? gatewayController.address : pulumi.output(null);

    // The tools' own checks, each after its add-on and only when that add-on changed.
    const timeout = args.checkTimeout ?? "10m";
    const checks: PostInstallCheck[] = [];
    if (linkerd && addons.postInstallChecks.linkerd) {
      const script = linkerdCheckScript(pins.clusterClis.linkerd as { binary: "linkerd"; install: string }, linkerdEdgeRelease(pins.addons.linkerdControlPlane.version), timeout);
      checks.push({ role: "linkerd-check", script, releases: [linkerd.controlPlane, ...(viz ? [viz.release] : [])], gate: afterHealthy });
    }
    if (cilium && addons.postInstallChecks.cilium) {
      const script = ciliumStatusScript(pins.clusterClis.cilium as { binary: "cilium"; install: string }, "cilium", timeout);
      checks.push({ role: "cilium-status", script, releases: [cilium.release], gate: afterHealthy });
    }
    if (checks.length) new PostInstallChecks(`${name}-checks`, { checks, kubeconfig: args.kubeconfig }, child);
    this.registerOutputs({ healthy: this.healthy, placement: this.placement, gatewayAddress: this.gatewayAddress });
  }
}
