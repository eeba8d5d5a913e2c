// The Hetzner Cloud section of the stack config (`talos-cluster:hetzner`) and the nodes its pools make.
import { z } from "zod";
import { hetznerAddressOffset } from "./checks";
import { cidr, diskPath, dnsLabel, hetznerLocation, interfaceAddress, labels, nodeAddress, taints } from "./fields";
import { formatIpv4, parseCidr } from "./ip";

/** Nodes of the Hetzner Cloud platform come from `talos-cluster:hetzner.pools`, never from `nodes`. */
export const HETZNER_PLATFORM = "hetzner-cloud";
/** Hetzner dedicated (Robot) servers come from `talos-cluster:hetzner.dedicated`. */
export const DEDICATED_PLATFORM = "hetzner-dedicated";
/** Whether a node is a Hetzner server (cloud or dedicated), not a LAN node of a hybrid stack. */
export function isHetznerPlatform(platform: string): boolean {
  return platform === HETZNER_PLATFORM || platform === DEDICATED_PLATFORM;
}
/** The Robot webservice (robot.hetzner.com/doc/webservice/en.html). */
export const ROBOT_URL = "https://robot-ws.your-server.de";

/** A node's own patch files: relative .yaml paths inside the project (as `nodes[].patches`). */
const patchPaths = z
  .array(
    z
      .string()
      .regex(/^[^/].*\.ya?ml$/, "must be a relative path to a .yaml file")
      .refine((p) => !p.split("/").includes(".."), { message: "must stay inside the project: remove the '..' parts (patch files live under the project root, which CI checks out)" }),
  )
  .default([]);

/**
 * A Hetzner dedicated server this program installs: firewall, rescue system, the Factory `metal`
 * image written with dd, then the ordinary apply at its address (components/hetzner/dedicated-servers.ts).
 */
const dedicatedServerSchema = z.strictObject({
  /** Hostname and Kubernetes node name. */
  name: dnsLabel,
  /** The server's number in Robot (robot.hetzner.com > Server). */
  serverNumber: z.number().int("must be a whole number").positive("must be a Robot server number like 1234567"),
  role: z.enum(["controlplane", "worker"]),
  /** The server's main public IPv4 address: SSH into the rescue system, then the Talos API. */
  address: nodeAddress,
  /** The disk the Talos image is written to and installed on: /dev/disk/by-id/... (stable across boots) or /dev/nvme0n1. */
  installDisk: diskPath,
  /** The CPU architecture of the Factory image. Default: amd64. */
  architecture: z.enum(["amd64", "arm64"]).default("amd64"),
  /** With hetzner.vswitch: the server's address on the vSwitch VLAN, with prefix, inside vswitch.subnet (e.g. 10.0.2.11/24). */
  privateAddress: interfaceAddress.optional(),
  /** The site (failure domain) for the etcd placement check (config/sites.ts), e.g. its datacenter "fsn1-dc14". Default: "hetzner-dedicated", one site for every dedicated server. */
  site: dnsLabel.optional(),
  labels: labels.default({}),
  taints: taints.default({}),
  /** Extra patch files for this node only, relative to the project root, applied last. */
  patches: patchPaths,
});

/** A Robot vSwitch the dedicated servers join: a VLAN on their main link (seed 002's ${vlan} patch). */
const vswitchSchema = z.strictObject({
  /** The vSwitch's id in Robot (robot.hetzner.com > Server > vSwitches). */
  id: z.number().int("must be a whole number").positive("must be a Robot vSwitch id"),
  /** Its VLAN ID; Robot takes 4000-4091. */
  vlan: z.number().int("must be a whole number").min(4000, "must be from 4000 to 4091 (Robot vSwitch VLAN IDs)").max(4091, "must be from 4000 to 4091 (Robot vSwitch VLAN IDs)"),
  /** The private network on the VLAN; each server's privateAddress lies in it. */
  subnet: cidr,
  /** MTU of the VLAN link: a vSwitch carries at most 1400 (seed 002). Default: 1400. */
  mtu: z.number().int("must be a whole number").min(1280, "must be at least 1280").max(1400, "must be at most 1400 (a vSwitch carries at most 1400, seed 002)").default(1400),
});

const hetznerPoolSchema = z.strictObject({
  /** Pool name; servers are named <cluster>-<pool>-<n>, n from 1. */
  name: dnsLabel,
  role: z.enum(["controlplane", "worker"]),
  /** Servers in the pool. Lowering it removes the highest-numbered ones, reset gracefully first. */
  count: z.number().int().min(0).max(40, "must be at most 40 (each pool owns a block of 50 private addresses)"),
  /** Server type, e.g. cpx21 (x86-64) or cax21 (Arm64); with hetzner.image every pool boots that one snapshot, so all share its architecture. */
  serverType: z.string().regex(/^[a-z]+[0-9]+[a-z]*$/, "must be a Hetzner server type like cpx21 or cax11"),
  /** Default: hetzner.location. */
  location: hetznerLocation.optional(),
  labels: labels.default({}),
  taints: taints.default({}),
});

