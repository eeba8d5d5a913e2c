// Bootstrapping from an etcd snapshot (Talos disaster recovery: `talosctl bootstrap
// --recover-from`) as shell scripts. Pure: tests compare the exact command lines.
//
// How the snapshot travels: the step reads it from its path on the machine running Pulumi and
// copies it into a private temporary directory. It is never put in the step's inputs: a snapshot
// is megabytes (Linux caps one environment string at 128 KiB, so base64 in the secret environment
// fails for any real cluster), and state would then carry every Kubernetes Secret of the old
// cluster. The state records only the path and the snapshot's SHA-256, which the script checks
// before use, so the file restored is the one the preview saw.
import { prelude, q } from "../day2/upgrade-plan";

/** Environment variable that carries the snapshot's path into the step. */
export const SNAPSHOT_PATH_ENV = "TALOS_CLUSTER_RECOVER_FROM";

export interface RecoverTarget {
  /** The control plane that receives the snapshot (the first one). */
  readonly node: string;
  /** The snapshot's SHA-256, hex. */
  readonly sha256: string;
  /** How long the node may take to answer after its config was applied, e.g. 10m. */
  readonly timeout: string;
}

/** A Go-style duration (10m, 90s, 1h30m) in seconds. */
export function durationSeconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+)(h|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== duration) throw new Error(`not a duration: ${duration}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * (unit === "h" ? 3600 : unit === "m" ? 60 : 1), 0);
}

/** The Talos commands of a restore, in order (the snapshot is at "$work/etcd.snapshot"). */
export function recoverCommands(t: RecoverTarget): string[] {
  const n = t.node;
  return [
    // The node installs and reboots after its first apply: wait until its API answers, up to the timeout.
    `deadline=$(( $(date +%s) + ${durationSeconds(t.timeout)} ))`,
    `until talosctl -n ${n} version >/dev/null 2>&1; do [ "$(date +%s)" -lt "$deadline" ] || { echo ${q(`${n} did not answer the Talos API within ${t.timeout}`)} >&2; exit 1; }; sleep 5; done`,
    // A control plane that already runs etcd belongs to a bootstrapped cluster: restoring over it would fork the cluster.
    `if talosctl -n ${n} etcd status >/dev/null 2>&1; then echo ${q(`refused: ${n} already runs etcd, so this cluster is bootstrapped; cluster.recoverFrom restores only into fresh control planes (in maintenance mode before this stack applied them)`)} >&2; exit 1; fi`,
    `talosctl -n ${n} bootstrap --recover-from="$work/etcd.snapshot"`,
  ];
}

/** The step's create: copy the snapshot privately, check it is the one planned, restore. */
export function recoverScript(t: RecoverTarget): string {
  return [
    // Talos configs only; this step has no kubeconfig yet (the prelude writes an empty one).
    prelude(["talosctl"]),
    `[ -f "$${SNAPSHOT_PATH_ENV}" ] || { echo "cluster.recoverFrom: $${SNAPSHOT_PATH_ENV} is gone" >&2; exit 1; }`,
    `cp "$${SNAPSHOT_PATH_ENV}" "$work/etcd.snapshot"`,
    `[ "$(sha256sum "$work/etcd.snapshot" | cut -d ' ' -f 1)" = ${t.sha256} ] || { echo ${q(`cluster.recoverFrom: the snapshot changed since it was planned (expected sha256 ${t.sha256}); run pulumi up again`)} >&2; exit 1; }`,
    ...recoverCommands(t),
  ].join("\n");
}

/**
 * The step's update, which runs when the snapshot changes after the stack already bootstrapped
 * from a snapshot: refused, because etcd now holds the cluster's own data. It names no node, so a
 * replaced first control plane never reaches it (the create script, which does, is ignored after
 * create). Its text is compared with the one in state: rewording it would run it, and so refuse,
 * on every restored stack.
 */
export function recoverRefusal(t: RecoverTarget): string {
  return `echo ${q(
    `refused: this stack already bootstrapped its cluster from a snapshot; cluster.recoverFrom cannot restore ${t.sha256.slice(0, 12)} into a running cluster. Restore into a new stack with fresh control planes (README, Disaster recovery), or put back the snapshot this stack was restored from`,
  )} >&2; exit 1`;
}
