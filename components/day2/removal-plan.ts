// Node removal as the first day-2 step, so that no health gate ever counts a node the stack no
// longer lists: Pulumi deletes resources only after every create and update (pulumi/pulumi#9979),
// and Talos's health check fails while a removed node is still a Kubernetes Node or an etcd
// member (siderolabs/talos v1.13.0 pkg/cluster/check: "unexpected nodes", "etcd member ips ...
// are not subset of control plane node ips"). The step keeps the member list it last saw in its
// own state (stdout) and removes, on its update, every node that left the list. Pure: tests
// compare the exact command lines and decisions.
import { prelude, q, UpgradeNode } from "./upgrade-plan";

/** What the step prints last, and so keeps in its state: `cluster members: cp-1=10.0.1.11=controlplane ...`. */
export const MEMBERS_RECORD = "cluster members: ";

/** The record line of a member list, in config order. */
export function membersRecord(nodes: readonly UpgradeNode[]): string {
  return `${MEMBERS_RECORD}${nodes.map((n) => `${n.name}=${n.address}=${n.role}`).join(" ")}`;
}

/** What removing a node does to the machine (the stack's cluster.onDestroy). */
export interface RemovalSettings {
  /** Leave gracefully: Talos cordons and drains the node and, on a control plane, leaves etcd. */
  readonly graceful: boolean;
  /** Wipe the node back to maintenance mode; false: leave etcd and shut it down, installation kept. */
  readonly reset: boolean;
  /** Reboot after the reset (into maintenance mode) instead of powering off. */
  readonly reboot: boolean;
}

/** One removal, in the order they run. */
export interface Removal {
  readonly node: UpgradeNode;
  /** Named in cluster.removeUnreachable: removed through the other control planes, never dialed. */
  readonly unreachable: boolean;
}

const etcdQuorum = (members: number) => Math.floor(members / 2) + 1;
/** The same machine: name (its hostname, Node and etcd member name), address and role unchanged. */
const sameMember = (a: UpgradeNode, b: UpgradeNode) => a.name === b.name && a.address === b.address && a.role === b.role;

/**
 * The removals from `previous` to `current`, in order: workers first (no quorum at stake), then
 * unreachable control planes (they already count against etcd's quorum), then the reachable
 * ones, one at a time (the order removalScript follows in shell, from the step's own record).
 */
export function removalPlan(previous: readonly UpgradeNode[], current: readonly UpgradeNode[], unreachable: readonly string[]): Removal[] {
  const gone = previous.filter((n) => !current.some((c) => sameMember(c, n)));
  const dead = (n: UpgradeNode) => unreachable.includes(n.name);
  const ordered = [
    ...gone.filter((n) => n.role === "worker"),
    ...gone.filter((n) => n.role === "controlplane" && dead(n)),
    ...gone.filter((n) => n.role === "controlplane" && !dead(n)),
  ];
  return ordered.map((node) => ({ node, unreachable: dead(node) }));
}

/**
 * Why the removals cannot run, one sentence each (empty when they can): before each control
 * plane leaves, the members that still answer must be a quorum of etcd's members at that
 * moment, or etcd can neither remove a member nor take a write.
 */
export function removalProblems(previous: readonly UpgradeNode[], current: readonly UpgradeNode[], unreachable: readonly string[]): string[] {
  const problems: string[] = [];
  // A name is the node's hostname, Kubernetes Node and etcd member name: removing the old machine
  // by name would remove the new one too.
  for (const p of previous) {
    const now = current.find((c) => c.name === p.name);
    if (now && !sameMember(now, p)) {
      problems.push(
        `node ${p.name} changes ${now.address !== p.address ? `address from ${p.address} to ${now.address}` : `role from ${p.role} to ${now.role}`}: a name stays with one machine (its hostname, Kubernetes Node and etcd member); give the new machine a new name, and remove ${p.name} from nodes in the same up`,
      );
    }
  }
  if (problems.length) return problems;
  const plan = removalPlan(previous, current, unreachable);
  const joining = current.filter((n) => n.role === "controlplane" && !previous.some((p) => p.name === n.name && p.address === n.address));
  let members = [...previous.filter((n) => n.role === "controlplane"), ...joining];
  for (const removal of plan.filter((r) => r.node.role === "controlplane")) {
    const answering = members.filter((n) => !unreachable.includes(n.name)).length;
    const quorum = etcdQuorum(members.length);
    if (answering < quorum) {
      problems.push(
        `removing control plane ${removal.node.name} would need etcd's quorum of ${quorum} of its ${members.length} members, but only ${answering} answer (cluster.removeUnreachable names ${members.filter((n) => unreachable.includes(n.name)).map((n) => n.name).join(", ")}): bring enough of them back first, or rebuild the cluster from an etcd snapshot (cluster.recoverFrom)`,
      );
      break;
    }
    members = members.filter((n) => n.name !== removal.node.name);
  }
  const remaining = current.filter((n) => n.role === "controlplane");
  if (plan.length && !remaining.length) problems.push("removing every control plane leaves no cluster: keep at least one in nodes");
  return problems;
}

