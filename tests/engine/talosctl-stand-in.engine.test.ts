// The talosctl stand-in (tests/support/talosctl-stand-in.mjs) against a real control plane
// (tests/support/control-plane.ts): what the day-2 tests lean on must behave as Talos's source says
// (the stand-in's header cites it): health judges the real Nodes, upgrades drain through the real
// API and uncordon per Talos's rules, refusals carry Talos's texts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LAB_NODES, WEB_DEPLOYMENT } from "../support/lab-cluster";
import versions from "../../toolchain/versions.json";
import { ControlPlane, findBinaries, KubeNode, startControlPlane } from "../support/control-plane";
import {
  injectFailure, installTalosctlStandIn, machineConfig, memberIdOf, readStandInState, SimulatedNode, standInCalls, updateStandInState,
  writeStandInState, writeTalosconfig,
} from "../support/talos-nodes";

const SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
const NEW_SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";
const NODES = LAB_NODES;
const CPS = "127.0.0.21,127.0.0.22,127.0.0.23";
const WORKERS = "127.0.0.31,127.0.0.32";

const WEB = WEB_DEPLOYMENT;

interface Run { status: number | null; stdout: string; stderr: string }
interface NodeJson {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { unschedulable?: boolean };
  status: { nodeInfo: { kubeletVersion: string }; conditions: { type: string; lastTransitionTime: string }[] };
}
interface Pod { metadata: { name: string }; spec: { nodeName?: string }; status: { phase: string } }

