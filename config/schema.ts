// The stack configuration, parsed once at the edge (index.ts) with a strict schema.
// Components never read pulumi.Config: they take the typed result of parseStackConfig.
import { z } from "zod";
import pins from "../toolchain/versions.json";
import { addonsSchema } from "./addons";
import { checkAddonPlacement } from "./addon-placement";
import { agePublicKey, backupSchema, recoverFromPath, s3AccessKey, s3SecretKey } from "./backup";
import { checkVersionPair } from "./versions";
import { crossFieldChecks } from "./checks";
import { checkDedicated } from "./dedicated-checks";
import { DEDICATED_PLATFORM, HETZNER_PLATFORM, hetznerNodes, hetznerSchema } from "./hetzner";
import { kubespanSchema, kubespanSettings } from "./kubespan";
import { importedSecretsProblems } from "./secrets-certs";
import { synologySchema, vmSchema } from "./synology";
import {
  cidr,
  configContract,
  diskPath,
  dnsLabel,
  duration,
  extensionName,
  hostAddress,
  httpsEndpoint,
  interfaceAddress,
  interfaceName,
  nodeAddress,
  kernelArg,
  kubernetesVersion,
  labels,
  memoryQuantity,
  taints,
  talosVersion,
} from "./fields";

/** The project's config namespace: keys are written `talos-cluster:<key>` in Pulumi.<stack>.yaml. */
export const CONFIG_NAMESPACE = "talos-cluster";

/** Platforms a node can run on. Each has its own patch folder, patches/platform/<platform>/. */
export const PLATFORMS = ["synology-vm", "bare-metal"] as const;
export { HETZNER_PLATFORM } from "./hetzner";
export type Platform = (typeof PLATFORMS)[number];

/** The extension every Synology VM needs (seed 000: the VMM talks to the guest through it). */
export const QEMU_GUEST_AGENT = "siderolabs/qemu-guest-agent";

/**
 * Talos's deviceSelector (machine.network.interfaces[].deviceSelector): picks the link by what
 * it is rather than its name. Every field given must match.
 */
const deviceSelectorSchema = z
  .strictObject({
    hardwareAddr: z.string().regex(/^[0-9a-fA-F*]{1,2}(:[0-9a-fA-F*]{1,2}){0,5}$/, "must be a MAC address or pattern like 02:11:32:*").optional(),
    permanentAddr: z.string().regex(/^[0-9a-fA-F*]{1,2}(:[0-9a-fA-F*]{1,2}){0,5}$/, "must be a MAC address or pattern like 02:11:32:*").optional(),
    busPath: z.string().regex(/^[0-9a-zA-Z:.*/-]+$/, "must be a bus path like 0000:00:03.0 or 00*").optional(),
    pciID: z.string().regex(/^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$/, "must be a PCI ID like 1AF4:1000").optional(),
    driver: z.string().regex(/^[a-z0-9_-]+$/, "must be a kernel driver name like virtio_net").optional(),
    physical: z.boolean().optional(),
  })
  .refine((s) => Object.keys(s).length > 0, { message: "needs at least one field (hardwareAddr, permanentAddr, busPath, pciID, driver or physical)" });

/**
 * A Talos shared IP (machine.network.interfaces[].vip) on the control planes: the one that holds
 * etcd leadership announces it, so the API endpoint does not belong to any one node.
 */
const vipSchema = z.strictObject({
  /** The shared address: unused, in the control planes' layer-2 subnet. */
  address: hostAddress,
  /** The link every control plane shares, by name. Default: the control planes' static network interface, when they all have one and it is the same. */
  interface: interfaceName.optional(),
  /** The link by its properties instead of its name (Talos's deviceSelector). Default: none. */
  deviceSelector: deviceSelectorSchema.optional(),
});

