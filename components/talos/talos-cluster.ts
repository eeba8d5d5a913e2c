import * as pulumi from "@pulumi/pulumi";
import * as talos from "@pulumiverse/talos";
import type { Node, StackConfig } from "../../config/schema";
import { creationContract } from "../../config/versions";
import { ClusterBootstrap } from "./cluster-bootstrap";
import { ClusterConfig } from "./cluster-config";
import { gateNodeConfigs, TalosRules, validationMode } from "./config-validation";
import { ImageSchematic, SchematicSpec, schematicId } from "./image-schematic";
import { clusterPatches, etcdBackupAccessPatch, kernelArgsOf, liftKernelArgs, nodeImagePatch, nodePatch, toYaml, vipPatch } from "./patches";
import { TalosNode } from "./talos-node";

/** Patch file contents by layer, read at the edge (index.ts). */
export interface PatchFiles {
  readonly all: readonly string[];
  readonly controlplane: readonly string[];
  readonly worker: readonly string[];
  /** By platform name. */
  readonly platform: Readonly<Record<string, readonly string[]>>;
  /** By node name: the node's own patch files, in the order the stack config lists them. */
  readonly node: Readonly<Record<string, readonly string[]>>;
}

/** Where a node runs, when this program also creates its machine (e.g. a Hetzner server). */
export interface NodeHost {
  /** Resources that must exist before the node's config is applied (its server). */
  readonly resources: readonly pulumi.Resource[];
  /** Where its first apply reaches the Talos API, instead of the infrastructure's talosEndpoint (a machine in maintenance mode, reached directly). Default: talosEndpoint. */
  readonly endpoint?: pulumi.Input<string>;
}

/** The machines and network in front of the cluster, when a platform component creates them. */
export interface ClusterInfrastructure {
  /** The Kubernetes API endpoint, e.g. https://<load balancer>:6443. */
  readonly endpoint: pulumi.Input<string>;
  /** Where talosctl and the provider reach the Talos API for every node (e.g. the load balancer's address). */
  readonly talosEndpoint: pulumi.Input<string>;
  /** Platform patches for every node, after the cluster layer (private network, KubeSpan, encryption). */
  readonly patches: readonly pulumi.Input<string>[];
  /** Platform patches for control planes only, before patches/controlplane. Default: none. */
  readonly controlplanePatches?: readonly pulumi.Input<string>[];
  /** Makes the image the machines boot from the cluster's schematic (Hetzner's snapshots); called once, before hostFor. Default: none. */
  bootImage?(schematic: ImageSchematic): void;
  /**
   * In a hybrid stack (LAN nodes beside this platform's): the platform whose nodes this creates
   * and fronts, and its patches for those nodes alone, one layer per role, first among each such
   * node's own layers; `patches` and `controlplanePatches` then hold only what suits every node.
   * The other nodes get no host and are reached at their own address. Default: every node is this
   * infrastructure's.
   */
  readonly platform?: { readonly name: string; readonly patches: Readonly<Record<"controlplane" | "worker", string>> };
  /** Creates the machine a node runs on, given its complete (secret) config for first boot. */
  hostFor(node: Node, machineConfig: pulumi.Output<string>): NodeHost;
}

/** Whether a node runs on the infrastructure (all do, unless it names its platform: a hybrid stack). */
export function hostedBy(infrastructure: Pick<ClusterInfrastructure, "platform"> | undefined, node: Pick<Node, "platform">): boolean {
  return infrastructure !== undefined && (infrastructure.platform === undefined || infrastructure.platform.name === node.platform);
}

/** The infrastructure's own layer for a node it hosts in a hybrid stack (ClusterInfrastructure.platform); none otherwise. */
export function infrastructureLayer(infrastructure: Pick<ClusterInfrastructure, "platform"> | undefined, node: Pick<Node, "platform" | "role">): string[] {
  const platform = infrastructure?.platform;
  return platform && platform.name === node.platform ? [platform.patches[node.role]] : [];
}

