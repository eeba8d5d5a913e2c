// Talos OS and Kubernetes upgrades as shell scripts (seed 002: forfeit etcd leadership, upgrade
// with the Image Factory installer, wait for health). Pure: tests compare the exact command lines.
// No script contains a secret: talosctl and kubectl read their configs from private files the
// prelude writes from the environment.
//
// Who cordons and drains: Talos itself, never this program. machined cordons its own Node while
// the machine is upgrading, shutting down or resetting, marks it with its `talos.dev/cordoned`
// annotation, drains it (sequencer task cordonAndDrainNode), and uncordons only a Node carrying
// that mark once it runs again (siderolabs/talos v1.13.0, internal/app/machined/pkg/controllers/
// k8s/node_apply.go ApplyCordoned; internal/app/machined/pkg/runtime/v1alpha1/
// v1alpha1_sequencer_tasks.go CordonAndDrainNode). A `kubectl drain` beside it would leave an
// unmarked cordon that Talos never lifts, and `talosctl health` fails on any unschedulable node
// (pkg/cluster/check/default.go "all k8s nodes to report schedulable").

import { minorSequence, TALOS_MINORS, talosMinor } from "../../config/versions";

export interface UpgradeNode {
  readonly name: string;
  readonly address: string;
  readonly role: "controlplane" | "worker";
  /** Runs Rook Ceph OSDs (data disks while Rook is on): its gates also wait for Ceph's health. Default: false. */
  readonly storage?: boolean;
}

/**
 * A node's own image, when it differs from the cluster's: a node whose config layers add kernel
 * args gets a schematic of its own that carries them (Talos takes them from the image's UKI).
 */
export interface NodeImage {
  readonly installerImage?: string;
  readonly schematicId?: string;
}

