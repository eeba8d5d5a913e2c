// Hetzner Cloud inputs derived from the stack config. Pure: tests deep-equal them.
import type { HetznerSettings, Node } from "../../config/schema";
import { HETZNER_PLATFORM } from "../../config/hetzner";
import { formatIpv4, parseCidr } from "../../config/ip";
import { toYaml } from "../talos/patches";

/** The Talos API and the Kubernetes API: the only ports the servers expose to the internet by default. */
export const TALOS_API_PORT = 50000;
export const KUBE_API_PORT = 6443;

export interface FirewallRule {
  readonly direction: "in";
  readonly protocol: "tcp" | "udp";
  readonly port: string;
  readonly sourceIps: string[];
  readonly description: string;
}

/** Inbound rules: the two APIs from the admin networks only, plus whatever the stack adds. */
export function firewallRules(hetzner: HetznerSettings): FirewallRule[] {
  return [
    { direction: "in", protocol: "tcp", port: String(TALOS_API_PORT), sourceIps: [...hetzner.adminCidrs], description: "Talos API from admin networks" },
    { direction: "in", protocol: "tcp", port: String(KUBE_API_PORT), sourceIps: [...hetzner.adminCidrs], description: "Kubernetes API from admin networks" },
    ...hetzner.extraFirewallRules.map((r) => ({
      direction: "in" as const,
      protocol: r.protocol,
      port: r.port,
      sourceIps: [...r.sourceIps],
      description: r.description ?? `configured: ${r.protocol}/${r.port}`,
    })),
  ];
}

/** Hetzner labels on every server: the firewall and the load balancer select by them. */
export function serverLabels(clusterName: string, node: Pick<Node, "role"> & { pool?: string }): Record<string, string> {
  return {
    "talos-cluster/cluster": clusterName,
    "talos-cluster/role": node.role,
    ...(node.pool ? { "talos-cluster/pool": node.pool } : {}),
  };
}

export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** The load balancer's own address on the private network: the subnet's second host (the first is Hetzner's gateway). */
export function loadBalancerPrivateIp(hetzner: HetznerSettings): string {
  return formatIpv4(parseCidr(hetzner.subnetCidr)!.first + 2);
}

/**
 * Hetzner-specific Talos patches for every node (seed 002, seed 004). cloudController: Hetzner's
 * cloud controller manager runs (addons.hcloudCcm), so kubelets, the API server and the
 * controller manager run with an external cloud provider (Talos's cluster.externalCloudProvider:
 * machinery v1.14.1 kubelet and control-plane controllers add --cloud-provider=external); every
 * node's kubelet reads it, so workers carry it too.
 */
export function hetznerPatches(hetzner: HetznerSettings, cloudController: boolean): object[] {
  const patches: object[] = [
    // Kubelets talk over the private network, never the public interface.
    { machine: { kubelet: { nodeIP: { validSubnets: [hetzner.subnetCidr] } } } },
  ];
  if (cloudController) patches.push({ cluster: { externalCloudProvider: { enabled: true } } });
  if (hetzner.kubespan) {
    // WireGuard between all nodes; discovery lets them find each other's keys (seed 002).
    patches.push({ machine: { network: { kubespan: { enabled: true } } }, cluster: { discovery: { enabled: true } } });
  }
  if (hetzner.diskEncryption) {
    // LUKS2 keyed to each node's identity: data at rest is unreadable off the server (seed 002).
    const luks2 = { provider: "luks2", keys: [{ nodeID: {}, slot: 0 }] };
    patches.push({ machine: { systemDiskEncryption: { state: luks2, ephemeral: luks2 } } });
  }
  return patches;
}

/**
 * Hetzner patches for control planes only: etcd peers talk over the private network. Talos
 * refuses etcd settings in a worker's config ("etcd config is only allowed on control plane
 * machines"), so this is not in the every-node layer.
 */
export function hetznerControlPlanePatches(hetzner: HetznerSettings): object[] {
  return [{ cluster: { etcd: { advertisedSubnets: [hetzner.subnetCidr] } } }];
}

/** The load balancer's public address in the API certificates, so clients can verify it. */
export function certSansPatch(loadBalancerIp: string): object {
  return { machine: { certSANs: [loadBalancerIp] }, cluster: { apiServer: { certSANs: [loadBalancerIp] } } };
}

/** Plain objects merged key by key, later values winning (the patches merged here share no list). */
export function mergeObjects(...objects: object[]): object {
  const out: Record<string, unknown> = {};
  for (const o of objects) {
    for (const [k, v] of Object.entries(o)) {
      const prev = out[k];
      const plain = (x: unknown): x is object => typeof x === "object" && x !== null && !Array.isArray(x);
      out[k] = plain(prev) && plain(v) ? mergeObjects(prev, v) : v;
    }
  }
  return out;
}

/**
 * A hybrid stack's Hetzner layer (README, "Hybrid clusters"): the every-node and control-plane
 * patches above apply to the Hetzner servers alone, as one layer of their own per role, since a
 * LAN node's kubelet and etcd must pick its LAN address, not one in hetzner.subnetCidr. The load
 * balancer's certificate SANs stay in the cluster-wide layer: every control plane serves the
 * endpoint's name. The cloud controller never runs in a hybrid stack (config/checks.ts).
 */
export function hetznerHybridLayers(hetzner: HetznerSettings): Record<Node["role"], object> {
  const all = hetznerPatches(hetzner, false);
  return { worker: mergeObjects(...all), controlplane: mergeObjects(...all, ...hetznerControlPlanePatches(hetzner)) };
}

/** WireGuard's port, which KubeSpan listens on (siderolabs/talos constants.KubeSpanDefaultPort). */
export const KUBESPAN_PORT = 51820;

/**
 * With KubeSpan between LAN and cloud nodes, a LAN node behind NAT dials the servers' public
 * addresses on UDP 51820 (KubeSpan tries every endpoint a peer announces); the firewall is
 * stateful, so the replies return. From anywhere: a home LAN's public address changes, and
 * WireGuard answers no packet that is not authenticated with a peer's key, so the open port
 * tells a scanner nothing (WireGuard paper, section 5.1 "Silence is a Virtue").
 */
export function kubespanFirewallRule(): FirewallRule {
  return { direction: "in", protocol: "udp", port: String(KUBESPAN_PORT), sourceIps: ["0.0.0.0/0", "::/0"], description: "KubeSpan (WireGuard) from LAN nodes" };
}

/**
 * What HetznerCloud hands the cluster as its layers (ClusterInfrastructure): the load balancer's
 * SANs (`sans`, a YAML patch, an output in the program) always cluster-wide; the rest
 * cluster-wide too in a Hetzner-only stack, or the servers' own layer in a hybrid one.
 */
export function hetznerLayers<S>(hetzner: HetznerSettings, options: { readonly cloudController: boolean; readonly hybrid: boolean }, sans: S) {
  if (options.hybrid) {
    const own = hetznerHybridLayers(hetzner);
    return {
      patches: [sans] as (string | S)[],
      controlplanePatches: [] as string[],
      platform: { name: HETZNER_PLATFORM, patches: { controlplane: toYaml(own.controlplane), worker: toYaml(own.worker) } },
    };
  }
  return {
    patches: [...hetznerPatches(hetzner, options.cloudController).map((p) => toYaml(p)), sans] as (string | S)[],
    controlplanePatches: hetznerControlPlanePatches(hetzner).map((p) => toYaml(p)),
    platform: undefined,
  };
}
