import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as synology from "@talos-cluster/synology";
import type { SynologySettings, VmSettings } from "../../config/schema";
import { rolloutBatches } from "../day2/rollout-plan";
import type { ClusterMembers } from "../day2/upgrade-plan";
import { resizeGateScripts } from "./resize-gate";

/** A node that gets a VMM guest. */
export interface VmNode {
  readonly name: string;
  readonly role: "controlplane" | "worker";
  /** Where the node's Talos API answers once it is up. */
  readonly address: string;
  readonly vm: VmSettings;
}

export interface SynologyVmsArgs {
  /** DSM, VMM storage and network, upload folder. Required. */
  readonly settings: SynologySettings;
  /** The DSM password (encrypted stack config). Required; secret. */
  readonly password: pulumi.Input<string>;
  /** The Talos ISO of the cluster's schematic, from the Image Factory. Required. */
  readonly isoUrl: string;
  /** Resolves once every node's config passed validation; nothing is made on DSM before. Default: no gate. */
  readonly checked?: pulumi.Output<unknown>;
  /** VMM image name, unique per Talos version and schematic (imageName()). Required. */
  readonly imageName: string;
  /** The nodes with a vm section. Required. */
  readonly nodes: readonly VmNode[];
  /** Workers whose guests may be powered off together for a resize (control planes always alone). Required (cluster.rollout defaults it to 1). */
  readonly maxUnavailableWorkers: number;
  /** Port that answers once a node is back after a power cycle. Default: 50000, the Talos API. */
  readonly readyPort?: number;
  /** How long a guest may take to answer after a power cycle, e.g. 10m (cluster.talosApiTimeout). Required. */
  readonly timeout: string;
  /** What must exist before the ISO is downloaded (the schematic's factory registration). Default: none. */
  readonly after?: readonly pulumi.Resource[];
  /**
   * The cluster's talosconfig and members: after a control plane's guest was resized, the next
   * guest waits until Talos reports etcd (and the rest of the cluster) healthy again. Default:
   * none, and a resized guest is only waited for on its Talos API port.
   */
  readonly resizeGate?: { readonly talosconfig: pulumi.Input<string>; readonly members: ClusterMembers };
}

/** The VMM image name of a Talos ISO: version and schematic, so a new one never overwrites the one guests boot. */
export function imageName(talosVersion: string, schematicId: string): string {
  return `talos-${talosVersion}-${schematicId.slice(0, 12)}`;
}

/** The image's inputs. Pure. */
export function imageInputs(settings: SynologySettings, name: string, isoUrl: string): synology.vmm.ImageArgs {
  return { name, url: isoUrl, folder: settings.imageFolder, storageName: settings.storage };
}

/**
 * A guest's inputs, with seed 001's settings where the API takes them: the ISO (by its VMM image
 * id) in the boot slot, autostart "last state" (autorun 1), one new disk, one NIC with the node's
 * MAC. Pure.
 */
export function guestInputs(node: VmNode, settings: SynologySettings, imageId: pulumi.Input<string>, ready: { port: number; timeout: string }): synology.vmm.GuestArgs {
  return {
    name: node.name,
    storageName: settings.storage,
    networkName: settings.network,
    mac: node.vm.mac,
    diskGiB: node.vm.diskGiB,
    vcpus: node.vm.vcpus,
    memoryMiB: node.vm.memoryMiB,
    imageId,
    autorun: 1,
    description: `Talos ${node.role} ${node.name} (talos-cluster)`,
    readyAddress: `${node.address}:${ready.port}`,
    readyTimeout: ready.timeout,
  };
}

/**
 * The order guests wait for each other: the rollout's batches (each control plane alone, then
 * workers by maxUnavailableWorkers), so a vCPU or memory change powers off at most one control
 * plane at a time and the next batch starts only once the previous one answers again. By node
 * name, the nodes whose guests must be done first. Pure.
 */
