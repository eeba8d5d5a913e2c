// Talos OS and Kubernetes upgrades as shell scripts (seed 002: forfeit etcd leadership, drain,
// upgrade with the Image Factory installer, wait for health, uncordon). Pure: tests compare the
// exact command lines. No script contains a secret: talosctl and kubectl read their configs from
// private files the prelude writes from the environment.

import { minorSequence, TALOS_MINORS, talosMinor } from "../../config/versions";

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

/**
 * How a node reboots into its new install. `powercycle` bypasses kexec: a kexec boot puts new
 * kernel args into /proc/cmdline but skips what only a real boot does (seed 000: `vga=792` sets
 * the video mode only after a power cycle).
 */
export type RebootMode = "default" | "powercycle";

/** The node's upgrade, in order. A control plane first hands etcd leadership to another member. */
export function osUpgradeCommands(node: UpgradeNode, target: OsTarget, rebootMode: RebootMode = "default"): string[] {
  const n = node.address;
  const mode = rebootMode === "powercycle" ? " --reboot-mode powercycle" : "";
  return [
    ...(node.role === "controlplane" ? [`talosctl -n ${n} etcd forfeit-leadership`] : []),
    `kubectl drain ${node.name} --ignore-daemonsets --delete-emptydir-data --timeout=${target.timeout}`,
    `talosctl -n ${n} upgrade --image ${target.installerImage}${mode} --wait --timeout=${target.timeout}`,
    healthCommand(target.members, target.timeout),
    `kubectl uncordon ${node.name}`,
  ];
}

/**
 * What an upgrade step prints last, and so keeps in its state (stdout): the kernel args the node
 * has had since a real boot (its creation's boot media, or a power-cycled upgrade). /proc/cmdline
 * cannot tell this: a kexec boot shows the new args there without the effect of a real boot.
 */
export const KERNEL_ARGS_RECORD = "kernel args since a real boot: ";

/** The record line for a set of kernel args, e.g. `kernel args since a real boot: [vga=792]`. */
export function kernelArgsRecord(args: readonly string[]): string {
  return `${KERNEL_ARGS_RECORD}[${args.join(" ")}]`;
}

/** Reads the record from the step's previous stdout (PULUMI_COMMAND_STDOUT) into $recorded: empty when there is none. */
export const READ_RECORD = `recorded="$(printf '%s\\n' "\${PULUMI_COMMAND_STDOUT:-}" | sed -n ${q(`s/^${KERNEL_ARGS_RECORD}//p`)} | tail -n 1)"`;

/** Reads the Talos version the node runs (`talosctl version --short`, its server Tag line) into $tag: empty when unreadable. */
export function readTag(address: string): string {
  return `tag="$(talosctl -n ${address} version --short 2>/dev/null | sed -n 's/^[[:space:]]*Tag:[[:space:]]*//p' | tail -n 1)"`;
}

/** True (exit 0) when the node runs the target version and schematic ($tag read before). Kernel args: see osUpgradeScript. */
export function atTargetCheck(node: UpgradeNode, target: OsTarget): string {
  return [`[ "$tag" = ${q(target.talosVersion)} ]`, `talosctl -n ${node.address} get extensions 2>/dev/null | grep -q ${q(target.schematicId)}`].join(" && ");
}

/**
 * Refuses (before touching the node) a node more than one Talos minor below the target: the
 * cluster's minor-steps step brings every node to the minor below the target first, so this only
 * happens when that step could not run; the message gives the versions to set one `up` at a time.
 */
export function minorGuard(node: UpgradeNode, target: string): string[] {
  const to = talosMinor(target);
  const lines = [`case "$tag" in v1.[0-9]*.[0-9]*) minor="\${tag#v1.}"; minor="\${minor%%.*}";; *) minor="";; esac`];
  const cases = TALOS_MINORS.map((m) => Number(m.split(".")[1]))
    .filter((m) => m < to - 1)
    .map((m) => `  ${m}) echo ${q(`${node.name} runs `)}"$tag"${q(`, more than one minor below ${target}: Talos upgrades go one minor at a time; set cluster.talosVersion to each of ${minorSequence(m, target).join(", ")} in turn and run up after each`)} >&2; exit 1;;`);
  if (!cases.length) return [];
  return [...lines, 'case "$minor" in', ...cases, "esac"];
}

/**
 * The script a node's upgrade step runs. Skipped when the node runs the target version and
 * schematic and the record in this step's state holds its kernel args; else upgraded, with a
 * power cycle when the kernel args differ from the record (or none is recorded), else with
 * Talos's default (kexec) reboot. Either way it prints the record last.
 */
export function osUpgradeScript(node: UpgradeNode, target: OsTarget): string {
  const record = q(`[${target.kernelArgs.join(" ")}]`);
  const done = `echo ${q(kernelArgsRecord(target.kernelArgs))}`;
  const commands = (mode: RebootMode) => osUpgradeCommands(node, target, mode).map((c) => `  ${c}`);
  return [
    prelude(["talosctl", "kubectl"]),
    READ_RECORD,
    readTag(node.address),
    `if ${atTargetCheck(node, target)} && [ "$recorded" = ${record} ]; then echo ${q(`${node.name} already runs ${target.installerImage} with its kernel args; skipped`)}; ${done}; exit 0; fi`,
    ...minorGuard(node, target.talosVersion),
    `if [ "$recorded" = ${record} ]; then`,
    ...commands("default"),
    "else",
    `  echo ${q(`${node.name}: kernel args `)}"\${recorded:-[unknown]}"${q(` -> [${target.kernelArgs.join(" ")}]: upgrading with a power cycle`)}`,
    ...commands("powercycle"),
    "fi",
    done,
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

/**
 * What a node's upgrade step records when created with its node: nothing to upgrade, and the
 * kernel args it has had since a real boot. Talos's install ends in a kexec into the installed
 * system, so only the args the boot media (the Image Factory ISO) booted with count; the others
 * take effect at the node's next upgrade, which then power-cycles it.
 */
export function recordInstalled(what: string, kernelArgs: readonly string[], bootMediaArgs: readonly string[]): string {
  const real = kernelArgs.filter((a) => bootMediaArgs.includes(a));
  return [recordOnly(what), `echo ${q(kernelArgsRecord(real))}`].join("\n");
}