export interface TalosClusterArgs {
  /** The validated stack config. Required. */
  readonly config: StackConfig;
  /** Machines, endpoint and platform patches from a platform component. Default: none (nodes already exist). */
  readonly infrastructure?: ClusterInfrastructure;
  /** Patch files by layer. Required. */
  readonly patchFiles: PatchFiles;
  /** Path of the secrets file to import (see ClusterConfig). Default: generate secrets. */
  readonly importSecretsFrom?: string;
  /** Run the health gates; false in a preview, which never dials a node. Default: true. */
  readonly checkHealth?: boolean;
  /**
   * Talos's own rules (config-validation.ts) and the sources of each node's layers: every node's
   * complete config must pass them before any node is applied or any server created.
   * Default: none (the program always passes them; tests of wiring alone may leave them out).
   */
  readonly configCheck?: {
    readonly rules: TalosRules;
    readonly nodeLayers: Readonly<Record<string, readonly string[]>>;
    readonly base: Readonly<Record<"controlplane" | "worker", readonly string[]>>;
  };
  /**
   * Creates the machines the nodes run on (the Synology VMs boot the schematic's ISO); `checked`
   * resolves once the factory confirmed the schematic and Talos validated every node's config,
   * and fails otherwise, so no machine is made for a config that would be refused; `talosconfig`
   * is the cluster's (for gates that ask Talos). Returns, by node name, what the node's apply
   * waits for. Default: none (the machines exist already).
   */
  readonly machines?: (schematic: ImageSchematic, checked: pulumi.Output<unknown>, talosconfig: pulumi.Output<string>) => Readonly<Record<string, readonly pulumi.Resource[]>>;
  /** Bootstrap from this etcd snapshot (absolute path, SHA-256 read at the edge). Default: an empty etcd. */
  readonly recoverFrom?: { readonly snapshotPath: string; readonly sha256: string };
}

/** What a node's OS should run: the upgrade target its day-2 step compares against. */
export interface NodeTarget {
  readonly name: string;
  readonly address: string;
  readonly role: "controlplane" | "worker";
  /**
   * Kernel args of the image (imageFactory.extraKernelArgs), then of every layer of the node's
   * config in Talos's merge order (cluster-wide, role, node; see nodeKernelArgs), each once.
   */
  readonly kernelArgs: readonly string[];
  /** The node's own installer and schematic, when its kernel args need one (ownSchematicSpec). Default: the cluster's. */
  readonly installerImage?: string;
  readonly schematicId?: string;
}

/**
 * A node's own layers as written: in a hybrid stack its infrastructure's layer
 * (infrastructureLayer), then platform files, its own derived patch, its patch files.
 */
export function nodeLayers(node: Node, files: PatchFiles, infrastructure: readonly string[] = []): string[] {
  return [...infrastructure, ...(files.platform[node.platform] ?? []), toYaml(nodePatch(node)), ...(files.node[node.name] ?? [])];
}

/**
 * A node's configPatches as Talos gets them: its own layers without kernel args (liftKernelArgs),
 * then, last so no layer's label shifts, the patch naming its image (nodeImagePatch): its own
 * installer when it has a schematic of its own, and exactly its schematic's kernel args.
 */
export function nodeConfigPatches(
  node: Node,
  files: PatchFiles,
  image: { readonly ownInstaller?: string; readonly kernelArgs: readonly string[] },
  infrastructure: readonly string[] = [],
): string[] {
  const imagePatch = nodeImagePatch(image.ownInstaller, image.kernelArgs);
  return [...nodeLayers(node, files, infrastructure).map((l) => liftKernelArgs(l).patch), ...(imagePatch ? [toYaml(imagePatch)] : [])];
}

/**
 * The image a node needs when its config layers add kernel args to the Image Factory ones:
 * kernel args come from the schematic (patches.ts liftKernelArgs, nodeImagePatch). systemd-boot
 * always boots the UKI's own command line (siderolabs/talos v1.14.0-rc.1
 * internal/app/machined/pkg/runtime/v1alpha1/bootloader/sdboot), and the ISO of a schematic
 * boots with its args, so such a node gets a schematic of its own that carries all of them.
 * Undefined when the cluster's schematic already carries exactly its args.
 */
export function ownSchematicSpec(clusterSpec: SchematicSpec, nodeArgs: readonly string[]): SchematicSpec | undefined {
  const same = nodeArgs.length === clusterSpec.extraKernelArgs.length && nodeArgs.every((a, i) => a === clusterSpec.extraKernelArgs[i]);
  return same ? undefined : { extensions: clusterSpec.extensions, extraKernelArgs: [...nodeArgs] };
}

