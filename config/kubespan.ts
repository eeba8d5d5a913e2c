// KubeSpan (Talos's WireGuard mesh between every node, seed 002 "KubeSpan Network"): the
// `cluster.kubespan` settings and the MTU it gets from the networks under it.
//
// The MTU: a WireGuard packet carries the node's packet plus its own headers, 80 bytes with an
// IPv6 outer header (40 IPv6 + 8 UDP + 32 WireGuard), so the KubeSpan link must be 80 below the
// network it crosses; Talos's default, 1420, is that for a 1500 network (siderolabs/talos
// v1.14.1 pkg/machinery/constants/constants.go, KubeSpanLinkMTU = 1420; the floor with IPv6 is
// KubeSpanLinkMinimumMTU = 1280). Seed 002: "should be 80 less than the underlying network,
// which is 1400 on Hetzner VLAN" (1320). One MTU for the whole mesh, from the smallest network
// any of its platforms has, so no tunnel sends a packet its path cannot carry.
import { z } from "zod";

/** WireGuard's overhead with an IPv6 outer header (what Talos's default 1420 = 1500 - 80 assumes). */
export const WIREGUARD_OVERHEAD = 80;
/** Talos refuses a KubeSpan MTU below this (IPv6's minimum link MTU; constants.KubeSpanLinkMinimumMTU). */
export const KUBESPAN_MINIMUM_MTU = 1280;

/**
 * The MTU of the network under each platform's nodes. A platform that makes nodes adds its line
 * (e.g. Hetzner dedicated servers on a vSwitch VLAN: 1400, Hetzner docs "vSwitch", seed 002).
 */
export const UNDERLYING_MTU: Readonly<Record<string, number>> = {
  // Ethernet on a LAN, and the Synology VMM's virtio bridge over it.
  "bare-metal": 1500,
  "synology-vm": 1500,
  // A Hetzner Cloud server's private interface (Hetzner docs, Cloud Networks "Architecture":
  // 1500 on the public interface, 1450 on the private one).
  "hetzner-cloud": 1450,
  // A Hetzner dedicated server: 1500 on its public uplink, but a vSwitch VLAN carries at most
  // 1400 (Hetzner docs "vSwitch", seed 002: "1400 on Hetzner VLAN"), and the mesh may pick the
  // VLAN address as a peer's endpoint; the smaller one, so either path carries every packet.
  "hetzner-dedicated": 1400,
};

export const kubespanSchema = z.strictObject({
  /** Default: true in a hybrid stack (nodes and hetzner; refused false there), false otherwise. */
  enabled: z.boolean().optional(),
  /** Route pod networks through the mesh too, so pods on nodes without a direct route reach each other. Default: true. */
  advertiseKubernetesNetworks: z.boolean().default(true),
  /** The KubeSpan link's MTU. Default: the smallest underlying network of the stack's platforms, less 80 (UNDERLYING_MTU). */
  mtu: z
    .number()
    .int("must be a whole number")
    .min(KUBESPAN_MINIMUM_MTU, `must be at least ${KUBESPAN_MINIMUM_MTU} (the smallest MTU Talos accepts for KubeSpan)`)
    .max(9000 - WIREGUARD_OVERHEAD, `must be at most ${9000 - WIREGUARD_OVERHEAD} (a 9000-byte jumbo frame less WireGuard's ${WIREGUARD_OVERHEAD})`)
    .optional(),
});

export type KubespanInput = z.infer<typeof kubespanSchema>;
/** KubeSpan as the program renders it (components/talos/patches.ts), when on. */
export interface KubespanSettings {
  readonly advertiseKubernetesNetworks: boolean;
  readonly mtu: number;
}

/** The default MTU for a stack on these platforms: the smallest network's, less WireGuard's 80. */
export function defaultKubespanMtu(platforms: readonly string[]): number {
  return Math.min(...platforms.map((p) => UNDERLYING_MTU[p] ?? 1500)) - WIREGUARD_OVERHEAD;
}

/**
 * KubeSpan's settings once defaults are filled, or undefined when it is off. `hybrid`: the stack
 * has LAN nodes and Hetzner servers, which reach each other only through the mesh.
 */
export function kubespanSettings(input: KubespanInput | undefined, platforms: readonly string[], hybrid: boolean): KubespanSettings | undefined {
  const enabled = input?.enabled ?? hybrid;
  if (!enabled) return undefined;
  return { advertiseKubernetesNetworks: input?.advertiseKubernetesNetworks ?? true, mtu: input?.mtu ?? defaultKubespanMtu(platforms) };
}
