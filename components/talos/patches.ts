// Talos config patches derived from the stack config. Pure: each returns a plain object that
// tests deep-equal; toYaml turns it into the text the Talos provider merges.
import YAML from "yaml";
import { splitNodeMetadata } from "./node-metadata-plan";

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
  /** KubeSpan on every node (config/kubespan.ts), when on. Default: off, no patch. */
  readonly kubespan?: { readonly advertiseKubernetesNetworks: boolean; readonly mtu: number };
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
    ...(input.kubespan ? [kubespanPatch(input.kubespan)] : []),
  ];
}

/**
 * KubeSpan on every node (seed 002, "KubeSpan Network"; config/kubespan.ts for the MTU): a
 * WireGuard mesh whose peers find each other's keys and endpoints through cluster discovery
 * (Talos refuses KubeSpan without it). Written in the v1alpha1 form the generator understands.
 */
export function kubespanPatch(kubespan: { readonly advertiseKubernetesNetworks: boolean; readonly mtu: number }): object {
  return {
    machine: { network: { kubespan: { enabled: true, advertiseKubernetesNetworks: kubespan.advertiseKubernetesNetworks, mtu: kubespan.mtu } } },
    cluster: { discovery: { enabled: true } },
  };
}

export interface NodePatchInput {
  readonly name: string;
  readonly role: "controlplane" | "worker";
  readonly installDisk: string;
  readonly network?: {
    readonly interface: string;
    readonly addresses: readonly string[];
    readonly gateway: string;
    readonly nameservers: readonly string[];
  };
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: Readonly<Record<string, string>>;
  /** A Hetzner dedicated server's vSwitch VLAN (config/hetzner.ts hetzner.vswitch): its ID, the node's address with prefix, the MTU. */
  readonly vlan?: { readonly id: number; readonly address: string; readonly mtu: number };
  /**
   * Where the kubelet (and, on a control plane, etcd) picks the node's address, beside the
   * cluster layer's: a Hetzner dedicated server has no address in the cloud subnet the Hetzner
   * layer names. Talos appends these lists when it merges layers (pkg/machinery/config/types/v1alpha1:
   * validSubnets and advertisedSubnets carry no merge:"replace"), so the node gets the first match.
   */
  readonly kubeletSubnets?: readonly string[];
  readonly etcdSubnets?: readonly string[];
}

/**
 * A vSwitch VLAN on the server's uplink (seed 002, "Configuring private network on a Hetzner
 * vSwitch": a VLAN with the private address and MTU 1400 on the DHCP-addressed main link). The
 * link is chosen as the physical one (Talos deviceSelector physical: true) rather than by name,
 * since Talos names links predictably (enp...), not eth0: servers with one cabled NIC.
 */
export function vlanInterface(vlan: NonNullable<NodePatchInput["vlan"]>): object {
  return { deviceSelector: { physical: true }, dhcp: true, vlans: [{ vlanId: vlan.id, addresses: [vlan.address], mtu: vlan.mtu }] };
}

/** The node's own layer: identity, install disk, addressing, the labels and taints Talos applies (splitNodeMetadata). */
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
  if (node.vlan) network.interfaces = [vlanInterface(node.vlan)];
  const machine: Record<string, unknown> = { network, install: { disk: node.installDisk } };
  if (node.kubeletSubnets) machine.kubelet = { nodeIP: { validSubnets: [...node.kubeletSubnets] } };
  // Only what Talos can apply; a worker's other labels and its taints go through the Kubernetes API.
  const { labels, taints } = splitNodeMetadata(node).machine;
  if (Object.keys(labels).length) machine.nodeLabels = labels;
  if (Object.keys(taints).length) machine.nodeTaints = taints;
  return node.etcdSubnets ? { machine, cluster: { etcd: { advertisedSubnets: [...node.etcdSubnets] } } } : { machine };
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

/** A patch with its kernel args taken out: what goes to Talos, and what goes to the schematic. */
export interface LiftedPatch {
  /** The patch without machine.install.extraKernelArgs; the input text itself when it had none. */
  readonly patch: string;
  /** The kernel args it named, in order. */
  readonly kernelArgs: readonly string[];
}

/**
 * Takes machine.install.extraKernelArgs out of every v1alpha1 document of a (possibly
 * multi-document) patch. Kernel args come from the schematic: whatever layer names them, they go
 * into the node's Image Factory schematic (talos-cluster.ts ownSchematicSpec), which every
 * install method boots from (systemd-boot always boots the UKI's command line), and the node's
 * config names exactly the schematic's list in one derived patch (nodeImagePatch), never a
 * merge of layers. Only that one key is removed (an emptied `install` with it); the rest of the
 * patch, comments included, stays as written and is still merged by Talos itself. A patch
 * without kernel args is returned unchanged.
 */
export function liftKernelArgs(patch: string): LiftedPatch {
  const docs = YAML.parseAllDocuments(patch) as YAML.Document[];
  const kernelArgs: string[] = [];
  let changed = false;
  for (const doc of docs) {
    const d = doc.toJS() as { kind?: unknown; machine?: { install?: Record<string, unknown> } } | null;
    if (!d || typeof d !== "object" || d.kind !== undefined) continue;
    const install = d.machine?.install;
    if (!install || typeof install !== "object" || !("extraKernelArgs" in install)) continue;
    const list = install.extraKernelArgs;
    for (const arg of Array.isArray(list) ? list : []) if (typeof arg === "string") kernelArgs.push(arg);
    doc.deleteIn(["machine", "install", "extraKernelArgs"]);
    if (Object.keys(install).length === 1) doc.deleteIn(["machine", "install"]);
    changed = true;
  }
  return { patch: changed ? docs.map(String).join("") : patch, kernelArgs };
}

/**
 * The last patch of a node: its own installer (when its kernel args give it a schematic of its
 * own) and its schematic's kernel args, the only kernel args its config holds (every other layer
 * goes through liftKernelArgs). Why the config still names them: a GRUB (BIOS) install writes
 * the config's machine.install.extraKernelArgs into its boot entry unless the config sets
 * machine.install.grubUseUKICmdline, and only then the UKI's command line, i.e. the schematic's
 * (siderolabs/talos v1.14.0-rc.1 cmd/installer/cmd/installer/install.go, cmd/installer/pkg/install/install.go,
 * bootloader/grub/install.go). grubUseUKICmdline exists from machinery v1.12; the generator's
 * machinery v1.10 refuses the key, and Talos's upgrade API passes GRUB no kernel args, so the
 * upgrades of a node with kernel args use the legacy API, which hands the installer this field
 * (components/day2/upgrade-plan.ts OsTarget.legacy). With a generator at machinery >= 1.12
 * this patch sets grubUseUKICmdline instead (toolchain/versions.json providers.talos.generatorBump).
 * Undefined when there is nothing to name.
 */
export function nodeImagePatch(ownInstaller: string | undefined, kernelArgs: readonly string[]): object | undefined {
  const install: Record<string, unknown> = {};
  if (ownInstaller) install.image = ownInstaller;
  if (kernelArgs.length) install.extraKernelArgs = [...kernelArgs];
  return Object.keys(install).length ? { machine: { install } } : undefined;
}

/** The kernel args a node's patches name (machine.install.extraKernelArgs), in order, each once: they go to its schematic. */
export function kernelArgsOf(patches: readonly string[]): string[] {
  const args: string[] = [];
  // every v1alpha1 document of each (possibly multi-document) patch; other kinds carry none
  for (const patch of patches) for (const arg of liftKernelArgs(patch).kernelArgs) if (!args.includes(arg)) args.push(arg);
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