const clusterSchema = z.strictObject({
  /** Cluster name written into every machine config and kubeconfig context. */
  name: dnsLabel,
  /**
   * Kubernetes API endpoint, https://<host>:<port>. Default: https://<vip.address>:6443 with a
   * vip; otherwise, for a single control plane, https://<its address>:6443. Required (or vip)
   * with more than one control plane, and then never one control plane's own address.
   */
  endpoint: httpsEndpoint.optional(),
  /** A Talos VIP shared by the control planes, the default endpoint (config/endpoint-checks.ts). Not on Hetzner (its load balancer is the endpoint). Default: none. */
  vip: vipSchema.optional(),
  /**
   * Nodes already removed from `nodes` that no longer answer: the removal step takes them out
   * of etcd and Kubernetes through the remaining control planes, without dialing them. Default: none.
   */
  removeUnreachable: z.array(dnsLabel).default([]),
  /** Talos version, v1.10.0 to v1.14.x (config/versions.ts). Default: toolchain/versions.json cluster.talosVersion. */
  talosVersion: talosVersion.default(pins.cluster.talosVersion),
  /**
   * The Talos version machine configs are generated for (the config contract), e.g. v1.10.
   * Default: the version the cluster was created with, kept with its secrets in state, so a
   * Talos bump only moves the installed OS. Set it to move the contract on purpose; required
   * when secretsYaml imports secrets. Never newer than talosVersion.
   */
  configContract: configContract.optional(),
  /** Kubernetes version, one Talos supports with talosVersion (config/versions.ts). Default: toolchain/versions.json cluster.kubernetesVersion. */
  kubernetesVersion: kubernetesVersion.default(pins.cluster.kubernetesVersion),
  /** Pod network. Default: Talos's 10.244.0.0/16. */
  podCidr: cidr.default("10.244.0.0/16"),
  /** Service network. Default: Talos's 10.96.0.0/12. */
  serviceCidr: cidr.default("10.96.0.0/12"),
  /** CNI: `cilium` (installed by this program, Talos CNI and kube-proxy off) or Talos's built-in `flannel`. Default: cilium. */
  cni: z.enum(["cilium", "flannel"]).default("cilium"),
  /** Run workloads on control planes. Default: true exactly when there are no workers. */
  allowSchedulingOnControlPlanes: z.boolean().optional(),
  /** Accept an even control-plane count (etcd gains no failure tolerance from it). Default: false, refused. */
  allowEvenControlPlanes: z.boolean().default(false),
  /**
   * Accept a layout where losing one site (config/sites.ts: a LAN, a Hetzner location) leaves
   * fewer control planes than etcd's quorum. Default: false, refused when the stack spans two or
   * more sites.
   */
  acceptSiteLoss: z.boolean().default(false),
  /** KubeSpan, Talos's WireGuard mesh between every node (config/kubespan.ts). Default: on in a hybrid stack (nodes and hetzner), off otherwise. */
  kubespan: kubespanSchema.optional(),
  /** Accept loopback (127.0.0.0/8) node and endpoint addresses: only for stand-ins on this machine (tests). Default: false, refused. */
  allowLoopbackAddresses: z.boolean().default(false),
  /**
   * Apply configs to the nodes, bootstrap and fetch the kubeconfig. false only renders secrets,
   * machine configs and talosconfig (to review them, or apply by hand) and touches no machine. Default: true.
   */
  applyNodes: z.boolean().default(true),
  /** `pulumi destroy` refuses to delete the cluster secrets. Default: true. */
  protectSecrets: z.boolean().default(true),
  /** Kubelet memory reservations (seed 000 measured an idle node). Default: 512Mi system, 512Mi kube, evict below 256Mi. */
  kubeletReservations: z
    .strictObject({
      systemMemory: memoryQuantity.default("512Mi"),
      kubeMemory: memoryQuantity.default("512Mi"),
      evictionMemory: memoryQuantity.default("256Mi"),
    })
    .default({ systemMemory: "512Mi", kubeMemory: "512Mi", evictionMemory: "256Mi" }),
  /** How long a Talos API call (apply, bootstrap, kubeconfig, health) may wait for a node. Default: 10m. */
  talosApiTimeout: duration.default("10m"),
  /** How config changes reach running nodes: control planes one at a time, workers in batches. */
  rollout: z
    .strictObject({
      /** Workers whose config changes at the same time (drained and rebooted if needed). Default: 1. */
      maxUnavailableWorkers: z.number().int("must be a whole number").min(1, "must be at least 1").default(1),
    })
    .default({ maxUnavailableWorkers: 1 }),
  /** What removing a node does to it. Default: graceful leave (cordon, drain, leave etcd), reset, no reboot. */
  onDestroy: z
    .strictObject({
      graceful: z.boolean().default(true),
      reset: z.boolean().default(true),
      reboot: z.boolean().default(false),
    })
    .default({ graceful: true, reset: true, reboot: false }),
  /**
   * An etcd snapshot to bootstrap from (`talosctl bootstrap --recover-from`) instead of an empty
   * etcd, relative to the project root or absolute. Only for control planes that are fresh; needs
   * secretsYaml (the old cluster's secrets). Default: none, a new empty cluster.
   */
  recoverFrom: recoverFromPath.optional(),
}).superRefine((cluster, ctx) => checkVersionPair(cluster, ctx, pins.cluster), { when: () => true }); // config/versions.ts

