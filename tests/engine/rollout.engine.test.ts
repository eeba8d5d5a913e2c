// The day-2 chain through the real engine and the real command plugin: OS upgrades, then
// upgrade-k8s, then config rollouts one control plane at a time and workers in batches. The
// stand-ins for talosctl and kubectl record their arguments; talosctl refuses a live
// (`--mode=no-reboot`) apply of a config that says it needs a reboot, as Talos does.
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { engineProject, EngineProject } from "./harness";

const NODES = [
  { name: "cp-1", address: "127.0.0.21" },
  { name: "cp-2", address: "127.0.0.22" },
  { name: "cp-3", address: "127.0.0.23" },
  { name: "worker-1", address: "127.0.0.31" },
  { name: "worker-2", address: "127.0.0.32" },
];
const HEALTH = "talosctl -n 127.0.0.21 health --control-plane-nodes 127.0.0.21,127.0.0.22,127.0.0.23 --worker-nodes 127.0.0.31,127.0.0.32 --wait-timeout=1m";

/**
 * talosctl/kubectl stand-in: logs "<tool> <args>", insists on private config files, refuses live
 * applies of reboot-needing configs. While the barrier file says "<count> <name prefix>", each
 * `kubectl drain` of a node with that prefix waits (up to 60 s) until that many such drains have
 * started, and fails otherwise: nodes of one batch pass it only if they really run at the same time.
 */
function standIn(tool: string, configVar: string, log: string, barrier: string): string {
  const b = JSON.stringify(barrier);
  return `#!/bin/sh
printf '%s\\n' "${tool} $*" >> ${JSON.stringify(log)}
[ -f "$${configVar}" ] && [ "$(stat -c %a "$${configVar}")" = 600 ] || { echo "${tool}: ${configVar} is not a private file" >&2; exit 2; }
case "$1" in drain) if [ -s ${b} ] && case "$2" in "$(cut -d' ' -f2 ${b})"*) true;; *) false;; esac; then
  touch ${b}."$2"
  need="$(cut -d' ' -f1 ${b})"; waited=0
  until [ "$(ls ${b}.* | wc -l)" -ge "$need" ]; do
    waited=$((waited + 1)); [ "$waited" -le 600 ] || { echo "${tool} stand-in: $need drains never ran together" >&2; exit 1; }; sleep 0.1
  done
fi;; esac
case "$*" in *"apply-config"*)
  file="$(printf '%s\\n' "$@" | sed -n '/^--file$/{n;p;}')"
  [ "$(stat -c %a "$file")" = 600 ] || { echo "${tool}: the machine config is not a private file" >&2; exit 2; }
  case "$*" in *"--mode=no-reboot"*) if grep -q needs-reboot "$file"; then echo "${tool} stand-in: change needs a reboot" >&2; exit 1; fi;; esac;;
esac
exit 0
`;
}

const live = (n: { name: string; address: string }) => [`talosctl -n ${n.address} apply-config --file <config> --mode=no-reboot`, HEALTH];
const rebooted = (n: { name: string; address: string }) => [
  `talosctl -n ${n.address} apply-config --file <config> --mode=no-reboot`,
  `kubectl drain ${n.name} --ignore-daemonsets --delete-emptydir-data --timeout=1m`,
  `talosctl -n ${n.address} apply-config --file <config> --mode=staged`,
  `talosctl -n ${n.address} reboot --wait --timeout=1m`,
  `kubectl uncordon ${n.name}`,
  HEALTH,
];

