// The edge: read and validate the stack config once, read patch files, then build components.
// Nothing is registered until all of that succeeded.
import * as pulumi from "@pulumi/pulumi";
import path from "node:path";
import { PlatformAddons } from "./components/addons/platform-addons";
import { EtcdBackup } from "./components/backup/etcd-backup";
import { ClusterUpgrades } from "./components/day2/cluster-upgrades";
import { ConfigRollout } from "./components/day2/config-rollout";
import { KernelArgs } from "./components/day2/kernel-args";
import { NodeRemoval } from "./components/day2/node-removal";
import { removalGuard } from "./components/day2/removal-guard";
import { membersOf } from "./components/day2/upgrade-plan";
import { DedicatedServers } from "./components/hetzner/dedicated-servers";
import { HetznerCloud } from "./components/hetzner/hetzner-cloud";
import * as rescueScripts from "./components/hetzner/rescue-scripts";
import { SynologyBootFromDisk } from "./components/synology/boot-from-disk";
import { imageName, SynologyVms } from "./components/synology/synology-vms";
import { kernelArgProblems, patchFileProblems, talosConfigCheck } from "./components/talos/config-validation";
import { DataDiskWipes } from "./components/talos/data-disk-wipes";
import { NodeMetadata } from "./components/talos/node-metadata";
import { needsApi, splitNodeMetadata } from "./components/talos/node-metadata-plan";
import { TalosCluster } from "./components/talos/talos-cluster";
import { recoverySource } from "./config/backup";
import { readPatchFiles } from "./config/patch-files";
import { patchSources } from "./config/patch-sources";
import { isHetznerPlatform } from "./config/hetzner";
import { parseStackConfig, projectConfig, StackConfigError } from "./config/schema";
import { writeSecretsImportFile } from "./config/secrets-file";
import pins from "./toolchain/versions.json";

// Talos's own rules (components/talos/config-validation.ts): the validator setup builds, found on
// PATH; TALOS_CONFIG_CHECK names another binary (the unit tests' stand-in for mock configs).
const talosRules = talosConfigCheck(process.env.TALOS_CONFIG_CHECK || "talos-config-check");

