import * as pulumi from "@pulumi/pulumi";
import * as hcloudimage from "@talos-cluster/hcloudimage";

/** Talos's names of the two architectures Hetzner Cloud sells. */
export type Architecture = "amd64" | "arm64";

/** The architecture of a server type: Hetzner's CAX line is Arm64 (Ampere), the others x86-64. */
export function architectureOf(serverType: string): Architecture {
  return serverType.startsWith("cax") ? "arm64" : "amd64";
}

/**
 * The architectures the pools need, each with the server type its snapshot is built on: the
 * first pool's of that architecture (a type the stack already uses, so it exists in Hetzner and
 * is of the right architecture), in pool order.
 */
export function buildServerTypes(pools: readonly { serverType: string }[]): Partial<Record<Architecture, string>> {
  const types: Partial<Record<Architecture, string>> = {};
  for (const { serverType } of pools) types[architectureOf(serverType)] ??= serverType;
  return types;
}

/** The Image Factory's raw disk image for Hetzner Cloud (Talos docs, "Hetzner": the hcloud platform image). */
export function hcloudImageUrl(factoryUrl: string, schematicId: string, talosVersion: string, arch: Architecture): string {
  return `${factoryUrl.replace(/\/+$/, "")}/image/${schematicId}/${talosVersion}/hcloud-${arch}.raw.xz`;
}

/**
 * The snapshot's labels. A Hetzner label value has at most 63 characters (Hetzner Cloud API,
 * "Labels"), a schematic ID 64: the label holds its first 12 (as the schematics' resource names
 * do), the description the whole ID.
 */
export function snapshotLabels(clusterName: string, talosVersion: string, schematicId: string, arch: Architecture): Record<string, string> {
  return {
    "talos-cluster/cluster": clusterName,
    "talos-cluster/talos-version": talosVersion,
    "talos-cluster/schematic": schematicId.slice(0, 12),
    "talos-cluster/architecture": arch,
  };
}

export function snapshotDescription(talosVersion: string, schematicId: string, arch: Architecture): string {
  return `Talos ${talosVersion} hcloud ${arch}, schematic ${schematicId}`;
}

/** How the build reaches Hetzner and the rescue system; tests point it at loopback. */
export interface SnapshotBuilder {
  /** Default: https://api.hetzner.cloud/v1. */
  readonly endpoint?: string;
  /** Default: 22. */
  readonly sshPort?: number;
  /** Default: root. */
  readonly sshUser?: string;
  /** Default: /dev/sda. */
  readonly disk?: string;
  /** Default: hcloud-go's backoff. */
  readonly pollIntervalMs?: number;
}

export interface TalosSnapshotsArgs {
  /** Cluster name: the snapshots' label, and the build servers' name prefix. Required. */
  readonly clusterName: string;
  /** The Hetzner Cloud API token. Required; secret. */
  readonly token: pulumi.Input<string>;
  /** The Image Factory's base URL (imageFactory.url). Required. */
  readonly factoryUrl: string;
  /** Talos version, e.g. v1.14.1. Required. */
  readonly talosVersion: string;
  /** The schematic's ID, once the factory knows it. Required. */
  readonly schematicId: pulumi.Input<string>;
  /** The server type each snapshot is built on, by architecture (buildServerTypes). Required. */
  readonly serverTypes: Partial<Record<Architecture, string>>;
  /** Location of the build servers. Required. */
  readonly location: string;
  /** Resources the builds wait for (the factory's registration of the schematic). Default: none. */
  readonly after?: readonly pulumi.Resource[];
  /** Default: Hetzner's own API and rescue system. */
  readonly builder?: SnapshotBuilder;
}

/**
 * The Talos snapshots of a Hetzner Cloud stack, one per architecture its pools need, built by
 * `up` (toolchain/providers/hcloudimage): a new Talos version or schematic makes new snapshots
 * (replacements, created before the old ones are deleted; Pulumi deletes the old ones at the
 * end of the up, after every server and upgrade step that depends on them).
 */
export class TalosSnapshots extends pulumi.ComponentResource {
  /** The snapshot resources (the upgrades wait for them). */
  public readonly snapshots: readonly hcloudimage.TalosSnapshot[];
  /** Each architecture's snapshot ID, as a server's `image`. */
  public readonly imageIds: Partial<Record<Architecture, pulumi.Output<string>>>;

  constructor(name: string, args: TalosSnapshotsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:hetzner:TalosSnapshots", name, {}, opts);
    const imageIds: Partial<Record<Architecture, pulumi.Output<string>>> = {};
    const snapshots: hcloudimage.TalosSnapshot[] = [];
    for (const [arch, serverType] of Object.entries(args.serverTypes) as [Architecture, string][]) {
      const schematic = pulumi.output(args.schematicId);
      const snapshot = new hcloudimage.TalosSnapshot(
        `${name}-${arch}`,
        {
          token: pulumi.secret(args.token),
          name: `${args.clusterName}-talos-${arch}`,
          imageUrl: schematic.apply((id) => hcloudImageUrl(args.factoryUrl, id, args.talosVersion, arch)),
          architecture: arch,
          labels: schematic.apply((id) => snapshotLabels(args.clusterName, args.talosVersion, id, arch)),
          description: schematic.apply((id) => snapshotDescription(args.talosVersion, id, arch)),
          serverType,
          location: args.location,
          ...args.builder,
        },
        { parent: this, dependsOn: [...(args.after ?? [])] },
      );
      snapshots.push(snapshot);
      imageIds[arch] = snapshot.snapshotId.apply(String);
    }
    this.snapshots = snapshots;
    this.imageIds = imageIds;
    this.registerOutputs({ imageIds });
  }
}