/** What every node should run: the installer (Talos version + schematic) and its kernel args. */
export interface OsTarget {
  readonly talosVersion: string;
  readonly schematicId: string;
  readonly installerImage: string;
  /**
   * Install through Talos's legacy upgrade API (`talosctl upgrade --legacy`), which hands the
   * installer the node's active machine.install.extraKernelArgs. The API of Talos 1.13+ passes
   * none (siderolabs/talos v1.13.0 internal/app/lifecycle/lifecycle.go), so on a GRUB install
   * whose config predates grubUseUKICmdline (every config of our 1.10-era generator) an upgrade
   * would drop the node's kernel args. Talos still cordons, drains and uncordons the node itself
   * on that path (v1alpha1_sequencer.go Upgrade). talosctl removes the flag in 1.18. Default: false.
   */
  readonly legacy?: boolean;
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

/** The namespace Rook's CephCluster lives in (components/addons/rook-ceph.ts). */
export const ROOK_NAMESPACE = "rook-ceph";

/**
 * After a storage node's gate: Ceph healthy again (the operator's own CephCluster
 * `.status.ceph.health`, HEALTH_OK), so the next storage node does not go down while placement
 * groups are still degraded. A cluster without Rook's CRD yet (a new cluster before its add-ons)
 * has nothing to wait for.
 */
export function cephHealthGate(timeout: string): string {
  return `if kubectl get crd cephclusters.ceph.rook.io >/dev/null 2>&1; then kubectl -n ${ROOK_NAMESPACE} wait cephcluster --all --for=jsonpath='{.status.ceph.health}'=HEALTH_OK --timeout=${timeout}; fi`;
}

/** The gates after a node was touched: the cluster's health, then Ceph's on a storage node. */
export function gateCommands(node: UpgradeNode, members: ClusterMembers, timeout: string): string[] {
  return [healthCommand(members, timeout), ...(node.storage ? [cephHealthGate(timeout)] : [])];
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

/** The oldest talosctl whose `upgrade` and `reboot --drain` cordon, drain and uncordon the node themselves. */
export const TALOSCTL_MINIMUM = "1.13";

/**
 * The oldest talosctl minor that may drive a cluster at `talosVersion`: the cluster's own minor
 * (talosctl's `upgrade-k8s` checks every node against its own compatibility table, which knows
 * no newer minor: siderolabs/talos v1.13.0 pkg/cluster/kubernetes/compat.go), and never below
 * TALOSCTL_MINIMUM (the drain owner).
 */
export function talosctlMinimum(talosVersion: string): string {
  return `1.${Math.max(Number(TALOSCTL_MINIMUM.split(".")[1]), talosMinor(talosVersion))}`;
}

/** `1.14` of `v1.14.1`. */
const minorOf = (talosVersion: string) => `1.${talosMinor(talosVersion)}`;

/**
 * Refuses, before anything runs, a talosctl older than talosctlMinimum(talosVersion).
 * `talosctl version --client --short` prints `Talos vX.Y.Z` under `Client:` (talosctl v1.14.1
 * cmd/talosctl/cmd/talos/version.go); a version that cannot be read is refused too. Only the
 * cluster's minor is in the script, so a patch bump leaves the Kubernetes and rollout steps as they were.
 */
export function talosctlCheck(talosVersion: string): string {
  const minimum = talosctlMinimum(talosVersion);
  const reason = `the day-2 steps of a Talos ${minorOf(talosVersion)} cluster need talosctl v${minimum} or newer (talosctl's upgrade-k8s refuses nodes of a minor it does not know, and from v${TALOSCTL_MINIMUM} on its upgrade and reboot --drain cordon, drain and uncordon the node themselves); install talosctl v${minimum} or newer and run pulumi up again`;
  return [
    `tv="$(talosctl version --client --short 2>/dev/null | sed -n 's/^[[:space:]]*Talos v\\([0-9][0-9]*\\.[0-9][0-9]*\\).*/\\1/p' | head -n 1)"`,
    `case "$tv" in 1.*) tm="\${tv#1.}";; *) tm="";; esac`,
    `if [ -z "$tm" ] || [ "$tm" -lt ${minimum.split(".")[1]} ]; then echo "talosctl \${tv:-of unknown version} is too old: "${q(reason)} >&2; exit 127; fi`,
  ].join("\n");
}

/**
 * Checks the tools (given the cluster's Talos version, that talosctl is new enough for it:
 * talosctlCheck), then writes the configs to private temporary files that disappear with the
 * script: they never appear on a command line, in `ps`, or in the logs.
 */
export function prelude(tools: readonly ("talosctl" | "kubectl")[], talosVersion?: string): string {
  const checks = tools.map(
    (t) =>
      `command -v ${t} >/dev/null 2>&1 || { echo "${t} is not on PATH: install ${t === "talosctl" ? "talosctl (https://www.talos.dev/latest/talos-guides/install/talosctl/)" : "kubectl (https://kubernetes.io/docs/tasks/tools/)"} and run pulumi up again" >&2; exit 127; }`,
  );
  return [
    "set -eu",
    ...checks,
    ...(talosVersion !== undefined ? [talosctlCheck(talosVersion)] : []),
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

/**
 * The node's upgrade, in order. A control plane first hands etcd leadership to another member.
 * Talos cordons, drains and (after the reboot) uncordons the node itself, so the health gate,
 * which wants every node schedulable, passes once the node runs again.
 */
export function osUpgradeCommands(node: UpgradeNode, target: OsTarget, rebootMode: RebootMode = "default"): string[] {
  const n = node.address;
  const mode = `${target.legacy ? " --legacy" : ""}${rebootMode === "powercycle" ? " --reboot-mode powercycle" : ""}`;
  return [
    ...(node.role === "controlplane" ? [`talosctl -n ${n} etcd forfeit-leadership`] : []),
    `talosctl -n ${n} upgrade --image ${target.installerImage}${mode} --wait --timeout=${target.timeout}`,
    ...gateCommands(node, target.members, target.timeout),
  ];
}

/** Reads the Talos version the node runs (`talosctl version --short`, its server Tag line) into $tag: empty when unreadable. */
export function readTag(address: string): string {
  return `tag="$(talosctl -n ${address} version --short 2>/dev/null | sed -n 's/^[[:space:]]*Tag:[[:space:]]*//p' | tail -n 1)"`;
}

/** True (exit 0) when the node runs the target version and schematic ($tag read before). */
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
 * The script a node's upgrade step runs: skipped when the node runs the target version and
 * schematic, else upgraded with Talos's default (kexec) reboot. Kernel-argument changes are not
 * this step's business: they need the node's new config first (components/day2/kernel-args-plan.ts).
 */
export function osUpgradeScript(node: UpgradeNode, target: OsTarget): string {
  return [
    prelude(["talosctl", "kubectl"], target.talosVersion),
    readTag(node.address),
    `if ${atTargetCheck(node, target)}; then echo ${q(`${node.name} already runs ${target.installerImage}; skipped`)}; exit 0; fi`,
    ...minorGuard(node, target.talosVersion),
    ...osUpgradeCommands(node, target),
  ].join("\n");
}

/**
 * An awk program that blanks every value under a `data:` or `stringData:` key, whatever diff
 * marker (+, -, space) or indentation the line has. `talosctl upgrade-k8s` prints the diff of
 * every manifest it syncs (siderolabs/go-kubernetes kubernetes/manifests sync.go), and Talos's
 * manifests include the kubelet bootstrap-token Secret; hcloud-k8s redacts the same output.
 * ConfigMap data is blanked too: telling the kinds apart would need the whole document, and
 * the keys still show what changed.
 */
export const REDACT_DATA = [
  "{",
  '  line = $0; body = line; sub(/^[-+ ]/, "", body); match(body, /^ */); indent = RLENGTH',
  // inside the block: a key keeps its name; a block scalar's continuation lines are dropped
  "  if (inblock && indent > blockindent && body !~ /^ *$/) { if (body ~ /^ *[^ :#]+:/) { sub(/:.*/, \": <redacted>\", line); print line }; next }",
  "  inblock = 0",
  '  if (body ~ /^ *(data|stringData): *$/) { inblock = 1; blockindent = indent }',
  '  else if (body ~ /^ *(data|stringData): *[{]/) { sub(/: *[{].*/, ": <redacted>", line) }',
  "  print line",
  "}",
].join("\n");

/**
 * Kubernetes, once, through the first control plane, its output redacted on the way (the exit
 * code kept in a private file, as /bin/sh has no pipefail), then the same health gate.
 */
export function kubernetesUpgradeCommands(members: ClusterMembers, version: string, timeout: string): string[] {
  return [
    `{ rc=0; talosctl -n ${members.controlPlanes[0]} upgrade-k8s --to ${version} 2>&1 || rc=$?; echo "$rc" > "$work/upgrade-k8s.rc"; } | awk ${q(REDACT_DATA)}`,
    `[ "$(cat "$work/upgrade-k8s.rc")" = 0 ] || { echo ${q(`talosctl upgrade-k8s --to ${version} failed (output above, Secret and ConfigMap data redacted)`)} >&2; exit 1; }`,
    healthCommand(members, timeout),
  ];
}

export function kubernetesUpgradeScript(members: ClusterMembers, version: string, timeout: string, talosVersion: string): string {
  return [
    prelude(["talosctl", "kubectl"], talosVersion),
    // Every kubelet already at the target: nothing to do.
    `if [ "$(kubectl get nodes -o jsonpath='{.items[*].status.nodeInfo.kubeletVersion}' | tr ' ' '\\n' | sort -u)" = "v${version}" ]; then echo ${q(`Kubernetes already at ${version}; skipped`)}; exit 0; fi`,
    ...kubernetesUpgradeCommands(members, version, timeout),
  ].join("\n");
}

/** What a step records when it is first created with the cluster: nothing runs on a new node. */
export function recordOnly(what: string): string {
  return `echo ${q(`${what}: installed at creation, nothing to upgrade`)}`;
}