function load() {
  try {
    const config = parseStackConfig(projectConfig(pulumi.runtime.allConfig()));
    const patchFiles = readPatchFiles(path.join(__dirname), config);
    // Every patch file through Talos's own loader, before any resource exists.
    const sources = patchSources(path.join(__dirname), config);
    const problems = [...patchFileProblems(talosRules, sources.files), ...kernelArgProblems(sources.files)];
    if (problems.length) throw new StackConfigError(problems);
    return { config, patchFiles, sources };
  } catch (err) {
    // A RunError prints just the message (every problem with its path), no stack trace.
    if (err instanceof StackConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const { config, patchFiles, sources } = load();

// Hetzner Cloud: the network, firewall, API load balancer and servers the cluster runs on.
const hetzner =
  config.hetzner &&
  new HetznerCloud(`${config.cluster.name}-hetzner`, {
    clusterName: config.cluster.name,
    settings: config.hetzner,
    token: pulumi.secret(config.hcloudToken!),
    cloudController: config.addons.hcloudCcm.enabled === true,
    factoryUrl: config.imageFactory.url,
    talosVersion: config.cluster.talosVersion,
    // LAN nodes beside the servers (README, "Hybrid clusters").
    hybrid: config.nodes.some((n) => !isHetznerPlatform(n.platform)),
  });

// Synology: the VMM guests of the nodes with a vm section, booted from the cluster's ISO.
const synology = config.synology;
let vms: SynologyVms | undefined;
const vmNodes = config.nodes.flatMap((n) => ("vm" in n && n.vm ? [{ name: n.name, role: n.role, address: n.address, vm: n.vm }] : []));

// Hetzner dedicated servers: Robot firewall, rescue boot, the metal image written over SSH; then
// they wait in maintenance mode for the ordinary apply at their address.
const dedicatedServers = config.hetzner?.dedicated ?? [];
let dedicated: DedicatedServers | undefined;

const cluster = new TalosCluster(config.cluster.name, {
  config,
  patchFiles,
  infrastructure: hetzner,
  importSecretsFrom: config.secretsYaml === undefined ? undefined : writeSecretsImportFile(config.secretsYaml),
  // A preview never dials a node nor waits for health.
  checkHealth: !pulumi.runtime.isDryRun(),
  configCheck: { rules: talosRules, nodeLayers: sources.nodeLayers, base: sources.base },
  // Disaster recovery: etcd from a snapshot instead of empty (README, Disaster recovery).
  recoverFrom: config.cluster.recoverFrom === undefined ? undefined : recoverySource(config.cluster.recoverFrom),
  machines:
    synology === undefined && dedicatedServers.length === 0
      ? undefined
      : (schematic, checked, talosconfig) => {
          if (dedicatedServers.length) {
            dedicated = new DedicatedServers(`${config.cluster.name}-dedicated`, {
              clusterName: config.cluster.name,
              servers: dedicatedServers,
              vswitch: config.hetzner!.vswitch,
              adminCidrs: config.hetzner!.adminCidrs,
              robot: { url: config.hetzner!.robotUrl, user: pulumi.secret(config.robotUser!), password: pulumi.secret(config.robotPassword!) },
              image: { factoryUrl: config.imageFactory.url, schematicId: schematic.id, talosVersion: config.cluster.talosVersion },
              scripts: rescueScripts,
              after: schematic.registration,
              checked,
            });
          }
          if (!synology) return dedicated!.nodeAfter;
          vms = new SynologyVms(`${config.cluster.name}-synology`, {
            settings: synology,
            password: pulumi.secret(config.synologyPassword!),
            isoUrl: schematic.isoUrl,
            imageName: imageName(config.cluster.talosVersion, schematic.id),
            checked,
            nodes: vmNodes,
            maxUnavailableWorkers: config.cluster.rollout.maxUnavailableWorkers,
            timeout: config.cluster.talosApiTimeout,
            after: schematic.registration,
            // A resized control plane: the next guest waits for etcd through Talos.
            resizeGate: { talosconfig, members: membersOf(config.nodes) },
          });
          return { ...vms.nodeAfter, ...(dedicated?.nodeAfter ?? {}) };
        },
});
// Once a VM node's config is applied, its guest boots from its disk (the ISO slots emptied):
// before any day-2 step can power-cycle or upgrade it.
const bootFromDisk =
  vms &&
  new SynologyBootFromDisk(`${config.cluster.name}-synology-boot`, {
    provider: vms.provider,
    guests: vms.guests,
    // Addresses are unique (config/node-checks.ts): a VM node's TalosNode is the one at its address.
    installed: Object.fromEntries(vmNodes.map((v) => [v.name, cluster.nodes.filter((n) => n.address === v.address).map((n) => n.apply)])),
  });

// Day 2, before anything else touches a running cluster: nodes that left the stack are taken out
// first (no gate may count them), then Talos OS upgrades one node at a time, then Kubernetes,
// then config changes (one control plane at a time, workers in batches), then kernel-argument
// changes (a power cycle once the node holds its new config). On a new cluster every step only
// records its target: the enrollment applies already did the work.
const bootstrap = cluster.bootstrap;
// How every day-2 step reaches the cluster (components/day2/command-step.ts, ClusterAccess).
const access = bootstrap && { timeout: config.cluster.talosApiTimeout, talosconfig: cluster.talosconfig, kubeconfig: bootstrap.kubeconfig };
// Every node as the day-2 steps see it; with Rook on, a node with data disks is a storage node,
// whose gates also wait for Ceph's health.
const storageNodes = new Set(config.addons.rookCeph.enabled ? config.nodes.filter((n) => n.dataDisks.length).map((n) => n.name) : []);
const day2Nodes = cluster.nodeTargets.map((t) => ({ ...t, storage: storageNodes.has(t.name) }));
// The members the last up recorded (this stack's own `nodes` output): a removal etcd's quorum
// cannot survive is refused here, at preview, before any step runs.
const removalChecked = bootstrap && removalGuard(config.nodes, config.cluster.removeUnreachable);
const removal =
  bootstrap &&
  access &&
  new NodeRemoval(`${config.cluster.name}-nodes`, {
    nodes: day2Nodes,
    talosVersion: config.cluster.talosVersion,
    unreachable: config.cluster.removeUnreachable,
    settings: config.cluster.onDestroy,
    ...access,
    checked: removalChecked,
    after: [bootstrap.kubeconfigResource, ...cluster.nodes.map((n) => n.apply), ...Object.values(bootFromDisk?.switches ?? {})],
  });
const upgrades =
  removal &&
  access &&
  new ClusterUpgrades(`${config.cluster.name}-upgrades`, {
    nodes: day2Nodes,
    talosVersion: config.cluster.talosVersion,
    schematicId: cluster.schematic.id,
    installerImage: cluster.schematic.installerImage,
    kubernetesVersion: config.cluster.kubernetesVersion,
    ...access,
    // A new Talos version or schematic: its Hetzner snapshots exist before any node upgrades.
    after: [removal.step, ...(hetzner?.snapshots?.snapshots ?? [])],
  });
const rollout =
  access &&
  upgrades &&
  new ConfigRollout(`${config.cluster.name}-rollout`, {
    nodes: day2Nodes,
    talosVersion: config.cluster.talosVersion,
    machineConfigs: cluster.nodeConfigs,
    maxUnavailableWorkers: config.cluster.rollout.maxUnavailableWorkers,
    ...access,
    after: [upgrades.kubernetes],
  });
const kernelArgs =
  access &&
  rollout &&
  new KernelArgs(`${config.cluster.name}-kernel-args`, {
    nodes: day2Nodes,
    installerImage: cluster.schematic.installerImage,
    bootMediaKernelArgs: config.imageFactory.extraKernelArgs,
    ...access,
    after: rollout.done,
  });

// Rook's data disks new to the stack (dataDisks[].wipe, default true), wiped once after every
// node is at its target config and before any add-on (seed 003); none without Rook.
const wipeNodes = config.addons.rookCeph.enabled ? config.nodes.map((n, i) => ({ ...n, apply: cluster.nodes[i]?.apply })).filter((n) => n.wipeDisks.length && n.apply) : [];
const wipes =
  access &&
  kernelArgs &&
  wipeNodes.length > 0 &&
  new DataDiskWipes(`${config.cluster.name}-disk-wipes`, {
    nodes: wipeNodes.map((n) => ({ name: n.name, address: n.address, installDisk: n.installDisk, wipeDisks: n.wipeDisks, apply: n.apply! })),
    ...access,
    after: kernelArgs.done,
  });

// Talos-level health (no CNI yet: nodes registered but NotReady) once every node is at its target.
const clusterReady = bootstrap && kernelArgs && bootstrap.healthyAfter([...kernelArgs.done, ...(wipes ? wipes.steps : [])], true);

// A worker's labels and taints its own kubelet may not set (NodeRestriction), through the
// Kubernetes API once its Node is registered; before any add-on schedules a pod.
const nodeMetadata =
  bootstrap &&
  clusterReady &&
  config.nodes.some((n) => needsApi(splitNodeMetadata(n))) &&
  new NodeMetadata(`${config.cluster.name}-node-metadata`, {
    // Addresses are unique (config/node-checks.ts): a node's TalosNode is the one at its address.
    nodes: config.nodes.flatMap((n) => cluster.nodes.filter((t) => t.address === n.address).map((t) => ({ name: n.name, role: n.role, labels: n.labels, taints: n.taints, apply: t.apply }))),
    kubeconfig: bootstrap.kubeconfig,
    ready: clusterReady,
    timeout: config.cluster.talosApiTimeout,
    after: [bootstrap.kubeconfigResource],
  });

// Add-ons need the cluster's kubeconfig, so only a stack that bootstraps its cluster has them.
const addons =
  bootstrap &&
  clusterReady &&
  new PlatformAddons(`${config.cluster.name}-addons`, {
    addons: config.addons,
    kubeconfig: bootstrap.kubeconfig,
    podCidr: config.cluster.podCidr,
    nodes: config.nodes,
    allowSchedulingOnControlPlanes: config.cluster.allowSchedulingOnControlPlanes,
    // ... and once the node metadata steps ran (their URNs resolve when they are done; known in a preview).
    clusterReady: pulumi.all([clusterReady, ...Object.values(nodeMetadata ? nodeMetadata.steps : {}).map((s) => s.urn)]).apply(([ready]) => ready),
    healthyAfter: (after) => bootstrap.healthyAfter(after, false),
    hetzner: hetzner && {
      token: pulumi.secret(config.hcloudToken!),
      networkId: hetzner.networkId,
      location: config.hetzner!.location,
      subnetCidr: config.hetzner!.subnetCidr,
      // Dedicated servers: the controller's Robot support, with the stack's Robot login.
      robotLogin: config.hetzner!.dedicated.length > 0 ? pulumi.secret({ user: config.robotUser!, password: config.robotPassword! }) : undefined,
    },
  });

// Scheduled etcd snapshots to S3, after the add-ons' health gate like the other add-ons.
const backup = config.backup?.enabled ? config.backup : undefined;
const etcdBackup =
  addons &&
  backup &&
  new EtcdBackup(`${config.cluster.name}-backup`, {
    settings: {
      clusterName: config.cluster.name,
      namespace: backup.namespace,
      schedule: backup.schedule,
      image: `${pins.images.talosBackup.image}:${pins.images.talosBackup.version}`,
      endpoint: backup.s3.endpoint,
      bucket: backup.s3.bucket,
      region: backup.s3.region,
      pathStyle: backup.s3.pathStyle,
      prefix: backup.s3.prefix ?? config.cluster.name,
    },
    accessKey: pulumi.secret(config.backupAccessKey!),
    secretKey: pulumi.secret(config.backupSecretKey!),
    agePublicKey: pulumi.secret(config.backupAgePublicKey!),
    provider: addons.provider,
    healthy: addons.healthy!,
  });

export const clusterName = config.cluster.name;
export const endpoint = config.cluster.endpoint ?? hetzner?.endpoint;
// null, not undefined, where a stack has no such thing: Pulumi warns on every undefined output.
export const loadBalancerIp = hetzner?.loadBalancerIp ?? null;
export const talosVersion = config.cluster.talosVersion;
export const configContract = cluster.machineConfigs.contract;
export const kubernetesVersion = config.cluster.kubernetesVersion;
export const schematicId = cluster.schematic.id;
export const installerImage = cluster.schematic.installerImage;
export const isoUrl = cluster.schematic.isoUrl;
/** Each node's image: its schematic (the cluster's, or its own when its layers add kernel args), installer and kernel args. */
export const nodeImages = Object.fromEntries(
  cluster.nodeTargets.map((t) => [t.name, { schematicId: t.schematicId ?? cluster.schematic.id, installerImage: t.installerImage ?? cluster.schematic.installerImage, kernelArgs: t.kernelArgs }]),
);
export const nodes = config.nodes.map((n) => ({ name: n.name, role: n.role, platform: n.platform, address: n.address, installDisk: n.installDisk }));
export const controlplaneMachineConfig = cluster.machineConfigs.controlplaneConfig;
export const workerMachineConfig = cluster.machineConfigs.workerConfig;
export const nodeMachineConfigs = pulumi.secret(pulumi.all(cluster.nodeConfigs));
/** How many node configs passed Talos's own validation in this run. */
export const validatedMachineConfigs = cluster.validatedConfigs;
export const talosSecretsYaml = cluster.machineConfigs.secretsYaml;
export const talosconfig = cluster.talosconfig;
export const kubeconfig = cluster.bootstrap?.kubeconfig ?? null;
export const addonsHealthy = addons?.healthy ?? null;
/** Per add-on and component: replicas and the nodes each can run on (the preview shows it). */
export const addonPlacement = addons?.placement ?? null;
/** The Gateway's address (its status, written by the controller from its LoadBalancer Service); null without one. */
export const gatewayAddress = addons?.gatewayAddress ?? null;
export const etcdBackupSchedule = (etcdBackup ? backup?.schedule : undefined) ?? null;