export function guestOrder(nodes: readonly VmNode[], maxUnavailableWorkers: number): Record<string, string[]> {
  const order: Record<string, string[]> = {};
  let previous: string[] = [];
  for (const batch of rolloutBatches(nodes, maxUnavailableWorkers)) {
    for (const node of batch) order[node.name] = previous;
    previous = batch.map((n) => n.name);
  }
  return order;
}

/**
 * The VMM guests of a Synology cluster: the Talos ISO registered as a VMM image, then one guest
 * per node, created and powered on so it waits in maintenance mode for its config apply.
 * Removing a node deletes its guest and disk after its apply's onDestroy reset the node (the
 * apply depends on the guest). Guest deletes replace before create: VMM names are unique.
 */
export class SynologyVms extends pulumi.ComponentResource {
  public readonly provider: synology.Provider;
  public readonly image: synology.vmm.Image;
  /** By node name. */
  public readonly guests: Readonly<Record<string, synology.vmm.Guest>>;
  /** By node name, what the node's config apply waits for: its guest, powered on. */
  public readonly nodeAfter: Readonly<Record<string, readonly pulumi.Resource[]>>;
  /** The control planes' resize gates (none without resizeGate). */
  public readonly resizeGates: readonly command.local.Command[];

  constructor(name: string, args: SynologyVmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:synology:Vms", name, {}, opts);
    const s = args.settings;
    this.provider = new synology.Provider(
      `${name}-dsm`,
      { url: s.url, user: s.user, password: pulumi.secret(args.password), ...(s.caCert ? { caCert: s.caCert } : {}) },
      { parent: this },
    );
    this.image = new synology.vmm.Image(`${name}-image`, { ...imageInputs(s, args.imageName, args.isoUrl), url: pulumi.all([args.isoUrl, args.checked]).apply(([url]) => url) }, {
      parent: this,
      provider: this.provider,
      dependsOn: [...(args.after ?? [])],
    });
    const order = guestOrder(args.nodes, args.maxUnavailableWorkers);
    const ready = { port: args.readyPort ?? 50000, timeout: args.timeout };
    const guests: Record<string, synology.vmm.Guest> = {};
    // What the next batch waits for, by node: its guest, and a control plane's resize gate.
    const done: Record<string, pulumi.Resource[]> = {};
    const gates: command.local.Command[] = [];
    // rolloutBatches lists every node once, earlier batches first, so each guest's predecessors exist.
    for (const node of rolloutBatches(args.nodes, args.maxUnavailableWorkers).flat()) {
      const guest = new synology.vmm.Guest(`${name}-${node.name}`, guestInputs(node, s, this.image.imageId, ready), {
        parent: this,
        provider: this.provider,
        dependsOn: [this.image, ...order[node.name]!.flatMap((n) => done[n]!)],
        deleteBeforeReplace: true,
        // The ISO only matters until the node is installed (SynologyBootFromDisk); a new Talos
        // version reaches a running node by upgrade, so a new image never touches an old guest.
        ignoreChanges: ["imageId"],
      });
      guests[node.name] = guest;
      done[node.name] = [guest];
      if (args.resizeGate && node.role === "controlplane") {
        const scripts = resizeGateScripts(node, args.resizeGate.members, args.timeout);
        const gate = new command.local.Command(
          `${name}-${node.name}-resized`,
          {
            create: scripts.create,
            update: scripts.update,
            // The sizing is what makes a change run the gate (update); the talosconfig only reaches it here.
            environment: pulumi.secret({ ...scripts.environment, TALOS_CLUSTER_TALOSCONFIG: args.resizeGate.talosconfig, TALOS_CLUSTER_KUBECONFIG: "" }),
            interpreter: ["/bin/sh", "-c"],
          },
          { parent: this, dependsOn: [guest], additionalSecretOutputs: ["stdout", "stderr"] },
        );
        gates.push(gate);
        done[node.name] = [guest, gate];
      }
    }
    this.guests = guests;
    this.resizeGates = gates;
    this.nodeAfter = Object.fromEntries(Object.entries(guests).map(([n, g]) => [n, [g]]));
    this.registerOutputs({});
  }
}
