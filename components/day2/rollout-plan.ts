// Config changes on running nodes, one control plane at a time and workers in batches, each
// followed by a cluster health gate. Pure: tests compare the exact command lines and batches.
import { ClusterMembers, gateCommands, prelude, q, UpgradeNode, upgradeOrder } from "./upgrade-plan";

/** Environment variable that carries a node's complete machine config into its step (secret input). */
export const MACHINECONFIG_ENV = "TALOS_CLUSTER_MACHINECONFIG";

/**
 * The rollout order in batches: each control plane alone (etcd keeps quorum and the API stays
 * up), then the workers, at most `maxUnavailableWorkers` at a time, in config order.
 */
export function rolloutBatches<T extends UpgradeNode>(nodes: readonly T[], maxUnavailableWorkers: number): T[][] {
  if (!Number.isInteger(maxUnavailableWorkers) || maxUnavailableWorkers < 1) {
    throw new Error(`maxUnavailableWorkers must be a positive integer, got ${maxUnavailableWorkers}`);
  }
  const ordered = upgradeOrder(nodes);
  const batches: T[][] = ordered.filter((n) => n.role === "controlplane").map((n) => [n]);
  const workers = ordered.filter((n) => n.role === "worker");
  for (let i = 0; i < workers.length; i += maxUnavailableWorkers) batches.push(workers.slice(i, i + maxUnavailableWorkers));
  return batches;
}

/** What Talos answers a dry run with when the change needs no reboot (v1.13.0 internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go, ApplyConfiguration). */
export const APPLIED_WITHOUT_REBOOT = "Applied configuration without a reboot";

/**
 * One node's config change. Talos decides first, on a dry run in `auto` mode, whether the
 * change needs a reboot (its CanApplyImmediate rules), so a config Talos refuses, or a node that
 * does not answer, fails the step before anything changed. Without a reboot: applied live.
 * With one: staged, then `talosctl reboot --drain`, which cordons, drains, reboots, waits and
 * uncordons the node itself (talosctl v1.13.0 cmd/talosctl/cmd/talos/reboot.go; Talos's reboot
 * sequence does not drain). Then the cluster must be healthy again.
 */
export function configApplyCommands(node: UpgradeNode, members: ClusterMembers, timeout: string): string[] {
  const n = node.address;
  const file = '"$work/machineconfig"';
  return [
    `dry="$(talosctl -n ${n} apply-config --file ${file} --mode=auto --dry-run 2>&1)" || { printf '%s\\n' "$dry" >&2; echo ${q(`${node.name}: Talos refused the new config (dry run above); nothing was changed`)} >&2; exit 1; }`,
    `case "$dry" in *${q(APPLIED_WITHOUT_REBOOT)}*)`,
    `  talosctl -n ${n} apply-config --file ${file} --mode=no-reboot`,
    `  echo ${q(`${node.name}: config applied without a reboot`)};;`,
    "*)",
    `  echo ${q(`${node.name}: the new config needs a reboot: staged, then a drained reboot`)}`,
    ...(node.role === "controlplane" ? [`  talosctl -n ${n} etcd forfeit-leadership`] : []),
    `  talosctl -n ${n} apply-config --file ${file} --mode=staged`,
    `  talosctl -n ${n} reboot --drain --wait --timeout=${timeout};;`,
    "esac",
    ...gateCommands(node, members, timeout),
  ];
}

/** The script a node's rollout step runs: the config from the secret environment to a private file, then apply and gate. */
export function configRolloutScript(node: UpgradeNode, members: ClusterMembers, timeout: string, talosVersion: string): string {
  return [
    prelude(["talosctl", "kubectl"], talosVersion),
    `printf '%s' "$${MACHINECONFIG_ENV}" > "$work/machineconfig"`,
    ...configApplyCommands(node, members, timeout),
  ].join("\n");
}

/** What a step records when it is created with its node: the enrollment apply already gave it this config. */
export function recordEnrollment(nodeName: string): string {
  return `echo ${q(`${nodeName}: config applied at enrollment, nothing to roll out`)}`;
}