const imageFactorySchema = z.strictObject({
  /** Image Factory base URL. Default: https://factory.talos.dev. */
  url: z.url({ protocol: /^https?$/, message: "must be an http(s) URL like https://factory.talos.dev" }).default("https://factory.talos.dev"),
  /** Register the schematic with the factory before any node is applied. Default: true. */
  register: z.boolean().default(true),
  /** Official system extensions baked into the image. Synology VMs add siderolabs/qemu-guest-agent. Default: none. */
  extensions: z.array(extensionName).default([]),
  /** Kernel arguments baked into the image (boot media and installer). Default: none. */
  extraKernelArgs: z.array(kernelArg).default([]),
});

const staticNetworkSchema = z.strictObject({
  /** Interface name as Talos sees it, e.g. eth0 or enp1s0. */
  interface: interfaceName,
  /** Addresses with prefix, e.g. [10.0.1.50/24]. */
  addresses: z.array(interfaceAddress).min(1, "needs at least one address"),
  /** Default gateway, inside one of the addresses' subnets. */
  gateway: hostAddress,
  /** DNS servers. Default: the gateway. */
  nameservers: z.array(hostAddress).optional(),
});

/** A data disk with its settings; a plain path means `{path, wipe: true}`. */
const dataDiskSchema = z.strictObject({
  path: diskPath,
  /** Wipe the disk once, when it is new to the stack, before Rook uses it. Default: true. */
  wipe: z.boolean().default(true),
});

const nodeSchema = z.strictObject({
  /** Hostname and Kubernetes node name. */
  name: dnsLabel,
  role: z.enum(["controlplane", "worker"]),
  platform: z.enum(PLATFORMS),
  /** The site (failure domain) the machine is in, for the etcd placement check (config/sites.ts). Default: "lan". */
  site: dnsLabel.optional(),
  /** Address the Talos API (50000) is reached at, first in maintenance mode; with `network`, one of its addresses. */
  address: nodeAddress,
  /** Disk Talos installs to. Default: /dev/sda. */
  installDisk: diskPath.default("/dev/sda"),
  /**
   * Disks left to storage (e.g. Rook Ceph); never the install disk. Each is a path, or
   * `{path, wipe}`: `wipe` (default true) wipes the disk once, when it is new to the stack (its
   * node enrolled or the disk added), before Rook first uses it (seed 003); never on later runs.
   * Set `wipe: false` for a disk whose data must survive (e.g. OSDs of this cluster). Default: none.
   */
  dataDisks: z.array(z.union([diskPath, dataDiskSchema], { error: "must be a device path like /dev/sdb, or {path: /dev/sdb, wipe: false}" })).default([]),
  /** Static addressing instead of DHCP. Default: DHCP. */
  network: staticNetworkSchema.optional(),
  /**
   * The machine's size, for a machine this program does not create (a vm section and a Hetzner
   * server type say it themselves): only the checks read it (the kubelet's reservations, Rook's
   * OSD requests). Default: unknown, not judged.
   */
  capacity: z
    .strictObject({
      vcpus: z.number().int("must be a whole number").min(1, "must be at least 1").max(1024, "must be at most 1024"),
      memoryMiB: z.number().int("must be a whole number of MiB").min(512, "must be at least 512").max(16777216, "must be at most 16777216 (16 TiB)"),
    })
    .optional(),
  labels: labels.default({}),
  taints: taints.default({}),
  /** Extra patch files for this node only, relative to the project root, applied last. */
  patches: z
    .array(
      z
        .string()
        .regex(/^[^/].*\.ya?ml$/, "must be a relative path to a .yaml file")
        // The stack's files are what CI checks out: a path out of the project names nothing there.
        .refine((p) => !p.split("/").includes(".."), { message: "must stay inside the project: remove the '..' parts (patch files live under the project root, which CI checks out)" }),
    )
    .default([]),
  /** synology-vm only: the VMM guest this program creates for the node (config/synology.ts). Default: none, the VM exists already. */
  vm: vmSchema.optional(),
});

