import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import type { HetznerSettings, Node } from "../../config/schema";
import { DEDICATED_PLATFORM } from "../../config/hetzner";
import { toYaml } from "../talos/patches";
import type { ImageSchematic } from "../talos/image-schematic";
import type { ClusterInfrastructure, NodeHost } from "../talos/talos-cluster";
import { Architecture, architectureOf, buildServerTypes, SnapshotBuilder, TalosSnapshots } from "./talos-snapshots";
import { certSansPatch, firewallRules, hetznerLayers, KUBE_API_PORT, kubespanFirewallRule, labelSelector, loadBalancerPrivateIp, serverLabels, TALOS_API_PORT } from "./plan";

export interface HetznerCloudArgs {
  /** Cluster name: labels every server and selects them. Required. */
  readonly clusterName: string;
  /** The stack's Hetzner settings. Required. */
  readonly settings: HetznerSettings;
  /** The Hetzner Cloud API token. Required; secret. */
  readonly token: pulumi.Input<string>;
  /** Whether Hetzner's cloud controller manager runs (addons.hcloudCcm): kubelets then use an external cloud provider. Default: false. */
  readonly cloudController?: boolean;
  /** The Image Factory's base URL and the Talos version: the snapshots `up` builds when settings.image is absent. Required then. */
  readonly factoryUrl?: string;
  readonly talosVersion?: string;
  /** How the snapshot builds reach Hetzner and the rescue system. Default: Hetzner's own. */
  readonly snapshotBuilder?: SnapshotBuilder;
  /**
   * The stack also has LAN nodes (a hybrid stack, README "Hybrid clusters"): the Hetzner patches
   * then apply to the servers alone (ClusterInfrastructure.platform) and the firewall admits
   * KubeSpan's WireGuard. Default: false, every node is a Hetzner server.
   */
  readonly hybrid?: boolean;
}

/** Hetzner's network zone for a location. */
export function networkZone(location: string): string {
  if (location === "ash") return "us-east";
  if (location === "hil") return "us-west";
  if (location === "sin") return "ap-southeast";
  return "eu-central";
}

/**
 * Hetzner Cloud for a Talos cluster (seeds 002, 004): private network and subnet, a spread
 * placement group per role, a firewall that lets only the admin networks reach the Talos and
 * Kubernetes APIs, a load balancer for both APIs in front of the control planes, and one server
 * per node, booted from the Talos snapshot with its machine config as (secret) user data.
 */
export class HetznerCloud extends pulumi.ComponentResource implements ClusterInfrastructure {
  public readonly endpoint: pulumi.Output<string>;
  public readonly talosEndpoint: pulumi.Output<string>;
  public readonly patches: pulumi.Input<string>[];
  /** Platform patches for control planes only (etcd over the private network). */
  public readonly controlplanePatches: readonly string[];
  /** In a hybrid stack: the servers' own layer (hetznerHybridLayers). */
  public readonly platform?: { readonly name: string; readonly patches: Readonly<Record<Node["role"], string>> };
  public readonly loadBalancerIp: pulumi.Output<string>;
  /** The private network's ID (the cloud controller's HCLOUD_NETWORK). */
  public readonly networkId: pulumi.Output<string>;
  private readonly args: HetznerCloudArgs;
  private readonly provider: hcloud.Provider;
  private readonly network: hcloud.Network;
  private readonly subnet: hcloud.NetworkSubnet;
  private readonly placementGroups: Record<Node["role"], hcloud.PlacementGroup>;
  /** The Talos image by architecture: the stack's own snapshot (settings.image) for every one, or the built ones (bootImage). */
  private images?: Partial<Record<Architecture, pulumi.Output<string>>>;
  /** The snapshots `up` builds; none when settings.image names one. Set by bootImage. */
  public snapshots?: TalosSnapshots;

  private readonly name: string;