describe("engine: the talosctl stand-in against a real control plane", function () {
  this.timeout(300_000);
  let cp: ControlPlane | undefined;
  let dir: string;
  let stateDir: string;
  let bin: string;
  let talosconfig: string;

  const simulated = (n: KubeNode, version: string, extra: Partial<SimulatedNode> = {}): SimulatedNode => ({
    ...n, version, schematic: SCHEMATIC, config: machineConfig({ role: n.role, extraKernelArgs: ["net.ifnames=0"] }), ...extra,
  });
  const talosctl = (...args: string[]): Run => {
    const r = spawnSync(bin, args, { encoding: "utf8", env: { ...process.env, TALOSCONFIG: talosconfig } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (...args: string[]): Run => {
    const r = talosctl(...args);
    assert.equal(r.status, 0, `talosctl ${args.join(" ")}: ${r.stderr}`);
    return r;
  };
  const node = (name: string): NodeJson => JSON.parse(cp!.kubectl(["get", "node", name, "-o", "json"]));
  const readySince = (name: string) => node(name).status.conditions.find((c) => c.type === "Ready")!.lastTransitionTime;
  const podsOn = (name: string) => pods().filter((p) => p.spec.nodeName === name).map((p) => p.metadata.name);
  const pods = (): Pod[] => JSON.parse(cp!.kubectl(["get", "pods", "-n", "default", "-l", "app=web", "-o", "json"])).items;
  const until = async (what: string, check: () => boolean, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const health = (timeout = "3s", workers = WORKERS) => talosctl("-n", "127.0.0.21", "health", "--control-plane-nodes", CPS, "--worker-nodes", workers, "--wait-timeout", timeout);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talosctl-stand-in-"));
    stateDir = path.join(dir, "state");
    cp = await startControlPlane({ name: "stand-in-test" });
    await Promise.all(NODES.map((n) => cp!.addNode(n)));
    cp.kubectl(["label", "node", "worker-1", "worker-2", "node-role.kubernetes.io/worker="]);
    // worker-1 runs Talos 1.13 (talosctl's client-side drain), the rest 1.12 (the legacy, server-side one).
    writeStandInState(stateDir, NODES.map((n) => simulated(n, n.name === "worker-1" ? "v1.13.0" : "v1.12.4")),
      { [NEW_SCHEMATIC]: { extraKernelArgs: ["talos.dashboard.disabled=1"] } });
    bin = installTalosctlStandIn(path.join(dir, "bin"), { stateDir, kubeconfigPath: cp.kubeconfigPath, kubectl: findBinaries().kubectl });
    talosconfig = writeTalosconfig(path.join(dir, "talosconfig"), ["127.0.0.21"]);
    cp.kubectl(["apply", "-f", "-"], WEB);
    await until("2 web pods Running", () => pods().filter((p) => p.status.phase === "Running").length === 2);
  });

  after(async () => {
    await cp?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a talosconfig that is not mode 600, unknown flags and commands, like talosctl", () => {
    fs.chmodSync(talosconfig, 0o644);
    assert.match(talosctl("-n", "127.0.0.31", "version", "--short").stderr, /is mode 644, not 600/);
    fs.chmodSync(talosconfig, 0o600);
    assert.deepEqual([talosctl("upgrade", "--stagee").stderr.trim(), talosctl("upgrades").stderr.trim()],
      ["unknown flag: --stagee", 'unknown command "upgrades" for "talosctl"']);
  });

  it("reports versions, the schematic extension and the cmdline of a node", () => {
    // the client side is the real talosctl setup pins (toolchain/versions.json tools.talosctl)
    assert.equal(ok("version", "--client", "--short").stdout, `Client:\nTalos v${versions.tools.talosctl.version}\n`);
    assert.match(ok("-n", "127.0.0.32", "version", "--short").stdout, /\tNODE: {8}127\.0\.0\.32\n\tTag: {9}v1\.12\.4\n/);
    assert.match(ok("-n", "127.0.0.32", "get", "extensions").stdout, new RegExp(`^NODE +NAMESPACE +TYPE +ID +VERSION +NAME +VERSION\n127\\.0\\.0\\.32 +runtime +ExtensionStatus +0 +1 +schematic +${SCHEMATIC}\n$`));
  });

  it("health passes on the healthy cluster, fails while a node is cordoned, passes after uncordon", () => {
    const healthy = health("20s");
    assert.equal(healthy.status, 0, healthy.stderr);
    assert.match(healthy.stderr, /waiting for all k8s nodes to report schedulable: OK/);
    cp!.kubectl(["cordon", "worker-2"]);
    const cordoned = health("2s");
    assert.equal(cordoned.status, 1);
    assert.match(cordoned.stderr, /waiting for all k8s nodes to report schedulable: some nodes are not schedulable: \[worker-2\]/);
    assert.match(cordoned.stderr, /healthcheck error: rpc error: code = DeadlineExceeded desc = context deadline exceeded\n$/);
    cp!.kubectl(["uncordon", "worker-2"]);
    assert.equal(health("20s").status, 0);
  });

  it("health fails while a Node object exists that is not one of the given nodes, and for a missing one", async () => {
    await cp!.addNode({ name: "stray", address: "127.0.0.41", role: "worker" });
    const extra = health("2s");
    assert.equal(extra.status, 1);
    assert.match(extra.stderr, /waiting for all k8s nodes to report: unexpected nodes with IPs \["127\.0\.0\.41"\]/);
    cp!.kubectl(["delete", "node", "stray"]);
    assert.equal(health("20s").status, 0);
    const missing = health("2s", `${WORKERS},127.0.0.33`);
    assert.match(missing.stderr, /apid to be ready: 1 error occurred:\n\t\* 127\.0\.0\.33: rpc error: code = Unavailable/);
  });

  it("fails every call to an unreachable node with talosctl's connection error", () => {
    updateStandInState(stateDir, (s) => { s.nodes["127.0.0.32"].reachable = false; });
    const r = talosctl("-n", "127.0.0.32", "version", "--short");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error getting version: 1 error occurred:\n\t\* 127\.0\.0\.32: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127\.0\.0\.32:50000: connect: connection refused"/);
    assert.match(health("2s").stderr, /waiting for apid to be ready: 1 error occurred:\n\t\* 127\.0\.0\.32: .*dial tcp 127\.0\.0\.32:50000/);
    updateStandInState(stateDir, (s) => { s.nodes["127.0.0.32"].reachable = true; });
  });

  it("apply-config --mode=no-reboot refuses a change that needs a reboot with Talos's text, takes machine.install changes", () => {
    const file = path.join(dir, "worker-2.yaml");
    fs.writeFileSync(file, machineConfig({ role: "worker", extraKernelArgs: ["net.ifnames=0", "console=ttyS1"] }));
    assert.equal(ok("-n", "127.0.0.32", "apply-config", "--file", file, "--mode=no-reboot").stderr, "Applied configuration without a reboot\n");
    fs.writeFileSync(file, machineConfig({ role: "worker", extraKernelArgs: ["net.ifnames=0", "console=ttyS1"] }).replace("  token: abcdef.0123456789abcdef\n", "  token: changed.0123456789abcdef\n"));
    const refused = talosctl("-n", "127.0.0.32", "apply-config", "--file", file, "--mode=no-reboot");
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^error applying new configuration: 1 error occurred:\n\t\* 127\.0\.0\.32: rpc error: code = InvalidArgument desc = this config change can't be applied in immediate mode\ndiff:\n/);
    assert.match(refused.stderr, /\+ {2}token: changed\.0123456789abcdef/);
    assert.equal(readStandInState(stateDir).nodes["127.0.0.32"].boots!.length, 0);
    const auto = ok("-n", "127.0.0.32", "apply-config", "--file", file);
    assert.match(auto.stderr, /^Applied configuration with a reboot: this config change can't be applied in immediate mode/);
    assert.deepEqual(readStandInState(stateDir).nodes["127.0.0.32"].boots, [{ kind: "kexec", reason: "apply-config" }]);
  });

  it("upgrades a 1.13 node as talosctl 1.13 does: drains through the API, reboots, uncordons even a node cordoned before", async () => {
    const before = podsOn("worker-1");
    assert.equal(before.length, 1);
    const readyBefore = readySince("worker-1");
    cp!.kubectl(["cordon", "worker-1"]); // an admin's cordon: talosctl 1.13's client-side uncordon does not check
    ok("-n", "127.0.0.31", "upgrade", "--image", `factory.talos.dev/installer/${NEW_SCHEMATIC}:v1.13.2`, "--timeout", "1m");
    const s = readStandInState(stateDir).nodes["127.0.0.31"];
    assert.deepEqual([s.version, s.schematic, s.boots], ["v1.13.2", NEW_SCHEMATIC, [{ kind: "kexec", reason: "upgrade" }]]);
    assert.ok(!pods().some((p) => p.metadata.name === before[0]), "the web pod was evicted from worker-1");
    assert.notEqual(readySince("worker-1"), readyBefore, "the node went NotReady and Ready again");
    assert.equal(node("worker-1").spec.unschedulable, undefined);
    // The LifecycleService path passes no extraKernelArgs to the installer.
    assert.doesNotMatch(ok("-n", "127.0.0.31", "read", "/proc/cmdline").stdout, /net\.ifnames=0/);
    await until("the web pods Running again", () => pods().filter((p) => p.status.phase === "Running").length === 2);
  });

  it("upgrades a 1.12 node the legacy way: Talos's own cordon mark, extraKernelArgs from the active config, an admin's cordon kept", async () => {
    const before = podsOn("worker-2");
    assert.equal(before.length, 1);
    cp!.kubectl(["cordon", "worker-2"]);
    const r = ok("-n", "127.0.0.32", "upgrade", "--image", `factory.talos.dev/installer/${NEW_SCHEMATIC}:v1.13.2`, "--reboot-mode", "powercycle");
    assert.match(r.stderr, /New upgrade API is not available, falling back to legacy/);
    assert.equal(node("worker-2").spec.unschedulable, true, "not cordoned by Talos: stays cordoned");
    assert.equal(node("worker-2").metadata.annotations?.["talos.dev/cordoned"], undefined);
    assert.ok(!pods().some((p) => p.metadata.name === before[0]), "the web pod was evicted from worker-2");
    const s = readStandInState(stateDir).nodes["127.0.0.32"];
    assert.equal(s.boots!.at(-1)!.kind, "powercycle");
    assert.match(s.cmdline!, /net\.ifnames=0 console=ttyS1$/);
    assert.doesNotMatch(s.cmdline!, /console=tty0/);
    cp!.kubectl(["uncordon", "worker-2"]);
    // Talos-cordoned: uncordoned after the boot.
    ok("-n", "127.0.0.23", "upgrade", "--image", `factory.talos.dev/installer/${NEW_SCHEMATIC}:v1.13.2`);
    assert.equal(node("cp-3").spec.unschedulable, undefined);
    assert.equal(node("cp-3").metadata.annotations?.["talos.dev/cordoned"], undefined);
    await until("the web pods Running again", () => pods().filter((p) => p.status.phase === "Running").length === 2);
  });

  it("refuses an upgrade across more minors than the target installer allows", () => {
    updateStandInState(stateDir, (s) => { s.nodes["127.0.0.22"].version = "v1.10.6"; });
    const r = talosctl("-n", "127.0.0.22", "upgrade", "--image", `factory.talos.dev/installer/${SCHEMATIC}:v1.13.2`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /pre-flight checks failed: host version 1\.10\.6 is too old to upgrade to Talos 1\.13\.2/);
    assert.equal(readStandInState(stateDir).nodes["127.0.0.22"].version, "v1.10.6");
    assert.equal(node("cp-2").spec.unschedulable, undefined);
    updateStandInState(stateDir, (s) => { s.nodes["127.0.0.22"].version = "v1.12.4"; });
  });

  it("fails once where a failure is injected, then runs", () => {
    injectFailure(stateDir, { match: "upgrade", node: "127.0.0.22" });
    const args = ["-n", "127.0.0.22", "upgrade", "--image", `factory.talos.dev/installer/${NEW_SCHEMATIC}:v1.13.2`];
    assert.match(talosctl(...args).stderr, /talosctl stand-in: failing on purpose: -n 127\.0\.0\.22 upgrade/);
    assert.equal(readStandInState(stateDir).nodes["127.0.0.22"].version, "v1.12.4");
    ok(...args);
    assert.equal(readStandInState(stateDir).nodes["127.0.0.22"].version, "v1.13.2");
  });

  it("upgrade-k8s patches every node's kubelet, reports it in the Node status, and prints the bootstrap token Secret", () => {
    const r = ok("-n", "127.0.0.21", "upgrade-k8s", "--to", "1.36.1");
    assert.match(r.stdout, /token-secret: 0123456789abcdef/);
    assert.match(r.stdout, /processing manifest v1\.Secret\/kube-system\/bootstrap-token-abc123/);
    for (const n of NODES) assert.equal(node(n.name).status.nodeInfo.kubeletVersion, "v1.36.1", n.name);
    assert.match(readStandInState(stateDir).nodes["127.0.0.31"].config, /kubelet:v1\.36\.1/);
    assert.equal(JSON.parse(cp!.kubectl(["get", "secret", "-n", "kube-system", "bootstrap-token-abc123", "-o", "json"])).type, "bootstrap.kubernetes.io/token");
    assert.match(talosctl("-n", "127.0.0.21", "upgrade-k8s", "--to", "1.38.0").stderr, /unsupported upgrade path 1\.36->1\.38 \(from "1\.36\.1" to "1\.38\.0"\)/);
  });

  it("etcd members, remove-member by ID; a graceful reset of a control plane leaves etcd, keeps its Node, goes to maintenance", () => {
    assert.equal(ok("-n", "127.0.0.21", "etcd", "members").stdout.trim().split("\n").length, 4);
    ok("-n", "127.0.0.23", "reset", "--graceful", "--reboot", "--system-labels-to-wipe", "STATE", "--system-labels-to-wipe", "EPHEMERAL");
    const members = readStandInState(stateDir).etcd.members.map((m) => m.hostname);
    assert.deepEqual(members, ["cp-1", "cp-2"]);
    assert.equal(node("cp-3").metadata.annotations?.["talos.dev/cordoned"], "true");
    assert.match(talosctl("-n", "127.0.0.23", "version").stderr, /x509: certificate signed by unknown authority/);
    assert.match(health("2s").stderr, /waiting for etcd to be healthy: 1 error occurred:\n\t\* 127\.0\.0\.23:/);
    ok("-n", "127.0.0.21", "etcd", "remove-member", memberIdOf("cp-2"));
    assert.deepEqual(readStandInState(stateDir).etcd.members.map((m) => m.hostname), ["cp-1"]);
    assert.deepEqual(standInCalls(stateDir).at(-1), ["-n", "127.0.0.21", "etcd", "remove-member", memberIdOf("cp-2")]);
  });
});
