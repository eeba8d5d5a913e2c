// The day-2 chain through the real engine, the real command plugin and a REAL Kubernetes control
// plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes; tests/support/
// control-plane.ts) with the real kubectl. Only the Talos nodes are simulated, by the talosctl
// stand-in (tests/support/talosctl-stand-in.mjs), whose health check evaluates Talos's own
// default checks against that API server: a node left cordoned, a Node object left behind or an
// etcd member too many fails the gate, as it would on a real cluster.
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ControlPlane, KubeNode, startControlPlane } from "../support/control-plane";
import { injectFailure, installTalosctlStandIn, machineConfig, memberIdOf, readStandInState, standInCalls, updateStandInState, writeStandInState, writeTalosconfig } from "../support/talos-nodes";
import { engineProject, EngineProject, projectRoot } from "./harness";

const CP = (i: number): KubeNode => ({ name: `cp-${i}`, address: `127.0.0.2${i}`, role: "controlplane" });
const W = (i: number): KubeNode => ({ name: `worker-${i}`, address: `127.0.0.3${i}`, role: "worker" });
const START = [CP(1), CP(2), CP(3), W(1), W(2)];
const FROM = "v1.13.0";
const TO = "v1.14.1";
const SCHEMATIC = "abc123";
/** The schematic whose UKI carries vga=792 (the Image Factory's customization.extraKernelArgs). */
const VGA_SCHEMATIC = "vga792";
// talosctl v1.13.0 (go-kubernetes v0.2.36 kubernetes/upgrade/path.go) upgrades Kubernetes up to 1.36 only
const K8S = "1.36.0";