/** Reads the member list this step recorded last time (PULUMI_COMMAND_STDOUT) into $recorded. */
export const READ_MEMBERS = `recorded="$(printf '%s\\n' "\${PULUMI_COMMAND_STDOUT:-}" | sed -n ${q(`s/^${MEMBERS_RECORD}//p`)} | tail -n 1)"`;

/**
 * Prints the etcd member ID of the node named $name, asked through `via`; nothing when it is no
 * member. etcd knows its members by hostname, which is the node's name (components/talos/
 * patches.ts); `etcd members` prints NODE, ID, HOSTNAME, ... when the answer came through apid
 * (always, with -n), else ID, HOSTNAME, ... (talosctl v1.13.0 cmd/talosctl/cmd/talos/etcd.go).
 */
export function etcdMemberId(via: string): string {
  return `talosctl -n ${via} etcd members | awk -v host="$name" 'NR == 1 { off = ($1 == "NODE") } NR > 1 && $(2 + off) == host { print $(1 + off) }'`;
}

/**
 * The commands that take the node in $name/$addr/$role out of the cluster, through `via` (a
 * control plane that stays), ending with the health gate over $gate_cps/$gate_workers (the
 * members that remain). Shell text: the nodes to remove are known only from the step's state.
 */
export function removalCommands(via: string, settings: RemovalSettings, timeout: string): string[] {
  const leave = settings.reset
    ? `talosctl -n "$addr" reset --graceful=${settings.graceful} --reboot=${settings.reboot} --wait --timeout=${timeout}`
    : `talosctl -n "$addr" shutdown --wait --timeout=${timeout}`;
  return [
    'case "$unreachable" in *" $name "*) dead=1;; *) dead=0;; esac',
    // A rerun after a failed gate: the node left already (no Node object, no etcd member).
    'present="$(kubectl get node "$name" --ignore-not-found -o name)"',
    `if [ "$role" = controlplane ] && [ -n "$(${etcdMemberId(via)})" ]; then present=etcd; fi`,
    'if [ -z "$present" ]; then',
    '  echo "$name is neither a Kubernetes node nor an etcd member any more: already removed"',
    'elif [ "$dead" = 1 ]; then',
    `  echo "$name ($addr) is named in cluster.removeUnreachable: removing it through ${via} without dialing it"`,
    `  if [ "$role" = controlplane ]; then`,
    `    id="$(${etcdMemberId(via)})"`,
    `    if [ -n "$id" ]; then talosctl -n ${via} etcd remove-member "$id"; fi`,
    "  fi",
    "else",
    // Talos cordons and drains the node itself when it resets or shuts down; a graceful reset of
    // a control plane also leaves etcd (siderolabs/talos v1.13.0 internal/app/machined/pkg/
    // runtime/v1alpha1/v1alpha1_sequencer.go, Reset). Otherwise etcd is left first, explicitly.
    ...(settings.reset && settings.graceful ? [] : [`  if [ "$role" = controlplane ]; then talosctl -n "$addr" etcd leave; fi`]),
    `  ${leave}`,
    "fi",
    // Talos's reset does not delete the Node object: NotReady, it would fail every later gate.
    `kubectl delete node "$name" --ignore-not-found --timeout=${timeout}`,
    `talosctl -n ${via} health --control-plane-nodes "$gate_cps" \${gate_workers:+--worker-nodes "$gate_workers"} --wait-timeout=${timeout}`,
  ];
}

/**
 * The membership step's update: every node in the recorded member list that the stack no longer
 * lists is removed, in removalPlan's order (workers, unreachable control planes, the other
 * control planes), each followed by the health gate over the members that remain; before each
 * control plane the members that answer must be a quorum of etcd's members then
 * (removalProblems, checked again here against the step's own record). Then the new record. A
 * step whose state holds no record (created by an older release) only records.
 */