/** A GitHub Actions runner label, e.g. ubuntu-latest, self-hosted or a label of your own. */
const runnerLabel = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "must be a runner label like ubuntu-latest or self-hosted");

/** Where CI runs this stack's preview and up (.github/workflows/pulumi.yml reads it from the stack file). */
const ciSchema = z.strictObject({
  /** false: the pulumi workflow leaves this stack alone (e.g. the e2e stack, run by its own workflow). Default: true. */
  enabled: z.boolean().default(true),
  /**
   * The job's `runs-on`: one label or a list. A cluster on a LAN needs a self-hosted runner on
   * that LAN (e.g. [self-hosted, lan]); a cloud cluster can use a hosted one. Default: ubuntu-latest.
   */
  runsOn: z.union([runnerLabel, z.array(runnerLabel).min(1, "needs at least one label")]).default("ubuntu-latest"),
});

const rawSchema = z.strictObject({
  cluster: clusterSchema,
  imageFactory: imageFactorySchema.default({ url: "https://factory.talos.dev", register: true, extensions: [], extraKernelArgs: [] }),
  /** The machines of a Synology or bare-metal cluster; a Hetzner cluster lists pools instead. */
  nodes: z.array(nodeSchema).optional(),
  /** Hetzner Cloud: network, firewall, load balancer and servers from pools. */
  hetzner: hetznerSchema.optional(),
  /** The Hetzner API token, from the encrypted stack secret `hcloud:token`. */
  hcloudToken: z.string().regex(/^[A-Za-z0-9]{64}$/, "must be a 64-character Hetzner Cloud API token").optional(),
  /** Synology DSM and VMM: where the guests of nodes with a vm section are created (config/synology.ts). */
  synology: synologySchema.optional(),
  /** The DSM password, from the encrypted stack secret `talos-cluster:synologyPassword`. */
  synologyPassword: z.string().min(1, "must not be empty").optional(),
  /** The Robot webservice user and password (hetzner.dedicated), from the encrypted stack secrets `talos-cluster:robotUser` and `talos-cluster:robotPassword`. */
  robotUser: z.string().min(1, "must not be empty").optional(),
  robotPassword: z.string().min(1, "must not be empty").optional(),
  /** Platform add-ons, installed once the cluster is bootstrapped (skipped when cluster.applyNodes is false). */
  addons: addonsSchema.default(addonsSchema.parse({})),
  /** Where CI previews and updates this stack. Default: a hosted ubuntu-latest runner. */
  ci: ciSchema.default({ enabled: true, runsOn: "ubuntu-latest" }),
  /** Contents of a `talosctl gen secrets` file, as an encrypted stack secret. Default: generated. */
  secretsYaml: z
    .string()
    .superRefine((text, ctx) => importedSecretsProblems(text).forEach((message) => ctx.addIssue({ code: "custom", message })))
    .optional(),
  /** Scheduled etcd snapshots to S3 (talos-backup CronJob). Default: none. */
  backup: backupSchema.optional(),
  /** Encrypted stack secrets of the backup: S3 access key, S3 secret key, age public key. */
  backupAccessKey: s3AccessKey.optional(),
  backupSecretKey: s3SecretKey.optional(),
  backupAgePublicKey: agePublicKey.optional(),
});

