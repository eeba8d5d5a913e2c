import * as pulumi from "@pulumi/pulumi";
import * as synology from "@talos-cluster/synology";

export interface SynologyBootFromDiskArgs {
  /** The synology provider the guests were made with. Required. */
  readonly provider: synology.Provider;
  /** The guests, by node name. Required. */
  readonly guests: Readonly<Record<string, synology.vmm.Guest>>;
  /** By node name, what says the node is installed (its config apply). A node without an entry keeps its ISO. Required. */
  readonly installed: Readonly<Record<string, readonly pulumi.Resource[]>>;
}

/**
 * Once a node's config is applied (Talos installs itself to the guest's disk), its guest's ISO
 * slots are emptied so every later real boot comes from the disk: a Talos ISO halts when it finds
 * Talos installed (talos.halt_if_installed), so a resize or a NAS restart with the ISO still in
 * the boot slot would leave the node down. Replaces DSM's manual "Boot from: virtual disk" step.
 */
export class SynologyBootFromDisk extends pulumi.ComponentResource {
  /** By node name. */
  public readonly switches: Readonly<Record<string, synology.vmm.BootFromDisk>>;

  constructor(name: string, args: SynologyBootFromDiskArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:synology:BootFromDisk", name, {}, opts);
    const switches: Record<string, synology.vmm.BootFromDisk> = {};
    for (const [node, guest] of Object.entries(args.guests)) {
      const installed = args.installed[node];
      if (!installed) continue;
      switches[node] = new synology.vmm.BootFromDisk(
        `${name}-${node}`,
        { guestId: guest.guestId, guestName: guest.name, autorun: guest.autorun.apply((a) => a ?? 1) },
        { parent: this, provider: args.provider, dependsOn: [guest, ...installed] },
      );
    }
    this.switches = switches;
    this.registerOutputs({});
  }
}
