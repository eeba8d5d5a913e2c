// Talos config patches derived from the stack config. Pure: each returns a plain object that
// tests deep-equal; toYaml turns it into the text the Talos provider merges.
import YAML from "yaml";

/** Kubelet memory reservations (seed 000, "Memory reservations"). */
export interface KubeletReservations {
  readonly systemMemory: string;
  readonly kubeMemory: string;
  readonly evictionMemory: string;
}

export interface ClusterPatchInput {
  readonly cni: "cilium" | "flannel";
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly allowSchedulingOnControlPlanes: boolean;
  readonly installerImage: string;
  readonly kubeletReservations: KubeletReservations;
}

/** KubePrism's port: Cilium reaches the API through it on every node (localhost:7445). */
export const KUBEPRISM_PORT = 7445;

/** The cluster-wide layer, first of all layers so patch files can override any of it. */
export function clusterPatches(input: ClusterPatchInput): object[] {
  return [
    {
      cluster: {
        network: {
          podSubnets: [input.podCidr],
          serviceSubnets: [input.serviceCidr],
          // Cilium is installed by this program after bootstrap; Talos must not install its own CNI.
          ...(input.cni === "cilium" ? { cni: { name: "none" } } : {}),
        },
        // Cilium replaces kube-proxy; two proxies would fight over the same service rules.
        ...(input.cni === "cilium" ? { proxy: { disabled: true } } : {}),
      },
    },
    // Cilium and other host-network pods reach the API through KubePrism, not the endpoint.
    { machine: { features: { kubePrism: { enabled: true, port: KUBEPRISM_PORT } } } },
    // With no workers, pods must be allowed onto the control planes or nothing schedules.
    { cluster: { allowSchedulingOnControlPlanes: input.allowSchedulingOnControlPlanes } },
    // The Image Factory installer carries the schematic's extensions and kernel args into installs and upgrades.
    { machine: { install: { image: input.installerImage } } },
    {
      machine: {
        kubelet: {
          extraConfig: {
            systemReserved: { memory: input.kubeletReservations.systemMemory },
            kubeReserved: { memory: input.kubeletReservations.kubeMemory },
            // Only the memory threshold comes from the stack; the kubelet then unsets every other
            // default, so patches/all/20-kubelet-eviction.yaml restores them (merged key by key).
            evictionHard: { "memory.available": input.kubeletReservations.evictionMemory },
          },
        },
      },
    },
  ];
}

export interface NodePatchInput {
  readonly name: string;
  readonly installDisk: string;
  readonly network?: {
    readonly interface: string;
    readonly addresses: readonly string[];
    readonly gateway: string;
    readonly nameservers: readonly string[];
  };
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: Readonly<Record<string, string>>;
}

/** The node's own layer: identity, install disk, addressing, labels and taints. */
export function nodePatch(node: NodePatchInput): object {
  const network: Record<string, unknown> = { hostname: node.name };
  if (node.network) {
    network.interfaces = [
      {
        interface: node.network.interface,
        dhcp: false,
        addresses: [...node.network.addresses],
        routes: [{ network: "0.0.0.0/0", gateway: node.network.gateway }],
      },
    ];
    network.nameservers = [...node.network.nameservers];
  }
  const machine: Record<string, unknown> = { network, install: { disk: node.installDisk } };
  if (Object.keys(node.labels).length) machine.nodeLabels = { ...node.labels };
  if (Object.keys(node.taints).length) machine.nodeTaints = { ...node.taints };
  return { machine };
}

/** A Talos VIP (config/schema.ts cluster.vip): its address and the link it is announced on. */
export interface VipPatchInput {
  readonly address: string;
  /** The link by name; exactly one of interface and deviceSelector. */
  readonly interface?: string;
  readonly deviceSelector?: Readonly<Record<string, string | boolean | undefined>>;
}

/**
 * Control planes only (Talos refuses a VIP on a worker): the shared address, announced by the
 * control plane that holds etcd leadership. `dhcp: true` keeps the link addressed on a node
 * without static network; a node's own static layer, merged later by interface name, sets it
 * back to false (Talos merges machine.network.interfaces entry by entry, by name or selector).
 */
export function vipPatch(vip: VipPatchInput): object {
  const link = vip.interface !== undefined ? { interface: vip.interface } : { deviceSelector: Object.fromEntries(Object.entries(vip.deviceSelector ?? {}).filter(([, v]) => v !== undefined)) };
  return { machine: { network: { interfaces: [{ ...link, dhcp: true, vip: { ip: vip.address } }] } } };
}

export function toYaml(patch: object): string {
  return YAML.stringify(patch);
}

/** The kernel args a node's patches ask the installer for, in order, each once. */
export function kernelArgsOf(patches: readonly string[]): string[] {
  const args: string[] = [];
  for (const patch of patches) {
    // every v1alpha1 document of the (possibly multi-document) patch; other kinds carry none
    for (const doc of YAML.parseAllDocuments(patch) as YAML.Document[]) {
      const d = doc.toJS() as { kind?: unknown; machine?: { install?: { extraKernelArgs?: unknown } } } | null;
      if (!d || typeof d !== "object" || d.kind !== undefined) continue;
      const list = d.machine?.install?.extraKernelArgs;
      for (const arg of Array.isArray(list) ? list : []) if (typeof arg === "string" && !args.includes(arg)) args.push(arg);
    }
  }
  return args;
}

/** The Talos API role the snapshot job's ServiceAccount holds: etcd snapshots, nothing else. */
export const ETCD_BACKUP_ROLE = "os:etcd:backup";

/**
 * Control planes only (Talos accepts kubernetesTalosAPIAccess only there, and only control
 * planes run etcd): lets pods in the backup namespace, and no other, hold a Talos ServiceAccount
 * with the etcd backup role.
 */
export function etcdBackupAccessPatch(namespace: string): object {
  return {
    machine: {
      features: {
        kubernetesTalosAPIAccess: { enabled: true, allowedRoles: [ETCD_BACKUP_ROLE], allowedKubernetesNamespaces: [namespace] },
      },
    },
  };
}