/**
 * The kernel args of a node's schematic and upgrade target: the image's, then those every layer
 * names in machine.install.extraKernelArgs (lifted out of what Talos merges, configLayer), in
 * the order its config merges them: the cluster-wide layer (derived, platform infrastructure,
 * patches/all), its role's layer (infrastructure, derived, patches/controlplane or
 * patches/worker) as `roleLayers`, then its own layers (nodeLayers). Each arg once, at its first
 * place. Layers that are still outputs (e.g. a load balancer's address) are skipped: they are
 * unknown when the targets are built, and configLayer refuses kernel args there.
 */
export function nodeKernelArgs(imageArgs: readonly string[], roleLayers: readonly pulumi.Input<string>[], nodeLayers: readonly string[]): string[] {
  const known = roleLayers.filter((l): l is string => typeof l === "string");
  return kernelArgsOf([toYaml({ machine: { install: { extraKernelArgs: [...imageArgs] } } }), ...known, ...nodeLayers]);
}

/**
 * A layer as Talos gets it: without machine.install.extraKernelArgs, whose args go to the node's
 * schematic instead (liftKernelArgs), so no layer adds kernel args to a config: only the node's
 * image patch names them, exactly its schematic's (nodeImagePatch). A layer that is
 * still an output (e.g. Hetzner's patch naming its load balancer) cannot reach a schematic built
 * before it resolves, so kernel args there are refused when it resolves.
 */
export function configLayer(layer: pulumi.Input<string>): pulumi.Input<string> {
  if (typeof layer === "string") return liftKernelArgs(layer).patch;
  return pulumi.output(layer).apply(computedLayer);
}

/** A layer computed during the run, once known: unchanged, or refused when it names kernel args (configLayer). */
export function computedLayer(text: string): string {
  const { kernelArgs } = liftKernelArgs(text);
  if (kernelArgs.length) {
    throw new Error(`a patch computed during the run names kernel args (${kernelArgs.join(" ")}): kernel args reach nodes only through their Image Factory schematic, which is built before it; set them in imageFactory.extraKernelArgs or a patch file`);
  }
  return text;
}

/**
 * A Talos cluster from its stack config: secrets -> image schematic -> machine configs ->
 * node applies (parallel) -> bootstrap (once) -> kubeconfig -> health.
 */
export class TalosCluster extends pulumi.ComponentResource {
  public readonly schematic: ImageSchematic;
  public readonly machineConfigs: ClusterConfig;
  /** The applied nodes; none when the stack only renders configs (cluster.applyNodes: false). */
  public readonly nodes: readonly TalosNode[];
  /** Bootstrap, kubeconfig and health; undefined when the stack only renders configs. */
  public readonly bootstrap?: ClusterBootstrap;
  /** talosctl configuration with every node. Secret. */
  public readonly talosconfig: pulumi.Output<string>;
  public readonly provider: talos.Provider;
  /** Every node's complete machine configuration, by node name. Secret. */
  public readonly nodeConfigs: Readonly<Record<string, pulumi.Output<string>>>;
  /** Every node's upgrade target (its kernel args), in config order. */
  public readonly nodeTargets: readonly NodeTarget[];
  /** How many node configs Talos's rules validated (undefined without configCheck). */
  public readonly validatedConfigs?: pulumi.Output<number>;

