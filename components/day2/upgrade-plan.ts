// Talos OS and Kubernetes upgrades as shell scripts (seed 002: forfeit etcd leadership, drain,
// upgrade with the Image Factory installer, wait for health, uncordon). Pure: tests compare the
// exact command lines. No script contains a secret: talosctl and kubectl read their configs from
// private files the prelude writes from the environment.

export interface UpgradeNode {
  readonly name: string;
  readonly address: string;
  readonly role: "controlplane" | "worker";
}

/** What every node should run: the installer (Talos version + schematic) and its kernel args. */
export interface OsTarget {
  readonly talosVersion: string;
  readonly schematicId: string;
  readonly installerImage: string;
  /** Kernel args of the machine config (e.g. vga=792): changing them needs an upgrade, not a kexec reboot. */
  readonly kernelArgs: readonly string[];
  /** How long each wait may take, e.g. 10m. */
  readonly timeout: string;
  /** Every node of the cluster, for the health gate after the upgrade. */
  readonly members: ClusterMembers;
}

/** Who the health gate checks: every node of the cluster, by role. */
export interface ClusterMembers {
  readonly controlPlanes: readonly string[];
  readonly workers: readonly string[];
}

/** The members of a node list, in config order. */
export function membersOf(nodes: readonly UpgradeNode[]): ClusterMembers {
  return {
    controlPlanes: nodes.filter((n) => n.role === "controlplane").map((n) => n.address),
    workers: nodes.filter((n) => n.role === "worker").map((n) => n.address),
  };
}

/**
 * Talos's health check over the whole cluster (etcd, API server, kubelets, nodes Ready), run
 * through the first control plane with every member named, so nothing is left to discovery.
 */
export function healthCommand(members: ClusterMembers, timeout: string): string {
  const workers = members.workers.length ? ` --worker-nodes ${members.workers.join(",")}` : "";
  return `talosctl -n ${members.controlPlanes[0]} health --control-plane-nodes ${members.controlPlanes.join(",")}${workers} --wait-timeout=${timeout}`;
}

/** Environment variables that carry the cluster's configs into the scripts (secret inputs). */
export const TALOSCONFIG_ENV = "TALOS_CLUSTER_TALOSCONFIG";
export const KUBECONFIG_ENV = "TALOS_CLUSTER_KUBECONFIG";

/** Control planes first (etcd quorum before workloads), then workers, each in config order. */
export function upgradeOrder<T extends UpgradeNode>(nodes: readonly T[]): T[] {
  return [...nodes.filter((n) => n.role === "controlplane"), ...nodes.filter((n) => n.role === "worker")];
}

/** Single-quotes a value for /bin/sh. */
export const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Checks the tools, then writes the configs to private temporary files that disappear with the
 * script: they never appear on a command line, in `ps`, or in the logs.
 */
export function prelude(tools: readonly ("talosctl" | "kubectl")[]): string {
  const checks = tools.map(
    (t) =>
      `command -v ${t} >/dev/null 2>&1 || { echo "${t} is not on PATH: install ${t === "talosctl" ? "talosctl (https://www.talos.dev/latest/talos-guides/install/talosctl/)" : "kubectl (https://kubernetes.io/docs/tasks/tools/)"} and run pulumi up again" >&2; exit 127; }`,
  );
  return [
    "set -eu",
    ...checks,
    "umask 077",
    'work="$(mktemp -d)"',
    `trap 'rm -rf "$work"' EXIT`,
    `printf '%s' "$${TALOSCONFIG_ENV}" > "$work/talosconfig"`,
    `printf '%s' "$${KUBECONFIG_ENV}" > "$work/kubeconfig"`,
    'export TALOSCONFIG="$work/talosconfig" KUBECONFIG="$work/kubeconfig"',
  ].join("\n");
}

/** The node's upgrade, in order. A control plane first hands etcd leadership to another member. */
export function osUpgradeCommands(node: UpgradeNode, target: OsTarget): string[] {
  const n = node.address;
  return [
    ...(node.role === "controlplane" ? [`talosctl -n ${n} etcd forfeit-leadership`] : []),
    `kubectl drain ${node.name} --ignore-daemonsets --delete-emptydir-data --timeout=${target.timeout}`,
    `talosctl -n ${n} upgrade --image ${target.installerImage} --wait --timeout=${target.timeout}`,
    healthCommand(target.members, target.timeout),
    `kubectl uncordon ${node.name}`,
  ];
}

/** True (exit 0) when the node already runs the target version, schematic and kernel args. */
export function atTargetCheck(node: UpgradeNode, target: OsTarget): string {
  const n = node.address;
  return [
    `talosctl -n ${n} version --short 2>/dev/null | grep -q ${q(`Tag:[[:space:]]*${target.talosVersion}$`)}`,
    `talosctl -n ${n} get extensions 2>/dev/null | grep -q ${q(target.schematicId)}`,
    ...target.kernelArgs.map((a) => `talosctl -n ${n} read /proc/cmdline 2>/dev/null | grep -qw -- ${q(a)}`),
  ].join(" && ");
}

/** The script a node's upgrade step runs: skip when already at the target, else upgrade. */
export function osUpgradeScript(node: UpgradeNode, target: OsTarget): string {
  return [
    prelude(["talosctl", "kubectl"]),
    `if ${atTargetCheck(node, target)}; then echo ${q(`${node.name} already runs ${target.installerImage}; skipped`)}; exit 0; fi`,
    ...osUpgradeCommands(node, target),
  ].join("\n");
}

/** Kubernetes, once, through the first control plane, then the same health gate. */
export function kubernetesUpgradeCommands(members: ClusterMembers, version: string, timeout: string): string[] {
  return [`talosctl -n ${members.controlPlanes[0]} upgrade-k8s --to ${version}`, healthCommand(members, timeout)];
}

export function kubernetesUpgradeScript(members: ClusterMembers, version: string, timeout: string): string {
  return [
    prelude(["talosctl", "kubectl"]),
    // Every kubelet already at the target: nothing to do.
    `if [ "$(kubectl get nodes -o jsonpath='{.items[*].status.nodeInfo.kubeletVersion}' | tr ' ' '\\n' | sort -u)" = "v${version}" ]; then echo ${q(`Kubernetes already at ${version}; skipped`)}; exit 0; fi`,
    ...kubernetesUpgradeCommands(members, version, timeout),
  ].join("\n");
}

/** What a step records when it is first created with the cluster: nothing runs on a new node. */
export function recordOnly(what: string): string {
  return `echo ${q(`${what}: installed at creation, nothing to upgrade`)}`;
}
