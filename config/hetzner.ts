// The Hetzner Cloud section of the stack config (`talos-cluster:hetzner`) and the nodes its pools make.
import { z } from "zod";
import { hetznerAddressOffset } from "./checks";
import { cidr, dnsLabel, hetznerLocation, labels, taints } from "./fields";
import { formatIpv4, parseCidr } from "./ip";

/** Nodes of the Hetzner Cloud platform come from `talos-cluster:hetzner.pools`, never from `nodes`. */
export const HETZNER_PLATFORM = "hetzner-cloud";

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
});

export type HetznerSettings = z.infer<typeof hetznerSchema>;

/** A Hetzner server's node: pool k's n-th server (from 1) sits at subnet offset 10 + 50k + n. */
export function hetznerNodes(clusterName: string, hetzner: HetznerSettings) {
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