  constructor(name: string, args: TalosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:Cluster", name, {}, opts);
    const { cluster, imageFactory, nodes } = args.config;

    this.provider = new talos.Provider(`${name}-talos`, { imageFactoryUrl: imageFactory.url }, { parent: this });
    const provider = this.provider;

    this.schematic = new ImageSchematic(
      `${name}-image`,
      {
        spec: { extensions: imageFactory.extensions, extraKernelArgs: imageFactory.extraKernelArgs },
        talosVersion: cluster.talosVersion,
        factoryUrl: imageFactory.url,
        register: imageFactory.register,
        provider,
      },
      { parent: this },
    );

    // Only machines that will be created need an image.
    if (cluster.applyNodes) args.infrastructure?.bootImage?.(this.schematic);

    const derived = clusterPatches({
      cni: cluster.cni,
      podCidr: cluster.podCidr,
      serviceCidr: cluster.serviceCidr,
      allowSchedulingOnControlPlanes: cluster.allowSchedulingOnControlPlanes,
      installerImage: this.schematic.installerImage,
      kubeletReservations: cluster.kubeletReservations,
      ...(cluster.kubespan ? { kubespan: cluster.kubespan } : {}),
    }).map(toYaml);

    const layers = {
      all: [...derived, ...(args.infrastructure?.patches ?? []), ...args.patchFiles.all],
      // Scheduled etcd snapshots need Talos API access from their namespace, and a VIP lives only
      // on control planes (both before patch files, which may override).
      controlplane: [
        ...(args.infrastructure?.controlplanePatches ?? []),
        ...(args.config.backup?.enabled ? [toYaml(etcdBackupAccessPatch(args.config.backup.namespace))] : []),
        ...(cluster.vip ? [toYaml(vipPatch(cluster.vip))] : []),
        ...args.patchFiles.controlplane,
      ],
      worker: args.patchFiles.worker,
    };
    /** The Kubernetes API endpoint every config and the kubeconfig carry. */
    const clusterEndpoint = cluster.endpoint ?? args.infrastructure!.endpoint;

    this.machineConfigs = new ClusterConfig(
      `${name}-config`,
      {
        clusterName: cluster.name,
        endpoint: clusterEndpoint,
        // A new cluster's contract is what the generator really produces (config/versions.ts).
        talosVersion: creationContract(cluster.talosVersion),
        configContract: cluster.configContract,
        kubernetesVersion: cluster.kubernetesVersion,
        protectSecrets: cluster.protectSecrets,
        importSecretsFrom: args.importSecretsFrom,
        // Kernel args are read from `layers` (nodeKernelArgs) into the schematics, and left out of what Talos merges.
        patches: { all: layers.all.map(configLayer), controlplane: layers.controlplane.map(configLayer), worker: layers.worker.map(configLayer) },
        provider,
      },
      { parent: this },
    );

    // A node whose layers add kernel args gets its own schematic carrying them (ownSchematicSpec),
    // one per distinct set, registered like the cluster's.
    const clusterSpec: SchematicSpec = { extensions: imageFactory.extensions, extraKernelArgs: imageFactory.extraKernelArgs };
    const infra = args.infrastructure;
    const kernelArgs = Object.fromEntries(
      nodes.map((n) => [n.name, nodeKernelArgs(imageFactory.extraKernelArgs, [...layers.all, ...layers[n.role]], nodeLayers(n, args.patchFiles, infrastructureLayer(infra, n)))]),
    );
    const ownSchematics = new Map<string, ImageSchematic>();
    const imageOf = (n: Node): ImageSchematic | undefined => {
      const spec = ownSchematicSpec(clusterSpec, kernelArgs[n.name]!);
      if (!spec) return undefined;
      const id = schematicId(spec);
      if (!ownSchematics.has(id)) {
        ownSchematics.set(id, new ImageSchematic(`${name}-image-${id.slice(0, 12)}`, { spec, talosVersion: cluster.talosVersion, factoryUrl: imageFactory.url, register: imageFactory.register, provider }, { parent: this }));
      }
      return ownSchematics.get(id);
    };
    const images = Object.fromEntries(nodes.map((n) => [n.name, imageOf(n)]));
    // What Talos merges: every layer without kernel args, then the node's image patch, whose
    // kernel args are exactly its schematic's (nodeImagePatch).
    const layersOf = (n: Node) => nodeConfigPatches(n, args.patchFiles, { ownInstaller: images[n.name]?.installerImage, kernelArgs: kernelArgs[n.name]! }, infrastructureLayer(infra, n));

    // Each node's complete config; usable only once Talos validated every node's config
    // (configCheck) and the factory confirmed the schematic its installer names.
    const rendered = Object.fromEntries(nodes.map((node) => [node.name, this.machineConfigs.render(node.role, layersOf(node))]));
    this.nodeTargets = nodes.map((n) => ({
      name: n.name,
      address: n.address,
      role: n.role,
      kernelArgs: kernelArgs[n.name]!,
      ...(images[n.name] ? { installerImage: images[n.name]!.installerImage, schematicId: images[n.name]!.id } : {}),
    }));
    const check = args.configCheck;
    const gate =
      check &&
      gateNodeConfigs({
        rules: check.rules,
        nodes: nodes.map((n) => {
          const layers = layersOf(n);
          return { name: n.name, role: n.role, mode: validationMode(n.platform), patches: layers.map((content, i) => ({ source: check.nodeLayers[n.name]?.[i] ?? `layer ${i + 1}`, content })) };
        }),
        rendered,
        bases: { controlplane: this.machineConfigs.controlplaneConfig, worker: this.machineConfigs.workerConfig },
        baseSources: check.base,
      });
    this.nodeConfigs = gate?.configs ?? rendered;
    this.validatedConfigs = gate?.validated;
    const gated = (n: Node) => pulumi.secret(pulumi.all([this.nodeConfigs[n.name]!, this.schematic.ready, images[n.name]?.ready ?? ""]).apply(([c]) => c));

    const controlPlanes = nodes.filter((n) => n.role === "controlplane");
    const workers = nodes.filter((n) => n.role === "worker");
    this.talosconfig = pulumi.secret(
      talos.client.getConfigurationOutput(
        {
          clusterName: cluster.name,
          clientConfiguration: this.machineConfigs.clientConfiguration,
          // The infrastructure's endpoint for its nodes; in a hybrid stack the LAN control planes too.
          endpoints: infra ? [infra.talosEndpoint, ...controlPlanes.filter((n) => !hostedBy(infra, n)).map((n) => n.address)] : controlPlanes.map((n) => n.address),
          nodes: nodes.map((n) => n.address),
        },
        { parent: this, provider },
      ).talosConfig,
    );

    const nodeAfter = this.schematic.registration;
    const machines = cluster.applyNodes ? args.machines?.(this.schematic, pulumi.all([this.schematic.ready, this.validatedConfigs ?? 0]), this.talosconfig) : undefined;
    // A machine created here boots with its config as user data, then gets it applied like any other.
    const applied = cluster.applyNodes ? nodes : [];
    const hosts = Object.fromEntries(applied.map((n) => [n.name, hostedBy(infra, n) ? infra!.hostFor(n, gated(n)) : undefined]));
    // A node the infrastructure hosts is reached through its endpoint; any other at its own address.
    const talosEndpointOf = (n: Node) => (hostedBy(infra, n) ? infra!.talosEndpoint : undefined);
    this.nodes = applied.map(
      (node) =>
        new TalosNode(
          node.name,
          {
            address: node.address,
            endpoint: hosts[node.name]?.endpoint ?? talosEndpointOf(node),
            machineConfiguration: gated(node),
            clientConfiguration: this.machineConfigs.clientConfiguration,
            timeout: cluster.talosApiTimeout,
            onDestroy: cluster.onDestroy,
            provider,
            after: [...nodeAfter, ...(images[node.name]?.registration ?? []), ...(hosts[node.name]?.resources ?? []), ...(machines?.[node.name] ?? [])],
          },
          { parent: this },
        ),
    );

    if (cluster.applyNodes) {
      const first = this.nodes[nodes.indexOf(controlPlanes[0]!)]!;
      this.bootstrap = new ClusterBootstrap(
        `${name}-cluster`,
        {
          bootstrapNode: first.address,
          endpoint: talosEndpointOf(controlPlanes[0]!),
          clusterEndpoint,
          bootstrapNodeApply: first.apply,
          controlPlanes: controlPlanes.map((n) => n.address),
          workers: workers.map((n) => n.address),
          checkHealth: args.checkHealth,
          recoverFrom: args.recoverFrom && { ...args.recoverFrom, talosconfig: this.talosconfig },
          clientConfiguration: this.machineConfigs.clientConfiguration,
          timeout: cluster.talosApiTimeout,
          provider,
        },
        { parent: this },
      );
    }

    this.registerOutputs({
      schematicId: this.schematic.id,
      kubeconfig: this.bootstrap?.kubeconfig,
      talosconfig: this.talosconfig,
    });
  }
}