export function removalScript(current: readonly UpgradeNode[], unreachable: readonly string[], settings: RemovalSettings, timeout: string, talosVersion: string): string {
  const record = membersRecord(current);
  const via = current.find((n) => n.role === "controlplane")!.address;
  const entries = (role: string) => current.filter((n) => n.role === role).map((n) => `${n.name}=${n.address}=${n.role}`);
  return [
    prelude(["talosctl", "kubectl"], talosVersion),
    READ_MEMBERS,
    `current=${q(` ${[...entries("controlplane"), ...entries("worker")].join(" ")} `)}`,
    `unreachable=${q(` ${unreachable.join(" ")} `)}`,
    `if [ -z "$recorded" ]; then echo ${q("no earlier member list in this step's state: nothing to remove")}; echo ${q(record)}; exit 0; fi`,
    'workers=""; dead=""; cps=""',
    'for e in $recorded; do',
    '  case "$current" in *" $e "*) continue;; esac',
    '  name="${e%%=*}"',
    '  case "$e" in',
    '    *=worker) workers="$workers $e";;',
    '    *) case "$unreachable" in *" $name "*) dead="$dead $e";; *) cps="$cps $e";; esac;;',
    "  esac",
    "done",
    'order="$(echo $workers $dead $cps)"',
    `if [ -z "$order" ]; then echo ${q("no node left the stack: nothing to remove")}; echo ${q(record)}; exit 0; fi`,
    // etcd's members before the first control plane leaves: the recorded ones and those joining now
    'members=""; for e in $recorded $current; do case "$e" in *=controlplane) case " $members " in *" $e "*) ;; *) members="$members $e";; esac;; esac; done',
    'for e in $dead $cps; do',
    '  total=0; answering=0',
    '  for m in $members; do total=$((total + 1)); case "$unreachable" in *" ${m%%=*} "*) ;; *) answering=$((answering + 1));; esac; done',
    '  if [ "$answering" -lt $((total / 2 + 1)) ]; then',
    `    echo "removing control plane \${e%%=*} needs etcd's quorum of $((total / 2 + 1)) of its $total members, but only $answering answer: bring enough of the nodes in cluster.removeUnreachable back first, or rebuild the cluster from an etcd snapshot (cluster.recoverFrom); nothing was removed" >&2`,
    "    exit 1",
    "  fi",
    '  members="$(for m in $members; do [ "$m" = "$e" ] || echo "$m"; done)"',
    "done",
    'echo "removing, in this order: $order"',
    'set -- $order',
    'while [ $# -gt 0 ]; do',
    '  e="$1"; shift',
    '  name="${e%%=*}"; rest="${e#*=}"; addr="${rest%%=*}"; role="${rest#*=}"',
    // the gate expects the stack's nodes and the removals still to come
    '  gate_cps=""; gate_workers=""',
    '  for m in $current "$@"; do a="${m#*=}"; a="${a%%=*}"; case "$m" in *=controlplane) gate_cps="${gate_cps:+$gate_cps,}$a";; *) gate_workers="${gate_workers:+$gate_workers,}$a";; esac; done',
    ...removalCommands(via, settings, timeout).map((c) => `  ${c}`),
    '  echo "$name removed"',
    "done",
    `echo ${q(record)}`,
  ].join("\n");
}

/** What the step records when it is created with the cluster: its members, nothing to remove. */
export function recordMembers(current: readonly UpgradeNode[]): string {
  return `echo ${q(membersRecord(current))}`;
}

/**
 * What destroying the whole cluster does to its machines (the membership step's delete): with
 * cluster.onDestroy.reset, every member is reset, workers first, then control planes, without a
 * graceful leave (nothing is left to leave to: the last etcd member cannot leave gracefully).
 * The configuration applies keep their machines on delete, so this is the only reset.
 */
export function destroyScript(current: readonly UpgradeNode[], settings: RemovalSettings, timeout: string): string {
  if (!settings.reset) return `echo ${q("cluster.onDestroy.reset is false: every machine keeps its installation")}`;
  const order = [...current.filter((n) => n.role === "worker"), ...current.filter((n) => n.role === "controlplane")];
  return [
    prelude(["talosctl"]),
    ...order.map((n) => `talosctl -n ${n.address} reset --graceful=false --reboot=${settings.reboot} --wait --timeout=${timeout}`),
  ].join("\n");
}
