// Day-2 upgrades under mocks: exact command lines and their order for 3 control planes + 2
// workers, what triggers them, and that no secret reaches a command string.
import assert from "node:assert/strict";
import { kernelArgsOf } from "../../components/talos/patches";
import { kubernetesUpgradeCommands, osUpgradeCommands, osUpgradeScript, prelude, upgradeOrder } from "../../components/day2/upgrade-plan";
import { Recorder, RecordedResource, runProgram, runValidProgram } from "../support/mocks";
import { committedStackConfig, hetznerStackConfig } from "../support/stack-files";

const COMMAND = "command:local:Command";

const oxide = (cluster: Record<string, unknown> = {}) => hetznerStackConfig(undefined, cluster);
const inputs = (r: RecordedResource) => r.inputs as Record<string, string>;
/** The day-2 steps (not the add-ons' post-install checks, tests/unit/gateway-addons.test.ts). */
const steps = (recorder: Recorder) => recorder.ofType(COMMAND).filter((c) => !c.name.includes("-addons-checks-"));
/** The OS and Kubernetes steps, without the config rollouts after them (tests/unit/rollout.test.ts). */
const upgradeSteps = (recorder: Recorder) => steps(recorder).filter((s) => !s.name.endsWith("-rollout"));
const oxideMembers = { controlPlanes: ["10.0.1.11", "10.0.1.12", "10.0.1.13"], workers: ["10.0.1.61", "10.0.1.62"] };

describe("upgrade plan", () => {
  const nodes = [
    { name: "w-1", address: "10.0.1.61", role: "worker" as const },
    { name: "cp-1", address: "10.0.1.11", role: "controlplane" as const },
    { name: "cp-2", address: "10.0.1.12", role: "controlplane" as const },
  ];
  const members = { controlPlanes: ["10.0.1.11", "10.0.1.12"], workers: ["10.0.1.61"] };
  const target = { talosVersion: "v1.10.7", schematicId: "abc", installerImage: "factory.talos.dev/installer/abc:v1.10.7", kernelArgs: ["vga=792"], timeout: "10m", members };
  const health = "talosctl -n 10.0.1.11 health --control-plane-nodes 10.0.1.11,10.0.1.12 --worker-nodes 10.0.1.61 --wait-timeout=10m";

  it("orders control planes before workers, keeping config order", () => {
    assert.deepEqual(upgradeOrder(nodes).map((n) => n.name), ["cp-1", "cp-2", "w-1"]);
  });

  it("forfeits etcd leadership only on control planes, then drains, upgrades, waits and uncordons (seed 002)", () => {
    assert.deepEqual(osUpgradeCommands(nodes[1]!, target), [
      "talosctl -n 10.0.1.11 etcd forfeit-leadership",
      "kubectl drain cp-1 --ignore-daemonsets --delete-emptydir-data --timeout=10m",
      "talosctl -n 10.0.1.11 upgrade --image factory.talos.dev/installer/abc:v1.10.7 --wait --timeout=10m",
      health,
      "kubectl uncordon cp-1",
    ]);
    assert.deepEqual(osUpgradeCommands(nodes[0]!, target), [
      "kubectl drain w-1 --ignore-daemonsets --delete-emptydir-data --timeout=10m",
      "talosctl -n 10.0.1.61 upgrade --image factory.talos.dev/installer/abc:v1.10.7 --wait --timeout=10m",
      health,
      "kubectl uncordon w-1",
    ]);
  });

  it("skips a node already at the target version, schematic and kernel args", () => {
    const script = osUpgradeScript(nodes[1]!, target);
    assert.ok(script.includes("talosctl -n 10.0.1.11 version --short 2>/dev/null | grep -q 'Tag:[[:space:]]*v1.10.7$'"));
    assert.ok(script.includes("talosctl -n 10.0.1.11 get extensions 2>/dev/null | grep -q 'abc'"));
    assert.ok(script.includes("talosctl -n 10.0.1.11 read /proc/cmdline 2>/dev/null | grep -qw -- 'vga=792'"));
  });

  it("says how to install a missing tool, and keeps configs in private files", () => {
    const text = prelude(["talosctl", "kubectl"]);
    assert.match(text, /talosctl is not on PATH: install talosctl \(https:\/\/www\.talos\.dev\/latest\/talos-guides\/install\/talosctl\/\) and run pulumi up again/);
    assert.match(text, /kubectl is not on PATH: install kubectl/);
    assert.match(text, /umask 077/);
    assert.match(text, /trap 'rm -rf "\$work"' EXIT/);
  });

  it("upgrades Kubernetes through the first control plane, then waits for health", () => {
    assert.deepEqual(kubernetesUpgradeCommands(members, "1.33.4", "10m"), ["talosctl -n 10.0.1.11 upgrade-k8s --to 1.33.4", health]);
  });

  it("reads the kernel args a node's patches ask for", () => {
    assert.deepEqual(kernelArgsOf(["machine:\n  install:\n    extraKernelArgs: [vga=792]\n", "machine: {sysctls: {}}\n", "machine:\n  install:\n    extraKernelArgs: [vga=792, net.ifnames=0]\n"]), ["vga=792", "net.ifnames=0"]);
  });
});