describe("engine: config changes roll out one control plane at a time, after the upgrades", function () {
  this.timeout(600_000);
  let project: EngineProject;
  let stack: Stack;
  let dir: string;
  let log: string;
  let barrier: string;

  /** The log lines since the last call, with the private temp file's path replaced. */
  const ran = () => {
    const lines = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
    fs.rmSync(log, { force: true });
    return lines.map((l) => l.replace(/--file \S+\/machineconfig/, "--file <config>"));
  };
  const up = async (settings: { talos?: string; k8s?: string; configs: (name: string) => string; maxUnavailableWorkers?: number }) => {
    await stack.setAllConfig({
      "lab:talosVersion": { value: settings.talos ?? "v1.10.6" },
      "lab:kubernetesVersion": { value: settings.k8s ?? "1.33.3" },
      "lab:configs": { value: JSON.stringify(Object.fromEntries(NODES.map((n) => [n.name, settings.configs(n.name)]))) },
      "lab:maxUnavailableWorkers": { value: String(settings.maxUnavailableWorkers ?? 1) },
    });
    return stack.up({ color: "never" });
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-rollout-"));
    log = path.join(dir, "calls.log");
    barrier = path.join(dir, "barrier");
    fs.writeFileSync(path.join(dir, "talosctl"), standIn("talosctl", "TALOSCONFIG", log, barrier), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "kubectl"), standIn("kubectl", "KUBECONFIG", log, barrier), { mode: 0o755 });
    project = engineProject(undefined, "tests/engine/rollout-program", { PATH: dir });
    stack = await project.stack("rollout", {});
  });

  after(async () => {
    await stack?.destroy({ color: "never" }).catch(() => undefined);
    project?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a new cluster records every step and runs nothing", async () => {
    const result = await up({ configs: (n) => `config of ${n} v1 SECRET-4e2b` });
    // stack, 2 components, the minor steps, 5 upgrade steps, Kubernetes, 5 rollout steps
    assert.equal(result.summary.resourceChanges?.create, 15);
    assert.deepEqual(ran(), []);
  });

  it("a reboot-needing change: cp-1, health, cp-2, health, cp-3, health, then each worker", async () => {
    const result = await up({ configs: (n) => `config of ${n} v2 needs-reboot SECRET-4e2b` });
    assert.deepEqual(ran(), NODES.flatMap(rebooted));
    assert.equal(result.summary.resourceChanges?.update, 5);
  });

  it("a second up runs nothing", async () => {
    const result = await up({ configs: (n) => `config of ${n} v2 needs-reboot SECRET-4e2b` });
    assert.deepEqual(ran(), []);
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
  });

  it("with maxUnavailableWorkers: 2 the workers go together, after the last control plane's health gate", async () => {
    // the workers' drains wait for each other: serial workers would fail here
    fs.writeFileSync(barrier, "2 worker-");
    try {
      await up({ configs: (n) => `config of ${n} v3 needs-reboot SECRET-4e2b`, maxUnavailableWorkers: 2 });
    } finally {
      for (const f of fs.readdirSync(dir).filter((f) => f.startsWith("barrier"))) fs.rmSync(path.join(dir, f));
    }
    const lines = ran();
    const controlPlanes = NODES.slice(0, 3).flatMap(rebooted);
    assert.deepEqual(lines.slice(0, controlPlanes.length), controlPlanes);
    const workers = lines.slice(controlPlanes.length);
    assert.deepEqual([...workers].sort(), NODES.slice(3).flatMap(rebooted).sort());
  });

  it("a Kubernetes bump: upgrade-k8s first, then the changed configs, live and one node at a time", async () => {
    const result = await up({ k8s: "1.33.4", configs: (n) => `config of ${n} v4 kubelet 1.33.4 SECRET-4e2b` });
    const lines = ran();
    assert.deepEqual(lines, [
      "kubectl get nodes -o jsonpath={.items[*].status.nodeInfo.kubeletVersion}",
      "talosctl -n 127.0.0.21 upgrade-k8s --to 1.33.4",
      HEALTH,
      ...NODES.flatMap(live),
    ]);
    assert.equal(result.summary.resourceChanges?.update, 6);
  });

  it("a Talos bump: every node's OS upgrade first, then the configs with the new install image", async () => {
    await up({ talos: "v1.10.7", k8s: "1.33.4", configs: (n) => `config of ${n} v4 image v1.10.7 SECRET-4e2b` });
    const lines = ran();
    const firstApply = lines.findIndex((l) => l.includes("apply-config"));
    const lastUpgrade = lines.map((l) => l.includes(" upgrade --image ")).lastIndexOf(true);
    assert.equal(lines.filter((l) => l.includes(" upgrade --image ")).length, 5);
    assert.ok(lastUpgrade < firstApply, lines.join("\n"));
    assert.deepEqual(lines.slice(firstApply), NODES.flatMap(live));
  });

  it("never puts a machine config on a command line or unencrypted in state", () => {
    assert.doesNotMatch(project.stateFile("rollout"), /SECRET-4e2b|SECRET-7f3a|SECRET-9c1d/);
  });
});