export const hetznerSchema = z.strictObject({
  /** Default location of servers and of the load balancer. Default: fsn1. */
  location: hetznerLocation.default("fsn1"),
  /** Private network and its subnet; neither may overlap the pod or service CIDR (seed 004). */
  networkCidr: cidr.default("10.0.0.0/16"),
  subnetCidr: cidr.default("10.0.1.0/24"),
  /**
   * The Talos image: a snapshot ID, or the newest snapshot matching a label selector. Default:
   * `up` builds a snapshot per architecture from the stack's schematic and Talos version.
   */
  image: z
    .strictObject({
      snapshotId: z.number().int().positive().optional(),
      selector: z.string().min(1).optional(),
    })
    .optional(),
  /** Who may reach the Talos API (50000) and the Kubernetes API (6443) on the servers; never all of the internet unless allowAdminFromInternet. */
  adminCidrs: z.array(cidr).min(1, "needs at least one network allowed to reach the Talos and Kubernetes APIs"),
  /** Accept adminCidrs that together cover the whole IPv4 internet (e.g. 0.0.0.0/0). Default: false, refused. */
  allowAdminFromInternet: z.boolean().default(false),
  /** More inbound rules (e.g. 80/443 for an ingress); nothing else is open from the internet. */
  extraFirewallRules: z
    .array(
      z.strictObject({
        protocol: z.enum(["tcp", "udp"]),
        // Hetzner firewall rules take a port 1-65535 or a range "from-to" (Hetzner Cloud API, firewall rules).
        port: z
          .string()
          .regex(/^\d{1,5}(-\d{1,5})?$/, "must be a port or range like 443 or 30000-32767")
          .refine((v) => {
            const [from, to = from] = v.split("-").map(Number);
            return from! >= 1 && to! <= 65535 && from! <= to!;
          }, { message: "must be a port from 1 to 65535, or a range whose start is not above its end" }),
        sourceIps: z.array(cidr).min(1),
        description: z.string().optional(),
      }),
    )
    .default([]),
  /** Load balancer type for the API endpoint. Default: lb11. */
  loadBalancerType: z.enum(["lb11", "lb21", "lb31"]).default("lb11"),
  /** KubeSpan (WireGuard between nodes, seed 002). Default: false. */
  kubespan: z.boolean().default(false),
  /** LUKS2 encryption of the STATE and EPHEMERAL partitions, keyed to each node (seed 002). Default: false. */
  diskEncryption: z.boolean().default(false),
  pools: z.array(hetznerPoolSchema).min(1, "needs at least one pool"),
  /** Dedicated (Robot) servers that join the cluster. Default: none. Needs talos-cluster:robotUser and robotPassword. */
  dedicated: z.array(dedicatedServerSchema).default([]),
  /** A Robot vSwitch the dedicated servers join. Default: none. */
  vswitch: vswitchSchema.optional(),
  /** The Robot webservice's address. Default: https://robot-ws.your-server.de. */
  robotUrl: z.url({ protocol: /^https?$/, message: "must be an http(s) URL like https://robot-ws.your-server.de" }).default(ROBOT_URL),
});

export type HetznerSettings = z.infer<typeof hetznerSchema>;
export type DedicatedServerSettings = HetznerSettings["dedicated"][number];
export type VSwitchSettings = NonNullable<HetznerSettings["vswitch"]>;

/** A Hetzner server's node: pool k's n-th server (from 1) sits at subnet offset 10 + 50k + n; then the dedicated servers. */
export function hetznerNodes(clusterName: string, hetzner: HetznerSettings) {
  return [...cloudNodes(clusterName, hetzner), ...hetzner.dedicated.map((s) => dedicatedNode(s, hetzner.vswitch))];
}

/** A dedicated server's node, at its public address; with a vSwitch, its VLAN (config/dedicated-checks.ts: then privateAddress is set). */
export function dedicatedNode(server: DedicatedServerSettings, vswitch: VSwitchSettings | undefined) {
  const nodeSubnet = vswitch && server.privateAddress ? vswitch.subnet : `${server.address}/32`;
  return {
    name: server.name,
    role: server.role,
    platform: DEDICATED_PLATFORM,
    address: server.address,
    installDisk: server.installDisk,
    dataDisks: [] as string[],
    network: undefined,
    labels: server.labels,
    taints: server.taints,
    patches: server.patches,
    serverNumber: server.serverNumber,
    ...(vswitch && server.privateAddress ? { vlan: { id: vswitch.vlan, address: server.privateAddress, mtu: vswitch.mtu } } : {}),
    // Its own address for the kubelet and etcd: the vSwitch subnet when it has one (node-to-node
    // between dedicated servers stays on the VLAN), else its public address.
    kubeletSubnets: [nodeSubnet],
    ...(server.role === "controlplane" ? { etcdSubnets: [nodeSubnet] } : {}),
  };
}

function cloudNodes(clusterName: string, hetzner: HetznerSettings) {
  const subnet = parseCidr(hetzner.subnetCidr)!;
  return hetzner.pools.flatMap((pool, k) =>
    Array.from({ length: pool.count }, (_, i) => ({
      name: `${clusterName}-${pool.name}-${i + 1}`,
      role: pool.role,
      platform: HETZNER_PLATFORM,
      address: formatIpv4(subnet.first + hetznerAddressOffset(k, i + 1)),
      // Hetzner Cloud servers boot from one virtio disk.
      installDisk: "/dev/sda",
      dataDisks: [] as string[],
      network: undefined,
      labels: pool.labels,
      taints: pool.taints,
      patches: [] as string[],
      pool: pool.name,
      serverType: pool.serverType,
      location: pool.location ?? hetzner.location,
    })),
  );
}