export type RawStackConfig = z.infer<typeof rawSchema>;
export type NodeSettings = z.infer<typeof nodeSchema>;
export type VipSettings = z.infer<typeof vipSchema>;
export type { AddonSettings } from "./addons";
export type { BackupSettings } from "./backup";
export type { HetznerSettings } from "./hetzner";
export type { SynologySettings, VmSettings } from "./synology";

/** A node's data disks as paths, and the ones to wipe once when new to the stack (config/schema.ts dataDisks). */
export function dataDiskSettings(disks: readonly (string | { path: string; wipe: boolean })[]): { dataDisks: string[]; wipeDisks: string[] } {
  const entries = disks.map((d) => (typeof d === "string" ? { path: d, wipe: true } : d));
  return { dataDisks: entries.map((d) => d.path), wipeDisks: entries.filter((d) => d.wipe).map((d) => d.path) };
}

/** The VIP's link: as given, or the control planes' common static interface (the checks made sure there is one). */
function vipLink(vip: z.infer<typeof vipSchema>, controlPlanes: readonly { network?: { interface: string } }[]) {
  if (vip.interface !== undefined || vip.deviceSelector !== undefined) return {};
  return { interface: controlPlanes[0]!.network!.interface };
}

/** Defaults that depend on other fields, filled once validation passed. */
function deriveDefaults(input: RawStackConfig) {
  const { hcloudToken, synologyPassword, robotUser, robotPassword, ...raw } = input;
  // A hybrid stack (nodes and hetzner) lists its cloud servers first: the first control plane
  // bootstraps etcd, and a cloud one puts a healthy target behind the load balancer (the endpoint) at once.
  const nodes = [
    ...(raw.hetzner ? hetznerNodes(raw.cluster.name, raw.hetzner) : []),
    ...(raw.nodes ?? []).map((n) => ({ ...n, platform: n.platform as Platform | typeof HETZNER_PLATFORM | typeof DEDICATED_PLATFORM })),
  ];
  // Hybrid: LAN nodes beside the Hetzner servers (cloud pools and dedicated ones).
  const hybrid = raw.hetzner !== undefined && raw.nodes !== undefined;
  // KubeSpan as rendered (its defaults filled), present only when on.
  const { kubespan: kubespanInput, ...clusterRest } = raw.cluster;
  const kubespan = kubespanSettings(kubespanInput, [...new Set(nodes.map((n) => n.platform))], hybrid);
  const controlPlanes = nodes.filter((n) => n.role === "controlplane");
  const workers = nodes.filter((n) => n.role === "worker");
  const extensions = [...raw.imageFactory.extensions];
  if (nodes.some((n) => n.platform === "synology-vm") && !extensions.includes(QEMU_GUEST_AGENT)) {
    extensions.push(QEMU_GUEST_AGENT);
  }
  return {
    ...raw,
    // Secret, and kept apart so it can only reach the provider that needs it.
    hcloudToken,
    synologyPassword,
    robotUser,
    robotPassword,
    cluster: {
      ...clusterRest,
      // A Hetzner cluster's endpoint is its load balancer, known once it exists. Without a VIP,
      // the first control plane's address, which the checks allow only for a single control plane.
      endpoint: raw.cluster.endpoint ?? (raw.hetzner ? undefined : `https://${raw.cluster.vip?.address ?? controlPlanes[0]!.address}:6443`),
      ...(raw.cluster.vip ? { vip: { ...raw.cluster.vip, ...vipLink(raw.cluster.vip, controlPlanes) } } : {}),
      allowSchedulingOnControlPlanes: raw.cluster.allowSchedulingOnControlPlanes ?? workers.length === 0,
      ...(kubespan ? { kubespan } : {}),
    },
    imageFactory: { ...raw.imageFactory, extensions: [...extensions].sort() },
    // Hetzner's cloud controller runs on every Hetzner-only stack unless switched off; a hybrid
    // stack's LAN nodes are no Hetzner servers, which it would delete (config/kubespan.ts).
    addons: { ...raw.addons, hcloudCcm: { ...raw.addons.hcloudCcm, enabled: raw.addons.hcloudCcm.enabled ?? (raw.hetzner !== undefined && !hybrid) } },
    nodes: nodes.map((n) => ({
      ...n,
      network: n.network && { ...n.network, nameservers: n.network.nameservers ?? [n.network.gateway] },
      // Paths only (what Rook and the checks read); the disks to wipe once are listed apart.
      ...dataDiskSettings(n.dataDisks),
    })),
  };
}

