// Config changes on running nodes, one control plane at a time and workers in batches, each
// followed by a cluster health gate. Pure: tests compare the exact command lines and batches.
import { ClusterMembers, healthCommand, prelude, q, UpgradeNode, upgradeOrder } from "./upgrade-plan";

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

/**
 * One node's config change: applied live when Talos can (`--mode=no-reboot` refuses anything
 * that needs a reboot); otherwise drained, staged and rebooted, so the reboot is one we wait for
 * instead of one Talos starts behind our back. Then the cluster must be healthy again.
 */
export function configApplyCommands(node: UpgradeNode, members: ClusterMembers, timeout: string): string[] {
  const n = node.address;
  const file = '"$work/machineconfig"';
  return [
    `if talosctl -n ${n} apply-config --file ${file} --mode=no-reboot; then echo ${q(`${node.name}: config applied without a reboot`)}; else`,
    `kubectl drain ${node.name} --ignore-daemonsets --delete-emptydir-data --timeout=${timeout}`,
    `talosctl -n ${n} apply-config --file ${file} --mode=staged`,
    `talosctl -n ${n} reboot --wait --timeout=${timeout}`,
    `kubectl uncordon ${node.name}`,
    "fi",
    healthCommand(members, timeout),
  ];
}

/** The script a node's rollout step runs: the config from the secret environment to a private file, then apply and gate. */
export function configRolloutScript(node: UpgradeNode, members: ClusterMembers, timeout: string): string {
  return [
    prelude(["talosctl", "kubectl"]),
    `printf '%s' "$${MACHINECONFIG_ENV}" > "$work/machineconfig"`,
    ...configApplyCommands(node, members, timeout),
  ].join("\n");
}

/** What a step records when it is created with its node: the enrollment apply already gave it this config. */
export function recordEnrollment(nodeName: string): string {
  return `echo ${q(`${nodeName}: config applied at enrollment, nothing to roll out`)}`;
}