describe("engine: day 2 against a real Kubernetes control plane and simulated Talos nodes", function () {
  this.timeout(900_000);
  let cluster: ControlPlane;
  let project: EngineProject;
  let stack: Stack;
  let dir: string;
  let state: string;
  let config: { nodes: KubeNode[]; talosVersion: string; kubernetesVersion: string; schematic: string; allPatch: string; removeUnreachable: string[] };

  const calls = () => {
    const all = standInCalls(state).map((argv) => argv.join(" "));
    fs.rmSync(path.join(state, "calls.log"), { force: true });
    return all;
  };
  const up = async () => {
    await stack.setAllConfig({
      "lab:nodes": { value: JSON.stringify(config.nodes) },
      "lab:talosVersion": { value: config.talosVersion },
      "lab:kubernetesVersion": { value: config.kubernetesVersion },
      "lab:schematic": { value: config.schematic },
      "lab:allPatch": { value: config.allPatch },
      "lab:removeUnreachable": { value: JSON.stringify(config.removeUnreachable) },
    });
    return stack.up({ color: "never" });
  };
  /** Node names Kubernetes has, and those of them that are unschedulable. */
  const kubeNodes = () => {
    const items = JSON.parse(cluster.kubectl(["get", "nodes", "-o", "json"])).items as { metadata: { name: string }; spec: { unschedulable?: boolean } }[];
    return { names: items.map((i) => i.metadata.name).sort(), cordoned: items.filter((i) => i.spec.unschedulable).map((i) => i.metadata.name) };
  };
  const etcdMembers = () => readStandInState(state).etcd.members.map((m) => m.hostname).sort();
  const versions = () => Object.fromEntries(Object.values(readStandInState(state).nodes).map((n) => [n.name, n.version]));
  /** The nodes a call dials (-n/--nodes). */
  const dialed = (line: string) => line.match(/(?:^|\s)-n (\S+)/)?.[1];

  before(async () => {
    cluster = await startControlPlane({ name: "day2" });
    for (const n of START) await cluster.addNode(n);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-day2-"));
    state = path.join(dir, "state");
    writeStandInState(
      state,
      START.map((n) => ({ ...n, version: FROM, schematic: SCHEMATIC, config: machineConfig({ role: n.role, kubernetesVersion: K8S }) })),
      { [SCHEMATIC]: { extraKernelArgs: [] }, [VGA_SCHEMATIC]: { extraKernelArgs: ["vga=792"] } },
    );
    const bin = path.join(dir, "bin");
    installTalosctlStandIn(bin, { stateDir: state, kubeconfigPath: cluster.kubeconfigPath });
    const talosconfig = fs.readFileSync(writeTalosconfig(path.join(dir, "talosconfig"), START.filter((n) => n.role === "controlplane").map((n) => n.address)), "utf8");
    // the stand-in and the project's pinned kubectl first; setup's real talosctl stays hidden
    project = engineProject(undefined, "tests/engine/day2-program", { PATH: [bin, path.join(projectRoot, ".tools", "test-bin")].join(path.delimiter) }, ["talosctl"]);
    stack = await project.stack("day2", {});
    await stack.setConfig("lab:talosconfig", { value: talosconfig, secret: true });
    await stack.setConfig("lab:kubeconfig", { value: cluster.kubeconfig, secret: true });
    config = { nodes: START, talosVersion: FROM, kubernetesVersion: K8S, schematic: SCHEMATIC, allPatch: "machine: {}\n", removeUnreachable: [] };
  });

  after(async () => {
    project?.cleanup();
    await cluster?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a new cluster records every step and dials no node", async () => {
    const result = await up();
    // stack, 4 components, membership, minor steps, 5 upgrades, Kubernetes, 5 rollouts, 5 kernel-args steps
    assert.equal(result.summary.resourceChanges?.create, 23);
    assert.deepEqual(calls(), []);
  });

  it("a Talos bump upgrades every node in order, control planes first; Talos drains and uncordons, every gate passes, none is left cordoned", async () => {
    config.talosVersion = TO;
    await up();
    const lines = calls();
    const upgrades = lines.filter((l) => / upgrade --image /.test(l)).map(dialed);
    assert.deepEqual(upgrades, START.map((n) => n.address));
    // after each upgrade, a health gate before the next node's upgrade
    for (const n of START) {
      const at = lines.findIndex((l) => l.includes(`-n ${n.address} upgrade --image`));
      const gate = lines.findIndex((l, i) => i > at && l.includes(" health "));
      const next = lines.findIndex((l, i) => i > at && / upgrade --image /.test(l));
      assert.ok(gate > at && (next === -1 || gate < next), `${n.name}: ${lines.join("\n")}`);
    }
    assert.deepEqual(Object.values(versions()), START.map(() => TO));
    assert.deepEqual(kubeNodes().cordoned, []);
    assert.ok(!lines.some((l) => l.startsWith("kubectl")), "the steps never cordon or drain with kubectl");
  });

  it("a failure mid-chain stops the up there, with no node left cordoned; the next up resumes and finishes", async () => {
    config.talosVersion = "v1.14.2";
    injectFailure(state, { match: "upgrade --image", node: CP(3).address, phase: "after", message: "talosctl stand-in: the node did not come back in time" });
    await assert.rejects(up(), /the node did not come back in time/);
    const first = calls().filter((l) => / upgrade --image /.test(l)).map(dialed);
    assert.deepEqual(first, [CP(1).address, CP(2).address, CP(3).address]);
    assert.deepEqual(kubeNodes().cordoned, []);
    await up();
    const second = calls().filter((l) => / upgrade --image /.test(l)).map(dialed);
    // cp-1 and cp-2 are at the target and skipped; cp-3 (whose install happened) too; the workers follow
    assert.deepEqual(second, [W(1).address, W(2).address]);
    assert.deepEqual(Object.values(versions()), START.map(() => "v1.14.2"));
    assert.deepEqual(kubeNodes().cordoned, []);
  });

  it("a kernel arg in patches/all, in the schematic as Talos takes it: every node power-cycled once, after its config has the arg", async () => {
    config.allPatch = "machine:\n  install:\n    extraKernelArgs: [vga=792]\n";
    config.schematic = VGA_SCHEMATIC;
    const before = Object.fromEntries(Object.values(readStandInState(state).nodes).map((n) => [n.name, (n.boots ?? []).length]));
    await up();
    const lines = calls();
    for (const n of START) {
      const node = readStandInState(state).nodes[n.address]!;
      const boots = (node.boots ?? []).slice(before[n.name]);
      assert.equal(boots.filter((b) => b.kind === "powercycle").length, 1, `${n.name}: ${JSON.stringify(boots)}`);
      assert.match(node.cmdline ?? "", /(^| )vga=792( |$)/, n.name);
      assert.match(node.config, /vga=792/, n.name);
      // its config was applied before its power cycle
      const applied = lines.findIndex((l) => l.includes(`-n ${n.address} apply-config`) && l.includes("--mode=no-reboot"));
      const cycled = lines.findIndex((l) => l.includes(`-n ${n.address} upgrade`) && l.includes("powercycle"));
      assert.ok(applied !== -1 && applied < cycled, `${n.name}: ${lines.join("\n")}`);
    }
    assert.deepEqual(kubeNodes().cordoned, []);
  });

  it("a Kubernetes bump runs upgrade-k8s once; the Secret it prints never reaches the state in plain text", async () => {
    config.kubernetesVersion = "1.36.2";
    await up();
    assert.equal(calls().filter((l) => l.includes("upgrade-k8s")).length, 1);
    const raw = project.stateFile("day2");
    // the token's secret half, as upgrade-k8s printed it in the Secret's stringData
    assert.match(readStandInState(state).nodes[CP(1).address]!.config, /token: lab7f3\.0123456789abcdef/);
    assert.doesNotMatch(raw, /0123456789abcdef/);
    assert.doesNotMatch(raw, /token-secret: [^<]/);
    const k8sStep = JSON.parse(raw).checkpoint.latest.resources.find((r: { urn: string }) => r.urn.endsWith("lab-upgrades-kubernetes"));
    assert.ok(k8sStep.outputs.stdout && typeof k8sStep.outputs.stdout === "object" && "ciphertext" in k8sStep.outputs.stdout, JSON.stringify(k8sStep.outputs.stdout).slice(0, 200));
  });

  it("removing a worker and a control plane completes: reset, Node objects and the etcd member gone before any gate counts them", async () => {
    config.nodes = [CP(1), CP(2), W(1)];
    await up();
    assert.deepEqual(kubeNodes().names, ["cp-1", "cp-2", "worker-1"]);
    assert.deepEqual(etcdMembers(), ["cp-1", "cp-2"]);
    const s = readStandInState(state);
    assert.equal(s.nodes[W(2).address]!.maintenance, true);
    assert.equal(s.nodes[CP(3).address]!.maintenance, true);
    assert.deepEqual(kubeNodes().cordoned, []);
    const outputs = await stack.outputs();
    assert.deepEqual(outputs.nodes!.value, config.nodes);
  });

  it("a node that no longer answers is refused, untouched, unless the stack names it in removeUnreachable; then it is removed without being dialed", async () => {
    await cluster.addNode(CP(4));
    updateStandInState(state, (s) => {
      s.nodes[CP(4).address] = { ...CP(4), version: "v1.14.2", schematic: VGA_SCHEMATIC, config: machineConfig({ role: "controlplane", kubernetesVersion: "1.36.2" }), reachable: true, staged: null, maintenance: false, boots: [] };
      s.etcd.members.push({ id: memberIdOf("cp-4"), hostname: "cp-4", peerUrls: [`https://${CP(4).address}:2380`], clientUrls: [`https://${CP(4).address}:2379`], isLearner: false });
      s.nodes[W(1).address]!.reachable = false;
    });
    // cp-4 joined (its enrollment); worker-1 died and is taken out of the stack
    config.nodes = [CP(1), CP(2), CP(4)];
    await assert.rejects(up(), /127\.0\.0\.31/);
    assert.deepEqual(kubeNodes().names, ["cp-1", "cp-2", "cp-4", "worker-1"]);
    calls();
    config.removeUnreachable = ["worker-1"];
    await up();
    assert.ok(!calls().some((l) => dialed(l) === W(1).address));
    assert.deepEqual(kubeNodes().names, ["cp-1", "cp-2", "cp-4"]);
  });

  it("a removal etcd's quorum cannot carry is refused at preview, before any step runs", async () => {
    updateStandInState(state, (s) => {
      s.nodes[CP(2).address]!.reachable = false;
      s.nodes[CP(4).address]!.reachable = false;
    });
    config.nodes = [CP(1)];
    config.removeUnreachable = ["cp-2", "cp-4"];
    await stack.setAllConfig({ "lab:nodes": { value: JSON.stringify(config.nodes) }, "lab:removeUnreachable": { value: JSON.stringify(config.removeUnreachable) } });
    await assert.rejects(stack.preview({ color: "never" }), /removing control plane cp-2 would need etcd's quorum of 2 of its 3 members, but only 1 answer/);
    assert.deepEqual(calls(), []);
    assert.deepEqual(etcdMembers(), ["cp-1", "cp-2", "cp-4"]);
  });

  it("replacing the first control plane: cp-5 joins, cp-1 leaves; gates run through a control plane that stays", async () => {
    updateStandInState(state, (s) => {
      s.nodes[CP(2).address]!.reachable = true;
      s.nodes[CP(4).address]!.reachable = true;
    });
    await cluster.addNode(CP(5));
    updateStandInState(state, (s) => {
      s.nodes[CP(5).address] = { ...CP(5), version: "v1.14.2", schematic: VGA_SCHEMATIC, config: machineConfig({ role: "controlplane", kubernetesVersion: "1.36.2" }), reachable: true, staged: null, maintenance: false, boots: [] };
      s.etcd.members.push({ id: memberIdOf("cp-5"), hostname: "cp-5", peerUrls: [`https://${CP(5).address}:2380`], clientUrls: [`https://${CP(5).address}:2379`], isLearner: false });
    });
    config.nodes = [CP(5), CP(2), CP(4)];
    config.removeUnreachable = [];
    await up();
    const lines = calls();
    assert.ok(lines.some((l) => l.startsWith(`-n ${CP(1).address} reset`) || l.includes(`-n ${CP(1).address} reset`)), lines.join("\n"));
    assert.ok(lines.filter((l) => l.includes(" health ")).every((l) => dialed(l) === CP(5).address), lines.join("\n"));
    assert.deepEqual(etcdMembers(), ["cp-2", "cp-4", "cp-5"]);
    assert.deepEqual(kubeNodes().names, ["cp-2", "cp-4", "cp-5"]);
    assert.deepEqual(kubeNodes().cordoned, []);
  });

  it("a dead control plane named in removeUnreachable, replaced by cp-6, leaves etcd through a remaining control plane; the up completes", async () => {
    await cluster.addNode(CP(6));
    updateStandInState(state, (s) => {
      s.nodes[CP(4).address]!.reachable = false;
      s.nodes[CP(6).address] = { ...CP(6), version: "v1.14.2", schematic: VGA_SCHEMATIC, config: machineConfig({ role: "controlplane", kubernetesVersion: "1.36.2" }), reachable: true, staged: null, maintenance: false, boots: [] };
      s.etcd.members.push({ id: memberIdOf("cp-6"), hostname: "cp-6", peerUrls: [`https://${CP(6).address}:2380`], clientUrls: [`https://${CP(6).address}:2379`], isLearner: false });
    });
    // etcd: cp-2, cp-4 (dead), cp-5, cp-6: 3 of 4 answer, a quorum
    config.nodes = [CP(5), CP(2), CP(6)];
    config.removeUnreachable = ["cp-4"];
    await up();
    const lines = calls();
    assert.ok(!lines.some((l) => dialed(l) === CP(4).address), lines.join("\n"));
    assert.ok(lines.some((l) => l.includes(`-n ${CP(5).address} etcd remove-member ${memberIdOf("cp-4")}`)), lines.join("\n"));
    assert.deepEqual(etcdMembers(), ["cp-2", "cp-5", "cp-6"]);
    assert.deepEqual(kubeNodes().names, ["cp-2", "cp-5", "cp-6"]);
    assert.deepEqual(kubeNodes().cordoned, []);
  });

  it("never keeps a machine config, the talosconfig or the kubeconfig unencrypted in state", () => {
    const raw = project.stateFile("day2");
    const adminToken = cluster.kubeconfig.match(/token: (\S+)/)?.[1];
    assert.ok(adminToken && adminToken.length > 8);
    assert.ok(!raw.includes(adminToken!), "the kubeconfig's token");
    assert.doesNotMatch(raw, /c3RhbmQtaW4=/, "the talosconfig's key");
    assert.doesNotMatch(raw, /lab\/revision|0123456789abcdef/, "a machine config");
  });
});