// The add-ons' placement needs the derived nodes and defaults, so it runs on the parsed config.
export const stackConfigSchema = rawSchema
  .superRefine(crossFieldChecks, { when: () => true })
  .superRefine(checkDedicated, { when: () => true }) // config/dedicated-checks.ts
  .transform(deriveDefaults)
  .superRefine(checkAddonPlacement);

export type StackConfig = z.output<typeof stackConfigSchema>;
export type ClusterSettings = StackConfig["cluster"];
export type Node = StackConfig["nodes"][number];

/** Every problem in the stack config, each with its path, e.g. `talos-cluster:nodes[2].address`. */
export class StackConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  const [key, ...rest] = path;
  // The token lives in the hcloud provider's own namespace.
  let out = key === "hcloudToken" ? "hcloud:token" : `${CONFIG_NAMESPACE}:${String(key ?? "")}`;
  for (const part of rest) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

function formatIssues(issue: z.core.$ZodIssue): string[] {
  if (issue.code === "unrecognized_keys") return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`);
  // zod reports a missing key as a type error against undefined.
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) return [`${formatPath(issue.path)}: required`];
  // A bad record key (labels, taints) carries the key schema's own message inside.
  if (issue.code === "invalid_key") return [`${formatPath(issue.path)}: ${issue.issues[0]?.message ?? issue.message}`];
  // A union (e.g. a data disk: a path or {path, wipe}) whose input has the shape of one option:
  // that option's own problems, with their paths, rather than the union's summary.
  if (issue.code === "invalid_union") {
    const fitting = issue.errors.find((errors) => errors.length && !errors.every((e) => e.code === "invalid_type" && e.path.length === 0));
    if (fitting) return fitting.flatMap((e) => formatIssues({ ...e, path: [...issue.path, ...e.path] } as z.core.$ZodIssue));
  }
  if (issue.code === "invalid_value") return [`${formatPath(issue.path)}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`];
  return [`${formatPath(issue.path)}: ${issue.message}`];
}

/**
 * Parses the raw project config (keys without the namespace) into typed settings with every
 * default filled in, or throws one StackConfigError naming every problem with its path.
 */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
  const result = stackConfigSchema.safeParse(raw);
  if (!result.success) throw new StackConfigError(result.error.issues.flatMap(formatIssues));
  return result.data;
}

/**
 * The project's keys from Pulumi's flat config map (`talos-cluster:cluster` -> `cluster`).
 * Structured values arrive as JSON text; plain strings stay strings.
 */
export function projectConfig(all: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (all["hcloud:token"] !== undefined) out.hcloudToken = all["hcloud:token"];
  for (const [fullKey, text] of Object.entries(all)) {
    const [namespace, key] = fullKey.split(":", 2);
    if (namespace !== CONFIG_NAMESPACE || key === undefined) continue;
    out[key] = parseConfigValue(text);
  }
  return out;
}

function parseConfigValue(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return text; // only structured values are JSON-encoded
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