  constructor(name: string, args: HetznerCloudArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:hetzner:Cloud", name, {}, opts);
    this.name = name;
    this.args = args;
    const { settings } = args;
    this.provider = new hcloud.Provider(`${name}-hcloud`, { token: args.token }, { parent: this });
    const child = { parent: this, provider: this.provider };
    const clusterLabels = { "talos-cluster/cluster": args.clusterName };

    this.network = new hcloud.Network(`${name}-network`, { ipRange: settings.networkCidr, labels: clusterLabels }, child);
    this.networkId = this.network.id;
    this.subnet = new hcloud.NetworkSubnet(
      `${name}-subnet`,
      { networkId: this.network.id.apply(Number), type: "cloud", networkZone: networkZone(settings.location), ipRange: settings.subnetCidr },
      child,
    );
    this.placementGroups = {
      controlplane: new hcloud.PlacementGroup(`${name}-controlplane`, { type: "spread", labels: { ...clusterLabels, "talos-cluster/role": "controlplane" } }, child),
      worker: new hcloud.PlacementGroup(`${name}-worker`, { type: "spread", labels: { ...clusterLabels, "talos-cluster/role": "worker" } }, child),
    };
    new hcloud.Firewall(
      `${name}-firewall`,
      { labels: clusterLabels, rules: [...firewallRules(settings), ...(args.hybrid ? [kubespanFirewallRule()] : [])], applyTos: [{ labelSelector: labelSelector(clusterLabels) }] },
      child,
    );

    const lb = new hcloud.LoadBalancer(`${name}-api`, { loadBalancerType: settings.loadBalancerType, location: settings.location, labels: clusterLabels }, child);
    const lbNetwork = new hcloud.LoadBalancerNetwork(
      `${name}-api-network`,
      { loadBalancerId: lb.id.apply(Number), subnetId: this.subnet.id, ip: loadBalancerPrivateIp(settings) },
      child,
    );
    for (const port of [KUBE_API_PORT, TALOS_API_PORT]) {
      new hcloud.LoadBalancerService(
        `${name}-api-${port}`,
        {
          loadBalancerId: lb.id,
          protocol: "tcp",
          listenPort: port,
          destinationPort: port,
          healthCheck: { protocol: "tcp", port, interval: 10, timeout: 5, retries: 3 },
        },
        child,
      );
    }
    // Control planes by label, over the private network: a new control plane joins by itself.
    const targetsAfter = [lbNetwork];
    new hcloud.LoadBalancerTarget(
      `${name}-api-targets`,
      { type: "label_selector", loadBalancerId: lb.id.apply(Number), labelSelector: labelSelector(serverLabels(args.clusterName, { role: "controlplane" })), usePrivateIp: true },
      { ...child, dependsOn: targetsAfter },
    );

    this.loadBalancerIp = lb.ipv4;
    this.endpoint = pulumi.interpolate`https://${lb.ipv4}:${KUBE_API_PORT}`;
    this.talosEndpoint = lb.ipv4;
    // Plain strings where they are known now, so every layer's kernel args reach the nodes'
    // upgrade targets (TalosCluster nodeKernelArgs reads known layers); only the SANs wait for the address.
    const layers = hetznerLayers(settings, { cloudController: args.cloudController ?? false, hybrid: args.hybrid ?? false }, lb.ipv4.apply((ip) => toYaml(certSansPatch(ip))));
    this.patches = layers.patches;
    this.controlplanePatches = layers.controlplanePatches;
    this.platform = layers.platform;
    const image = settings.image;
    if (image) {
      const id =
        image.snapshotId !== undefined
          ? pulumi.output(String(image.snapshotId))
          : hcloud.getImageOutput({ withSelector: image.selector, mostRecent: true }, child).apply((i) => String(i.id));
      // One named snapshot: the config check let only one architecture through.
      this.images = { amd64: id, arm64: id };
    }

    this.registerOutputs({ endpoint: this.endpoint, loadBalancerIp: this.loadBalancerIp });
  }

  /**
   * Without settings.image, the Talos snapshots of the cluster's schematic, one per architecture
   * the pools need, built once the factory knows the schematic; called before any hostFor.
   */
  bootImage(schematic: ImageSchematic): void {
    if (this.images) return;
    const { settings } = this.args;
    this.snapshots = new TalosSnapshots(
      `${this.name}-talos`,
      {
        clusterName: this.args.clusterName,
        token: this.args.token,
        factoryUrl: this.args.factoryUrl!,
        talosVersion: this.args.talosVersion!,
        schematicId: schematic.ready,
        serverTypes: buildServerTypes(settings.pools),
        location: settings.location,
        after: schematic.registration,
        builder: this.args.snapshotBuilder,
      },
      { parent: this },
    );
    this.images = this.snapshots.imageIds;
  }

  /** The node's server: booted from the Talos image of its architecture with its complete config as user data. */
  hostFor(node: Node, machineConfig: pulumi.Output<string>): NodeHost {
    // A dedicated server is made ready by DedicatedServers (index.ts, TalosCluster machines) and
    // waits in maintenance mode at its own address: the load balancer does not lead there.
    if (node.platform === DEDICATED_PLATFORM) return { resources: [], endpoint: node.address };
    const withPool = node as Node & { pool?: string; serverType?: string; location?: string };
    const image = this.images?.[architectureOf(withPool.serverType!)];
    if (!image) throw new Error(`no Talos image for ${node.name}: bootImage was not called before hostFor`);
    const serverAfter = [this.subnet];
    const server = new hcloud.Server(
      node.name,
      {
        name: node.name,
        serverType: withPool.serverType!,
        image,
        location: withPool.location,
        placementGroupId: this.placementGroups[node.role].id.apply(Number),
        labels: serverLabels(this.args.clusterName, withPool),
        userData: pulumi.secret(machineConfig),
        networks: [{ networkId: this.network.id.apply(Number), ip: node.address }],
        publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
      },
      {
        parent: this,
        provider: this.provider,
        dependsOn: serverAfter,
        // Later config changes go through the Talos API (the serial config rollout), not a rebuild; a new
        // snapshot is rolled out by an upgrade, not by replacing servers.
        ignoreChanges: ["userData", "image"],
      },
    );
    return { resources: [server] };
  }
}
