// The upgrade chain through the real engine and the real command plugin, with recording
// stand-ins for talosctl and kubectl that only log their arguments.
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { kubernetesUpgradeCommands, membersOf, osUpgradeCommands, RebootMode, UpgradeNode } from "../../components/day2/upgrade-plan";
import { engineProject, EngineProject } from "./harness";

const NODES: UpgradeNode[] = [
  { name: "cp-1", address: "127.0.0.21", role: "controlplane" },
  { name: "cp-2", address: "127.0.0.22", role: "controlplane" },
  { name: "cp-3", address: "127.0.0.23", role: "controlplane" },
  { name: "worker-1", address: "127.0.0.31", role: "worker" },
  { name: "worker-2", address: "127.0.0.32", role: "worker" },
];

/**
 * A stand-in that logs its arguments, insists on its config arriving as a private file, and
 * fails when its arguments contain the text in the fail-on file.
 */
function standIn(tool: string, configVar: string, log: string, failOn: string): string {
  return `#!/bin/sh
printf '%s\\n' "${tool} $*" >> ${JSON.stringify(log)}
[ -f "$${configVar}" ] && [ "$(stat -c %a "$${configVar}")" = 600 ] || { echo "${tool}: ${configVar} is not a private file" >&2; exit 2; }
pattern="$(cat ${JSON.stringify(failOn)} 2>/dev/null || true)"
case "$*" in *"$pattern"*) if [ -n "$pattern" ]; then echo "${tool} stand-in: failing on purpose: $*" >&2; exit 1; fi;; esac
exit 0
`;
}

/** What one node's step runs when the node is not at the target: the check, then seed 002's steps. */
const nodeRun = (node: UpgradeNode, version: string, mode: RebootMode = "default") => [
  `talosctl -n ${node.address} version --short`,
  ...osUpgradeCommands(node, { talosVersion: version, schematicId: "abc123", installerImage: `factory.talos.dev/installer/abc123:${version}`, kernelArgs: [], timeout: "1m", members: membersOf(NODES) }, mode),
];

describe("engine: upgrades run serially through the real command plugin", function () {
  this.timeout(600_000);
  let project: EngineProject;
  let stack: Stack;
  let dir: string;
  let log: string;
  let failOn: string;

  /** The log lines since the last call. */
  const ran = () => {
    const lines = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
    fs.rmSync(log, { force: true });
    return lines;
  };
  /** Kernel args by node name, as the next up sets them. */
  let kernelArgs: Record<string, string[]> = {};
  const up = async (talosVersion: string, kubernetesVersion: string) => {
    await stack.setAllConfig({ "lab:talosVersion": { value: talosVersion }, "lab:kubernetesVersion": { value: kubernetesVersion }, "lab:kernelArgs": { value: JSON.stringify(kernelArgs) } });
    return stack.up({ color: "never" });
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-standins-"));
    log = path.join(dir, "calls.log");
    failOn = path.join(dir, "fail-on");
    fs.writeFileSync(path.join(dir, "talosctl"), standIn("talosctl", "TALOSCONFIG", log, failOn), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "kubectl"), standIn("kubectl", "KUBECONFIG", log, failOn), { mode: 0o755 });
    // Only the stand-ins: setup's real talosctl (.tools/bin) stays hidden from the engine.
    project = engineProject(undefined, "tests/engine/upgrade-program", { PATH: dir }, ["talosctl"]);
    stack = await project.stack("upgrades", {});
  });

  after(async () => {
    await stack?.destroy({ color: "never" }).catch(() => undefined);
    project?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a new cluster records its targets and runs nothing", async () => {
    const result = await up("v1.10.6", "1.33.3");
    assert.equal(result.summary.resourceChanges?.create, 9); // stack, component, minor steps, 5 nodes, Kubernetes
    assert.deepEqual(ran(), []);
  });

  it("a Talos version bump upgrades every node once, control planes first, one at a time; a new kernel arg power-cycles its node", async () => {
    kernelArgs = { "worker-2": ["vga=792"] };
    const result = await up("v1.10.7", "1.33.3");
    // worker-2's step recorded no vga=792 at creation (it was not on the boot media)
    assert.deepEqual(ran(), [...NODES.slice(0, 4).flatMap((n) => nodeRun(n, "v1.10.7")), ...nodeRun(NODES[4]!, "v1.10.7", "powercycle")]);
    assert.equal(result.summary.resourceChanges?.update, 5);
  });

  it("a second up runs nothing", async () => {
    const result = await up("v1.10.7", "1.33.3");
    assert.deepEqual(ran(), []);
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
  });

  it("a failure on node 2 stops the chain there", async () => {
    fs.writeFileSync(failOn, "-n 127.0.0.22 upgrade");
    await assert.rejects(up("v1.10.8", "1.33.3"), /talosctl stand-in: failing on purpose: -n 127\.0\.0\.22 upgrade/);
    const cp2 = nodeRun(NODES[1]!, "v1.10.8");
    assert.deepEqual(ran(), [...nodeRun(NODES[0]!, "v1.10.8"), ...cp2.slice(0, cp2.indexOf(cp2.find((c) => c.includes(" upgrade --image"))!) + 1)]);
  });

  it("the next up resumes at node 2 and finishes the chain; worker-2's power cycle is in its step's state, so it reboots the default way", async () => {
    fs.rmSync(failOn);
    await up("v1.10.8", "1.33.3");
    assert.deepEqual(ran(), NODES.slice(1).flatMap((n) => nodeRun(n, "v1.10.8")));
    assert.match(String((await stack.outputs()).worker2Record?.value ?? ""), /kernel args since a real boot: \[vga=792\]$/);
  });

  it("a Kubernetes version bump runs upgrade-k8s once, after the nodes", async () => {
    const result = await up("v1.10.8", "1.33.4");
    assert.deepEqual(ran(), [`kubectl get nodes -o jsonpath={.items[*].status.nodeInfo.kubeletVersion}`, ...kubernetesUpgradeCommands(membersOf(NODES), "1.33.4", "1m")]);
    assert.equal(result.summary.resourceChanges?.update, 1);
  });

  it("says how to install talosctl when it is missing, and runs nothing", async function () {
    // Only meaningful where no real talosctl is on PATH behind the stand-ins.
    if (project.env.PATH!.split(path.delimiter).some((d) => d !== dir && fs.existsSync(path.join(d, "talosctl")))) this.skip();
    fs.renameSync(path.join(dir, "talosctl"), path.join(dir, "talosctl.away"));
    try {
      await assert.rejects(up("v1.10.9", "1.33.4"), /talosctl is not on PATH: install talosctl \(https:\/\/www\.talos\.dev\/latest\/talos-guides\/install\/talosctl\/\) and run pulumi up again/);
      assert.deepEqual(ran(), []);
    } finally {
      fs.renameSync(path.join(dir, "talosctl.away"), path.join(dir, "talosctl"));
    }
  });

  it("never puts a config on a command line, in the logs or in a command's output", async () => {
    // the configs travel only in the (encrypted) environment input
    assert.doesNotMatch(project.stateFile("upgrades"), /SECRET-7f3a|SECRET-9c1d/);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, "talosctl"), "utf8"), /SECRET/);
  });
});