describe("upgrades in the oxide stack (3 control planes + 2 workers)", () => {
  let recorder: Recorder;
  before(async () => {
    recorder = (await runValidProgram(oxide(), "upgrades")).recorder;
  });

  it("chains one step per node, control planes first, then Kubernetes, each after the previous", () => {
    const names = ["oxide-cp-1", "oxide-cp-2", "oxide-cp-3", "oxide-worker-1", "oxide-worker-2"].map((n) => `${n}-upgrade`);
    assert.deepEqual(upgradeSteps(recorder).map((s) => s.name), [...names, "oxide-upgrades-kubernetes"]);
    const urn = (name: string) => recorder.named(name).urn;
    // among the steps, each waits for exactly the one before it (its other dependencies are the configs it reads)
    const stepDeps = (name: string) => recorder.named(name).dependencies.filter((d) => d.includes("command:local:Command"));
    for (let i = 1; i < names.length; i++) assert.deepEqual(stepDeps(names[i]!), [urn(names[i - 1]!)], names[i]);
    assert.deepEqual(stepDeps("oxide-upgrades-kubernetes"), [urn("oxide-worker-2-upgrade")]);
    assert.deepEqual(stepDeps("oxide-cp-1-upgrade"), []);
    const first = recorder.named("oxide-cp-1-upgrade").dependencies;
    assert.ok(first.includes(urn("oxide-cluster-kubeconfig")) && first.includes(urn("oxide-cp-1-apply")) && first.includes(urn("oxide-worker-2-apply")));
  });

  it("puts the exact seed 002 command lines in each step, in order", () => {
    const image = "factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.14.1";
    for (const [name, address, role] of [["oxide-cp-2", "10.0.1.12", "controlplane"], ["oxide-worker-1", "10.0.1.61", "worker"]] as const) {
      const update = inputs(recorder.named(`${name}-upgrade`)).update!;
      const expected = osUpgradeCommands({ name, address, role }, { talosVersion: "v1.14.1", schematicId: "", installerImage: image, kernelArgs: [], timeout: "10m", members: oxideMembers });
      const lines = update.split("\n");
      assert.deepEqual(lines.slice(-expected.length), expected);
    }
    assert.deepEqual(inputs(recorder.named("oxide-upgrades-kubernetes")).update!.split("\n").slice(-2), kubernetesUpgradeCommands(oxideMembers, "1.37.0", "10m"));
    for (const s of upgradeSteps(recorder)) assert.match(inputs(s).create!, /^echo '.*installed at creation, nothing to upgrade'$/);
  });

  it("keeps every secret out of the command strings: configs come only through the secret environment", () => {
    for (const s of upgradeSteps(recorder)) {
      const strings = JSON.stringify({ create: inputs(s).create, update: inputs(s).update });
      assert.doesNotMatch(strings, /talosconfig of|kubeconfig of|client-key|BEGIN/);
      assert.deepEqual(s.secretInputs, ["environment"]);
      assert.deepEqual(Object.keys(s.inputs.environment as object).sort(), ["TALOS_CLUSTER_KUBECONFIG", "TALOS_CLUSTER_TALOSCONFIG"]);
    }
  });

  it("changes nothing when the versions are unchanged", async () => {
    const again = (await runProgram(oxide(), "upgrades")).recorder;
    assert.deepEqual(steps(again).map((s) => s.inputs), steps(recorder).map((s) => s.inputs));
  });

  it("a Talos version bump changes every node's step and not Kubernetes's", async () => {
    const bumped = (await runProgram(oxide({ talosVersion: "v1.14.2" }), "upgrades")).recorder;
    const changed = upgradeSteps(bumped).filter((s, i) => JSON.stringify(s.inputs) !== JSON.stringify(upgradeSteps(recorder)[i]!.inputs)).map((s) => s.name);
    assert.deepEqual(changed, ["oxide-cp-1-upgrade", "oxide-cp-2-upgrade", "oxide-cp-3-upgrade", "oxide-worker-1-upgrade", "oxide-worker-2-upgrade"]);
    assert.match(inputs(bumped.named("oxide-cp-1-upgrade")).update!, /upgrade --image factory\.talos\.dev\/installer\/[0-9a-f]{64}:v1\.14\.2 --wait/);
  });

  it("a Kubernetes version bump changes only the Kubernetes step", async () => {
    const bumped = (await runProgram(oxide({ kubernetesVersion: "1.37.1" }), "upgrades")).recorder;
    const changed = upgradeSteps(bumped).filter((s, i) => JSON.stringify(s.inputs) !== JSON.stringify(upgradeSteps(recorder)[i]!.inputs)).map((s) => s.name);
    assert.deepEqual(changed, ["oxide-upgrades-kubernetes"]);
  });
});

describe("upgrades for kernel-argument changes (seed 000's vga=792)", () => {
  it("a node's new kernel arg re-runs only that node's step, as an upgrade to the same image", async () => {
    const config = committedStackConfig("homelab");
    const before = (await runProgram(config, "kernel")).recorder;
    const nodes = JSON.parse(config["talos-cluster:nodes"]!);
    nodes[1].patches = ["tests/fixtures/patches/kernel-args.yaml"];
    const after = (await runProgram({ ...config, "talos-cluster:nodes": JSON.stringify(nodes) }, "kernel")).recorder;
    const changed = upgradeSteps(after).filter((s, i) => JSON.stringify(s.inputs) !== JSON.stringify(upgradeSteps(before)[i]!.inputs)).map((s) => s.name);
    assert.deepEqual(changed, ["talos-worker-1-upgrade"]);
    assert.match(inputs(after.named("talos-worker-1-upgrade")).update!, /grep -qw -- 'vga=792' && talosctl -n 10\.0\.1\.100 read \/proc\/cmdline 2>\/dev\/null \| grep -qw -- 'mitigations=off'/);
  });
});
