// Day-2 upgrades under mocks: exact command lines and their order for 3 control planes + 2
// workers, what triggers them, and that no secret reaches a command string.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pins from "../../toolchain/versions.json";
import { installerAt, minorStepsScript, minorStopsFor } from "../../components/day2/minor-steps";
import { minorSequence, TALOS_MINORS, TALOS_NEWEST_PATCH } from "../../config/versions";
import { schematicId } from "../../components/talos/image-schematic";
import { kernelArgsOf } from "../../components/talos/patches";
import { kernelArgsScript, recordInstalled } from "../../components/day2/kernel-args-plan";
import { configRolloutScript } from "../../components/day2/rollout-plan";
import { destroyScript, removalScript } from "../../components/day2/removal-plan";
import { cephHealthGate, kubernetesUpgradeCommands, kubernetesUpgradeScript, osUpgradeCommands, osUpgradeScript, prelude, REDACT_DATA, upgradeOrder } from "../../components/day2/upgrade-plan";
import { Recorder, RecordedResource, runProgram, runValidProgram } from "../support/mocks";
import { committedStackConfig, hetznerStackConfig } from "../support/stack-files";

const COMMAND = "command:local:Command";

const oxide = (cluster: Record<string, unknown> = {}) => hetznerStackConfig(undefined, cluster);
const inputs = (r: RecordedResource) => r.inputs as Record<string, string>;
/** The day-2 steps (not the add-ons' post-install checks, tests/unit/gateway-addons.test.ts). */
const steps = (recorder: Recorder) => recorder.ofType(COMMAND).filter((c) => !c.name.includes("-addons-checks-"));
/** The OS and Kubernetes steps, without the membership step, the config rollouts and kernel-args steps (tests/unit/rollout.test.ts). */
const upgradeSteps = (recorder: Recorder) => steps(recorder).filter((s) => !/-(rollout|kernel-args|nodes-members)$/.test(s.name));
/** The kernel-args steps. */
const kernelSteps = (recorder: Recorder) => steps(recorder).filter((s) => s.name.endsWith("-kernel-args"));
const oxideMembers = { controlPlanes: ["10.0.1.11", "10.0.1.12", "10.0.1.13"], workers: ["10.0.1.61", "10.0.1.62"] };

describe("upgrade plan", () => {
  const nodes = [
    { name: "w-1", address: "10.0.1.61", role: "worker" as const },
    { name: "cp-1", address: "10.0.1.11", role: "controlplane" as const },
    { name: "cp-2", address: "10.0.1.12", role: "controlplane" as const },
  ];
  const members = { controlPlanes: ["10.0.1.11", "10.0.1.12"], workers: ["10.0.1.61"] };
  const target = { talosVersion: "v1.10.7", schematicId: "abc", installerImage: "factory.talos.dev/installer/abc:v1.10.7", timeout: "10m", members };
  const health = "talosctl -n 10.0.1.11 health --control-plane-nodes 10.0.1.11,10.0.1.12 --worker-nodes 10.0.1.61 --wait-timeout=10m";

  it("orders control planes before workers, keeping config order", () => {
    assert.deepEqual(upgradeOrder(nodes).map((n) => n.name), ["cp-1", "cp-2", "w-1"]);
  });

  it("forfeits etcd leadership only on control planes, then upgrades and waits: Talos drains and uncordons, never kubectl (seed 002)", () => {
    assert.deepEqual(osUpgradeCommands(nodes[1]!, target), [
      "talosctl -n 10.0.1.11 etcd forfeit-leadership",
      "talosctl -n 10.0.1.11 upgrade --image factory.talos.dev/installer/abc:v1.10.7 --wait --timeout=10m",
      health,
    ]);
    assert.deepEqual(osUpgradeCommands(nodes[0]!, target), ["talosctl -n 10.0.1.61 upgrade --image factory.talos.dev/installer/abc:v1.10.7 --wait --timeout=10m", health]);
    for (const node of nodes) assert.ok(!osUpgradeCommands(node, target).some((c) => c.startsWith("kubectl")), node.name);
  });

  it("a storage node's gates also wait for Ceph's own health, when Rook's CRD exists", () => {
    assert.deepEqual(osUpgradeCommands({ ...nodes[0]!, storage: true }, target).slice(-2), [health, cephHealthGate("10m")]);
    assert.equal(
      cephHealthGate("10m"),
      "if kubectl get crd cephclusters.ceph.rook.io >/dev/null 2>&1; then kubectl -n rook-ceph wait cephcluster --all --for=jsonpath='{.status.ceph.health}'=HEALTH_OK --timeout=10m; fi",
    );
  });

  it("upgrades with a power cycle only when asked (seeds 000/001)", () => {
    assert.deepEqual(osUpgradeCommands(nodes[0]!, target, "powercycle"), ["talosctl -n 10.0.1.61 upgrade --image factory.talos.dev/installer/abc:v1.10.7 --reboot-mode powercycle --wait --timeout=10m", health]);
  });

  it("judges the node by its version and schematic; kernel args are not the upgrade step's business", () => {
    const lines = osUpgradeScript(nodes[1]!, target).split("\n");
    const ours = lines.slice(prelude(["talosctl", "kubectl"], target.talosVersion).split("\n").length);
    assert.deepEqual(ours, [
      `tag="$(talosctl -n 10.0.1.11 version --short 2>/dev/null | sed -n 's/^[[:space:]]*Tag:[[:space:]]*//p' | tail -n 1)"`,
      `if [ "$tag" = 'v1.10.7' ] && talosctl -n 10.0.1.11 get extensions 2>/dev/null | grep -q 'abc'; then echo 'cp-1 already runs factory.talos.dev/installer/abc:v1.10.7; skipped'; exit 0; fi`,
      // v1.10 is the oldest accepted minor: no node can be more than one minor below it
      ...osUpgradeCommands(nodes[1]!, target),
    ]);
  });

  it("a kernel-args change power-cycles the node into the image it runs, checks /proc/cmdline, gates, then records", () => {
    const kt = { kernelArgs: ["vga=792"], installerImage: target.installerImage, timeout: "10m", members };
    const ours = kernelArgsScript(nodes[1]!, kt).split("\n").slice(prelude(["talosctl", "kubectl"], target.talosVersion).split("\n").length);
    assert.deepEqual(ours, [
      `recorded="$(printf '%s\\n' "\${PULUMI_COMMAND_STDOUT:-}" | sed -n 's/^kernel args since a real boot: //p' | tail -n 1)"`,
      `if [ "$recorded" = '[vga=792]' ]; then echo 'cp-1 has had [vga=792] since a real boot; skipped'; echo 'kernel args since a real boot: [vga=792]'; exit 0; fi`,
      `echo 'cp-1: kernel args '"\${recorded:-[unknown]}"' -> [vga=792]: reinstalling factory.talos.dev/installer/abc:v1.10.7 with a power cycle'`,
      "talosctl -n 10.0.1.11 etcd forfeit-leadership",
      "talosctl -n 10.0.1.11 upgrade --image factory.talos.dev/installer/abc:v1.10.7 --legacy --reboot-mode powercycle --wait --timeout=10m",
      `cmdline=" $(talosctl -n 10.0.1.11 read /proc/cmdline | tr '\\n' ' ') "`,
      `case "$cmdline" in *' vga=792 '*) ;; *) echo 'cp-1 booted without the kernel arg vga=792 (its /proc/cmdline:'"$cmdline"'): the install did not take it; on UEFI (systemd-boot) installs Talos takes kernel args from the Image Factory schematic, so set it in imageFactory.extraKernelArgs' >&2; exit 1;; esac`,
      health,
      "echo 'kernel args since a real boot: [vga=792]'",
    ]);
  });

  it("refuses a node more than one minor below the target, with the versions to set in turn", () => {
    const lines = osUpgradeScript(nodes[1]!, { ...target, talosVersion: "v1.13.2", installerImage: "factory.talos.dev/installer/abc:v1.13.2" }).split("\n");
    const from = lines.indexOf('case "$minor" in');
    assert.deepEqual(lines.slice(from - 1, from + 4), [
      `case "$tag" in v1.[0-9]*.[0-9]*) minor="\${tag#v1.}"; minor="\${minor%%.*}";; *) minor="";; esac`,
      'case "$minor" in',
      `  10) echo 'cp-1 runs '"$tag"', more than one minor below v1.13.2: Talos upgrades go one minor at a time; set cluster.talosVersion to each of v1.11.6, v1.12.11, v1.13.2 in turn and run up after each' >&2; exit 1;;`,
      `  11) echo 'cp-1 runs '"$tag"', more than one minor below v1.13.2: Talos upgrades go one minor at a time; set cluster.talosVersion to each of v1.12.11, v1.13.2 in turn and run up after each' >&2; exit 1;;`,
      "esac",
    ]);
  });

  it("a new node records only the kernel args its boot media booted with: Talos's install ends in a kexec", () => {
    assert.equal(recordInstalled("w-1", ["vga=792", "net.ifnames=0"], ["net.ifnames=0"]), "echo 'w-1: kernel args installed at creation'\necho 'kernel args since a real boot: [net.ifnames=0]'");
    assert.equal(recordInstalled("w-1", [], []), "echo 'w-1: kernel args installed at creation'\necho 'kernel args since a real boot: []'");
  });

  it("says how to install a missing tool, and keeps configs in private files", () => {
    const text = prelude(["talosctl", "kubectl"]);
    assert.match(text, /talosctl is not on PATH: install talosctl \(https:\/\/www\.talos\.dev\/latest\/talos-guides\/install\/talosctl\/\) and run pulumi up again/);
    assert.match(text, /kubectl is not on PATH: install kubectl/);
    assert.match(text, /umask 077/);
    assert.match(text, /trap 'rm -rf "\$work"' EXIT/);
  });

  it("upgrades Kubernetes through the first control plane, its output redacted on the way, then waits for health", () => {
    assert.deepEqual(kubernetesUpgradeCommands(members, "1.33.4", "10m"), [
      `{ rc=0; talosctl -n 10.0.1.11 upgrade-k8s --to 1.33.4 2>&1 || rc=$?; echo "$rc" > "$work/upgrade-k8s.rc"; } | awk '${REDACT_DATA}'`,
      `[ "$(cat "$work/upgrade-k8s.rc")" = 0 ] || { echo 'talosctl upgrade-k8s --to 1.33.4 failed (output above, Secret and ConfigMap data redacted)' >&2; exit 1; }`,
      health,
    ]);
  });

  it("redacts every value under data: and stringData:, whatever the diff marker or indentation, block scalars included", () => {
    const input = [" apiVersion: v1", "-data:", "-  token-id: YWJj", "-  token-secret: c2VjcmV0", "+data:", "+  token-id: ZGVm", "+  ca.crt: |", "+    LS0tLS1CRUdJTi", " kind: Secret", " stringData: {token: x}", " metadata:", "   name: bootstrap-token-abc"].join("\n");
    const r = spawnSync("awk", [REDACT_DATA], { input, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [" apiVersion: v1", "-data:", "-  token-id: <redacted>", "-  token-secret: <redacted>", "+data:", "+  token-id: <redacted>", "+  ca.crt: <redacted>", " kind: Secret", " stringData: <redacted>", " metadata:", "   name: bootstrap-token-abc"]);
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
    assert.deepEqual(upgradeSteps(recorder).map((s) => s.name), ["oxide-upgrades-talos-minors", ...names, "oxide-upgrades-kubernetes"]);
    const urn = (name: string) => recorder.named(name).urn;
    // among the steps, each waits for exactly the one before it (its other dependencies are the configs it reads)
    const stepDeps = (name: string) => recorder.named(name).dependencies.filter((d) => d.includes("command:local:Command"));
    for (let i = 1; i < names.length; i++) assert.deepEqual(stepDeps(names[i]!), [urn(names[i - 1]!)], names[i]);
    assert.deepEqual(stepDeps("oxide-upgrades-kubernetes"), [urn("oxide-worker-2-upgrade")]);
    // the minor steps come first, then the nodes one by one
    assert.deepEqual(stepDeps("oxide-cp-1-upgrade"), [urn("oxide-upgrades-talos-minors")]);
    // before them all: the membership step, after the kubeconfig and every node's enrollment
    assert.deepEqual(stepDeps("oxide-upgrades-talos-minors"), [urn("oxide-nodes-members")]);
    const first = recorder.named("oxide-nodes-members").dependencies;
    assert.ok(first.includes(urn("oxide-cluster-kubeconfig")) && first.includes(urn("oxide-cp-1-apply")) && first.includes(urn("oxide-worker-2-apply")));
  });

  it("puts the exact command lines in each step, in order", () => {
    const image = "factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.14.1";
    for (const [name, address, role] of [["oxide-cp-2", "10.0.1.12", "controlplane"], ["oxide-worker-1", "10.0.1.61", "worker"]] as const) {
      const update = inputs(recorder.named(`${name}-upgrade`)).update!;
      const target = { talosVersion: "v1.14.1", schematicId: "", installerImage: image, timeout: "10m", members: oxideMembers };
      const upgrade = osUpgradeCommands({ name, address, role }, target);
      assert.deepEqual(update.split("\n").slice(-upgrade.length), upgrade);
      assert.equal(inputs(recorder.named(`${name}-kernel-args`)).update, kernelArgsScript({ name, address, role }, { kernelArgs: [], installerImage: image, timeout: "10m", members: oxideMembers }));
    }
    assert.ok(inputs(recorder.named("oxide-upgrades-kubernetes")).update!.endsWith(`\n${kubernetesUpgradeCommands(oxideMembers, "1.37.0", "10m").join("\n")}`));
    for (const s of upgradeSteps(recorder).filter((s) => s.name.endsWith("-upgrade"))) {
      assert.equal(inputs(s).create, `echo '${s.name.replace(/-upgrade$/, "")} ${image}: installed at creation, nothing to upgrade'`);
    }
    for (const s of kernelSteps(recorder)) assert.equal(inputs(s).create, `echo '${s.name.replace(/-kernel-args$/, "")}: kernel args installed at creation'\necho 'kernel args since a real boot: []'`);
    // the records of the last run reach the next one (kernel args, members); no other step sees its previous output
    const recording = (name: string) => name.endsWith("-kernel-args") || name === "oxide-nodes-members";
    for (const s of steps(recorder)) assert.equal(s.inputs.addPreviousOutputInEnv, recording(s.name), s.name);
    assert.equal(inputs(recorder.named("oxide-upgrades-kubernetes")).create, "echo 'Kubernetes 1.37.0: installed at creation, nothing to upgrade'");
    assert.equal(inputs(recorder.named("oxide-upgrades-talos-minors")).create, "echo 'Talos minor steps: installed at creation, nothing to upgrade'");
  });

  it("keeps what the steps print secret in state: upgrade-k8s prints manifest diffs, Secrets among them", () => {
    for (const s of steps(recorder)) assert.deepEqual(s.additionalSecretOutputs, ["stdout", "stderr"], s.name);
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
    // a patch bump within the minor: the minor steps stay as they were
    assert.deepEqual(changed, ["oxide-cp-1-upgrade", "oxide-cp-2-upgrade", "oxide-cp-3-upgrade", "oxide-worker-1-upgrade", "oxide-worker-2-upgrade"]);
    assert.match(inputs(bumped.named("oxide-cp-1-upgrade")).update!, /upgrade --image factory\.talos\.dev\/installer\/[0-9a-f]{64}:v1\.14\.2 --wait/);
  });

  it("the minor-steps step walks every node through each newest patch below the target's minor", () => {
    // (a bump within the minor leaves it unchanged: the Talos version bump test above)
    const update = inputs(recorder.named("oxide-upgrades-talos-minors")).update!;
    const stops = [...update.matchAll(/upgrade --image \S+:(v[\d.]+) /g)].map((m) => m[1]);
    assert.deepEqual([...new Set(stops)], ["v1.10.9", "v1.11.6", "v1.12.11", "v1.13.9"]);
    assert.equal(stops.length, 4 * 5);
    // at each stop: control planes one by one, then the workers
    const reads = [...update.matchAll(/^tag="\$\(talosctl -n (\S+) version/gm)].map((m) => m[1]);
    const order = [...oxideMembers.controlPlanes, ...oxideMembers.workers];
    assert.deepEqual(reads, [...order, ...order, ...order, ...order]);
  });

  it("a Kubernetes version bump changes only the Kubernetes step", async () => {
    const bumped = (await runProgram(oxide({ kubernetesVersion: "1.37.1" }), "upgrades")).recorder;
    const changed = upgradeSteps(bumped).filter((s, i) => JSON.stringify(s.inputs) !== JSON.stringify(upgradeSteps(recorder)[i]!.inputs)).map((s) => s.name);
    assert.deepEqual(changed, ["oxide-upgrades-kubernetes"]);
  });
});

describe("kernel-argument changes (seed 000's vga=792)", () => {
  let homelab: Recorder;
  before(async () => {
    homelab = (await runProgram(committedStackConfig("homelab"), "kernel")).recorder;
  });

  it("a node's new kernel arg re-runs only that node's kernel-args step, after the config rollout, as a power-cycled reinstall", async () => {
    const config = committedStackConfig("homelab");
    const nodes = JSON.parse(config["talos-cluster:nodes"]!);
    nodes[1].patches = ["tests/fixtures/patches/kernel-args.yaml"];
    const after = (await runProgram({ ...config, "talos-cluster:nodes": JSON.stringify(nodes) }, "kernel")).recorder;
    const changed = [...upgradeSteps(after), ...kernelSteps(after)].filter((s) => JSON.stringify(s.inputs) !== JSON.stringify(homelab.named(s.name).inputs)).map((s) => s.name);
    // the node's own schematic carries its args (Talos takes them from the image): its upgrade
    // step (and the minor steps, which name each node's installer) see a new image first
    assert.deepEqual(changed, ["tales-upgrades-talos-minors", "talos-worker-1-upgrade", "talos-worker-1-kernel-args"]);
    const own = `factory.talos.dev/installer/${schematicId({ extensions: ["siderolabs/qemu-guest-agent"], extraKernelArgs: ["vga=792", "mitigations=off"] })}:v1.14.1`;
    assert.notEqual(own, "factory.talos.dev/installer/ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515:v1.14.1");
    assert.ok(inputs(after.named("talos-worker-1-upgrade")).update!.includes(`upgrade --image ${own} --legacy --wait`));
    const step = after.named("talos-worker-1-kernel-args");
    const update = inputs(step).update!;
    assert.ok(update.includes(`if [ "$recorded" = '[vga=792 mitigations=off]' ]; then`));
    assert.ok(update.includes(`\ntalosctl -n 10.0.1.100 upgrade --image ${own} --legacy --reboot-mode powercycle --wait --timeout=10m\n`));
    assert.ok(update.endsWith("\necho 'kernel args since a real boot: [vga=792 mitigations=off]'"));
    // the node holds its new config (its rollout step) before the power cycle
    assert.ok(step.dependencies.includes(after.named("talos-worker-1-rollout").urn) || step.dependencies.some((d) => d.endsWith("-kernel-args")));
  });

  it("homelab's vga=792 comes from a platform patch, not the ISO: a new node records none", async () => {
    for (const name of ["talos-control-1", "talos-worker-1"]) {
      assert.match(inputs(homelab.named(`${name}-kernel-args`)).create!, /\necho 'kernel args since a real boot: \[\]'$/);
      assert.ok(inputs(homelab.named(`${name}-kernel-args`)).update!.includes(`[ "$recorded" = '[vga=792]' ]`), name);
    }
    const config = committedStackConfig("homelab");
    const factory = { ...JSON.parse(config["talos-cluster:imageFactory"]!), extraKernelArgs: ["vga=792"] };
    const baked = (await runProgram({ ...config, "talos-cluster:imageFactory": JSON.stringify(factory) }, "baked")).recorder;
    assert.match(inputs(baked.named("talos-worker-1-kernel-args")).create!, /\necho 'kernel args since a real boot: \[vga=792\]'$/);
  });
});

/**
 * The scripts themselves, run by /bin/sh against stand-ins for talosctl and kubectl that keep
 * each node's version and schematic in files and log every call (milliseconds per run).
 */
describe("upgrade scripts against talosctl/kubectl stand-ins", () => {
  const SCHEMATIC = "abc123";
  const image = (v: string) => `factory.talos.dev/installer/${SCHEMATIC}:${v}`;
  const cp1 = { name: "cp-1", address: "10.0.1.11", role: "controlplane" as const };
  const cp2 = { name: "cp-2", address: "10.0.1.12", role: "controlplane" as const };
  const w1 = { name: "w-1", address: "10.0.1.61", role: "worker" as const };
  const members = { controlPlanes: ["10.0.1.11", "10.0.1.12"], workers: ["10.0.1.61"] };
  const health = "talosctl -n 10.0.1.11 health --control-plane-nodes 10.0.1.11,10.0.1.12 --worker-nodes 10.0.1.61 --wait-timeout=10m";
  const targetAt = (v: string) => ({ talosVersion: v, schematicId: SCHEMATIC, installerImage: image(v), timeout: "10m", members });
  let dir: string;

  // Only what the scripts read back: the client version, each node's version, schematic and
  // /proc/cmdline (set by a power-cycled upgrade to the args in $STANDIN_DIR/<node>.args).
  const STAND_IN = `#!/bin/sh
tool="$(basename "$0")"
printf '%s\\n' "$tool $*" >> "$STANDIN_DIR/log"
# none of these scripts may drain or cordon: kubectl has nothing to do here
[ "$tool" = talosctl ] || { echo "kubectl stand-in: not expected here: $*" >&2; exit 1; }
if [ "$1 $2" = "version --client" ]; then printf 'Client:\\n\\tTalos %s\\n' "$(cat "$STANDIN_DIR/client" 2>/dev/null || echo v1.13.0)"; exit 0; fi
node="$2"; shift 2
case "$1" in
  version) printf 'Client:\\n\\tTalos v1.13.0\\nServer:\\n\\tNODE:        %s\\n\\tTag:         %s\\n' "$node" "$(cat "$STANDIN_DIR/$node.version")";;
  get) printf 'NODE NAMESPACE TYPE ID VERSION NAME\\n%s runtime ExtensionStatus 0 1 schematic %s\\n' "$node" "$(cat "$STANDIN_DIR/$node.schematic")";;
  read) cat "$STANDIN_DIR/$node.cmdline" 2>/dev/null;;
  upgrade) while [ $# -gt 0 ]; do [ "$1" = --image ] && img="$2"; [ "$1" = powercycle ] && cp "$STANDIN_DIR/$node.args" "$STANDIN_DIR/$node.cmdline" 2>/dev/null; shift; done
    printf '%s' "\${img##*:}" > "$STANDIN_DIR/$node.version"; s="\${img%:*}"; printf '%s' "\${s##*/}" > "$STANDIN_DIR/$node.schematic";;
  etcd|health) ;;
  *) echo "talosctl stand-in: unknown command \"$1\"" >&2; exit 1;;
esac
`;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-upgrade-scripts-"));
    for (const tool of ["talosctl", "kubectl"]) fs.writeFileSync(path.join(dir, tool), STAND_IN, { mode: 0o755 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Nodes at these versions (schematic abc123), then the script; what it logged, printed and exited with. */
  function run(script: string, versions: Record<string, string>, previousStdout?: string, files: Record<string, string> = {}) {
    for (const f of fs.readdirSync(dir).filter((f) => f !== "talosctl" && f !== "kubectl")) fs.rmSync(path.join(dir, f));
    for (const [address, v] of Object.entries(versions)) {
      fs.writeFileSync(path.join(dir, `${address}.version`), v);
      fs.writeFileSync(path.join(dir, `${address}.schematic`), SCHEMATIC);
    }
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    const env: Record<string, string> = { PATH: `${dir}:/usr/bin:/bin`, STANDIN_DIR: dir, TALOS_CLUSTER_TALOSCONFIG: "t", TALOS_CLUSTER_KUBECONFIG: "k" };
    if (previousStdout !== undefined) env.PULUMI_COMMAND_STDOUT = previousStdout;
    const result = spawnSync("/bin/sh", ["-c", script], { env, encoding: "utf8" });
    const log = fs.existsSync(path.join(dir, "log")) ? fs.readFileSync(path.join(dir, "log"), "utf8").split("\n").filter(Boolean) : [];
    const now = Object.fromEntries(Object.keys(versions).map((a) => [a, fs.readFileSync(path.join(dir, `${a}.version`), "utf8")]));
    return { log, stdout: result.stdout.trim().split("\n"), stderr: result.stderr.trim(), status: result.status, versions: now };
  }
  const client = "talosctl version --client --short";
  const reads = (n: { address: string }) => [`talosctl -n ${n.address} version --short`];

  it("refuses a talosctl older than v1.13, whose upgrade does not drain, before touching any node", () => {
    const r = run(osUpgradeScript(cp1, targetAt("v1.12.4")), { "10.0.1.11": "v1.12.3" }, undefined, { client: "v1.12.6" });
    assert.equal(r.status, 127);
    assert.equal(r.stderr, "talosctl 1.12 is too old: the day-2 steps of a Talos 1.12 cluster need talosctl v1.13 or newer (talosctl's upgrade-k8s refuses nodes of a minor it does not know, and from v1.13 on its upgrade and reboot --drain cordon, drain and uncordon the node themselves); install talosctl v1.13 or newer and run pulumi up again");
    assert.deepEqual(r.log, [client]);
  });

  it("every day-2 script refuses a talosctl below the cluster's minor (v1.13.0 on Talos v1.14.1) before touching any node", () => {
    const t = targetAt("v1.14.1");
    const scripts: Record<string, string> = {
      upgrade: osUpgradeScript(cp1, t),
      "minor steps": minorStepsScript([cp1, w1], minorStopsFor("v1.14.1", t.installerImage), members, "10m", "v1.14.1"),
      "kernel args": kernelArgsScript(cp1, { kernelArgs: ["vga=792"], installerImage: t.installerImage, timeout: "10m", members }),
      kubernetes: kubernetesUpgradeScript(members, "1.37.0", "10m", "v1.14.1"),
      rollout: configRolloutScript(cp1, members, "10m", "v1.14.1"),
      removal: removalScript([cp1, w1], [], { graceful: true, reset: true, reboot: false }, "10m", "v1.14.1"),
    };
    const why = "the day-2 steps of a Talos 1.14 cluster need talosctl v1.14 or newer (talosctl's upgrade-k8s refuses nodes of a minor it does not know, and from v1.13 on its upgrade and reboot --drain cordon, drain and uncordon the node themselves); install talosctl v1.14 or newer and run pulumi up again";
    for (const [what, script] of Object.entries(scripts)) {
      const r = run(script, { "10.0.1.11": "v1.13.9", "10.0.1.61": "v1.13.9" }, undefined, { client: "v1.13.0" });
      assert.equal(r.status, 127, what);
      assert.equal(r.stderr, `talosctl 1.13 is too old: ${why}`, what);
      // the client version is the only call: no node was read, let alone touched
      assert.deepEqual(r.log, [client], what);
      assert.deepEqual(r.versions, { "10.0.1.11": "v1.13.9", "10.0.1.61": "v1.13.9" }, what);
    }
    // a client it cannot read is refused the same way; talosctl v1.14.1 (what setup builds) and newer pass
    assert.equal(run(scripts.upgrade!, { "10.0.1.11": "v1.14.1" }, undefined, { client: "unknown" }).stderr, `talosctl of unknown version is too old: ${why}`);
    for (const ok of ["v1.14.1", "v1.15.0"]) {
      const r = run(scripts.upgrade!, { "10.0.1.11": "v1.14.1" }, undefined, { client: ok });
      assert.equal(r.status, 0, `${ok}: ${r.stderr}`);
    }
  });

  it("skips a node at the target version and schematic, without touching it", () => {
    const r = run(osUpgradeScript(cp1, targetAt("v1.12.3")), { "10.0.1.11": "v1.12.3" });
    assert.equal(r.status, 0);
    assert.deepEqual(r.log, [client, ...reads(cp1), "talosctl -n 10.0.1.11 get extensions"]);
    assert.deepEqual(r.stdout, [`cp-1 already runs ${image("v1.12.3")}; skipped`]);
  });

  it("a version bump upgrades the Talos way (kexec): no kubectl at all, Talos drains and uncordons", () => {
    const r = run(osUpgradeScript(w1, targetAt("v1.12.4")), { "10.0.1.61": "v1.12.3" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.log, [client, ...reads(w1), `talosctl -n 10.0.1.61 upgrade --image ${image("v1.12.4")} --wait --timeout=10m`, health]);
    assert.deepEqual(r.versions, { "10.0.1.61": "v1.12.4" });
  });

  it("a kernel-args step skips args its record holds, else power-cycles and records only once /proc/cmdline shows them", () => {
    const kt = { kernelArgs: ["vga=792"], installerImage: image("v1.12.3"), timeout: "10m", members };
    const skipped = run(kernelArgsScript(cp1, kt), { "10.0.1.11": "v1.12.3" }, "…\nkernel args since a real boot: [vga=792]");
    assert.equal(skipped.status, 0);
    assert.deepEqual(skipped.log, [client]);
    assert.deepEqual(skipped.stdout, ["cp-1 has had [vga=792] since a real boot; skipped", "kernel args since a real boot: [vga=792]"]);
    for (const previous of ["w-1: kernel args installed at creation\nkernel args since a real boot: []", undefined]) {
      const r = run(kernelArgsScript(cp1, kt), { "10.0.1.11": "v1.12.3" }, previous, { "10.0.1.11.args": "console=tty0 vga=792 talos.platform=metal" });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.log, [
        client,
        "talosctl -n 10.0.1.11 etcd forfeit-leadership",
        `talosctl -n 10.0.1.11 upgrade --image ${image("v1.12.3")} --legacy --reboot-mode powercycle --wait --timeout=10m`,
        "talosctl -n 10.0.1.11 read /proc/cmdline",
        health,
      ]);
      assert.deepEqual(r.stdout, [`cp-1: kernel args ${previous ? "[]" : "[unknown]"} -> [vga=792]: reinstalling ${image("v1.12.3")} with a power cycle`, "kernel args since a real boot: [vga=792]"]);
    }
    // the install did not take the arg (a UEFI install takes args from the schematic): no record, no gate
    const missing = run(kernelArgsScript(cp1, kt), { "10.0.1.11": "v1.12.3" }, "kernel args since a real boot: []", { "10.0.1.11.args": "console=tty0 talos.platform=metal" });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^cp-1 booted without the kernel arg vga=792 \(its \/proc\/cmdline: console=tty0 talos\.platform=metal \): the install did not take it; on UEFI/);
    assert.ok(!missing.stdout.some((l) => l.startsWith("kernel args since a real boot")));
    assert.ok(!missing.log.includes(health));
  });

  it("a node's step refuses, untouched, a node more than one minor below the target", () => {
    const r = run(osUpgradeScript(w1, targetAt("v1.13.2")), { "10.0.1.61": "v1.11.3" });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "w-1 runs v1.11.3, more than one minor below v1.13.2: Talos upgrades go one minor at a time; set cluster.talosVersion to each of v1.12.11, v1.13.2 in turn and run up after each");
    assert.deepEqual(r.log, [client, ...reads(w1)]);
  });

  it("steps a cluster from 1.10 to 1.13 one minor at a time: every node through each newest patch, control planes first, health after each", () => {
    const stops = minorStopsFor("v1.13.2", image("v1.13.2"));
    assert.deepEqual(stops, [
      { minor: 10, version: "v1.10.9", installerImage: image("v1.10.9") },
      { minor: 11, version: "v1.11.6", installerImage: image("v1.11.6") },
      { minor: 12, version: "v1.12.11", installerImage: image("v1.12.11") },
    ]);
    const r = run(minorStepsScript([w1, cp1, cp2], stops, members, "10m", "v1.13.2"), { "10.0.1.11": "v1.10.5", "10.0.1.12": "v1.11.6", "10.0.1.61": "v1.10.5" });
    assert.equal(r.status, 0, r.stderr);
    const up = (n: typeof cp1 | typeof w1, v: string) => osUpgradeCommands(n, { ...targetAt(v), schematicId: "" });
    assert.deepEqual(r.log, [
      client,
      // the cluster healthy first (a node enrolled in the same up has joined)
      health,
      // 1.10: everyone is already there
      ...reads(cp1), ...reads(cp2), ...reads(w1),
      // 1.11: cp-1 and w-1 (cp-2 already runs v1.11.6)
      ...reads(cp1), ...up(cp1, "v1.11.6"), ...reads(cp2), ...reads(w1), ...up(w1, "v1.11.6"),
      // 1.12: all three, control planes one by one first
      ...reads(cp1), ...up(cp1, "v1.12.11"), ...reads(cp2), ...up(cp2, "v1.12.11"), ...reads(w1), ...up(w1, "v1.12.11"),
    ]);
    assert.deepEqual(r.versions, { "10.0.1.11": "v1.12.11", "10.0.1.12": "v1.12.11", "10.0.1.61": "v1.12.11" });
    assert.deepEqual(r.stdout, ["cp-1: v1.10.5 -> v1.11.6 (Talos upgrades go one minor at a time)", "w-1: v1.10.5 -> v1.11.6 (Talos upgrades go one minor at a time)", "cp-1: v1.11.6 -> v1.12.11 (Talos upgrades go one minor at a time)", "cp-2: v1.11.6 -> v1.12.11 (Talos upgrades go one minor at a time)", "w-1: v1.11.6 -> v1.12.11 (Talos upgrades go one minor at a time)"]);
    // then each node's own step takes it one minor further, to the target
    const last = run(osUpgradeScript(cp1, targetAt("v1.13.2")), { "10.0.1.11": "v1.12.11" });
    assert.equal(last.status, 0, last.stderr);
    assert.deepEqual(last.versions, { "10.0.1.11": "v1.13.2" });
  });

  it("the minor steps refuse a node too old to step from, and one whose version cannot be read, before touching it", () => {
    const stops = minorStopsFor("v1.12.0", image("v1.12.0"));
    const old = run(minorStepsScript([cp1], stops, members, "10m", "v1.12.0"), { "10.0.1.11": "v1.8.3" });
    assert.equal(old.status, 1);
    assert.equal(old.stderr, "cp-1 runs v1.8.3, more than one minor below v1.10.9: upgrade it by hand one minor at a time (talosctl upgrade) to v1.10.9, then run up again");
    assert.deepEqual(old.log, [client, health, ...reads(cp1)]);
    const unreadable = run(minorStepsScript([cp1], stops, members, "10m", "v1.12.0"), { "10.0.1.11": "" });
    assert.equal(unreadable.status, 1);
    assert.equal(unreadable.stderr, "cp-1: cannot read the Talos version it runs (talosctl -n 10.0.1.11 version), so it cannot be stepped to v1.10.9");
  });

  it("a bump within the oldest minor has no stops", () => {
    assert.deepEqual(minorStopsFor("v1.10.7", image("v1.10.7")), []);
    assert.equal(minorStepsScript([cp1], [], members, "10m", "v1.12.0"), "echo 'no Talos minor below the target: nothing to step through'");
  });
});

describe("Talos minor steps in the stacks", () => {
  it("pins the newest patch of every accepted minor, each of its own minor; the newest is the default version", () => {
    assert.deepEqual(Object.keys(TALOS_NEWEST_PATCH), TALOS_MINORS);
    for (const [minor, version] of Object.entries(TALOS_NEWEST_PATCH)) assert.match(version, new RegExp(`^v${minor.replace(".", "\\.")}\\.\\d+$`));
    assert.equal(TALOS_NEWEST_PATCH[TALOS_MINORS[TALOS_MINORS.length - 1]!], pins.cluster.talosVersion);
    assert.deepEqual(minorSequence(10, "v1.13.2"), ["v1.11.6", "v1.12.11", "v1.13.2"]);
    assert.deepEqual(minorSequence(12, "v1.13.2"), ["v1.13.2"]);
    assert.equal(installerAt("factory.talos.dev/installer/abc:v1.14.1", "v1.12.11"), "factory.talos.dev/installer/abc:v1.12.11");
  });
});

describe("the upgrade command lines against the pinned talosctl", () => {
  it("every talosctl invocation of the scripts parses with the pinned talosctl v1.14.1 (.tools/bin): it fails only for want of a cluster", () => {
    const bin = path.join(__dirname, "../../.tools/bin/talosctl");
    const node = { name: "cp-1", address: "10.0.1.11", role: "controlplane" as const };
    const members = { controlPlanes: ["10.0.1.11"], workers: ["10.0.1.61"] };
    const target = { talosVersion: "v1.14.1", schematicId: "abc", installerImage: "factory.talos.dev/installer/abc:v1.14.1", timeout: "10m", members };
    const settings = { graceful: true, reset: true, reboot: false };
    const scripts = [
      osUpgradeScript(node, target),
      minorStepsScript([node], minorStopsFor("v1.12.0", target.installerImage), members, "10m", "v1.14.1"),
      kernelArgsScript(node, { kernelArgs: ["vga=792"], installerImage: target.installerImage, timeout: "10m", members }),
      kubernetesUpgradeScript(members, "1.37.1", "10m", "v1.14.1"),
      configRolloutScript(node, members, "10m", "v1.14.1"),
      // the removal script's commands with the shell variables a run fills in
      removalScript([node], [], settings, "10m", "v1.14.1").replace(/"\$addr"/g, "10.0.1.13").replace(/"\$id"/g, "a200").replace(/"\$gate_cps" \$\{gate_workers:\+--worker-nodes "\$gate_workers"\}/g, "10.0.1.11 --worker-nodes 10.0.1.61"),
      removalScript([node], [], { ...settings, reset: false }, "10m", "v1.14.1").replace(/"\$addr"/g, "10.0.1.13"),
      destroyScript([node], settings, "10m"),
    ];
    const lines = new Set(scripts.flatMap((s) => [...s.matchAll(/talosctl (-n [^|"'()\n]+?)(?: 2>\/dev\/null|;;|;| \||\n|$)/g)].map((m) => m[1]!.trim())));
    lines.add('-n 10.0.1.11 apply-config --file machineconfig --mode=auto --dry-run');
    lines.add('-n 10.0.1.11 apply-config --file machineconfig --mode=no-reboot');
    lines.add('-n 10.0.1.11 apply-config --file machineconfig --mode=staged');
    assert.deepEqual([...lines].sort(), [
      "-n 10.0.1.11 apply-config --file machineconfig --mode=auto --dry-run",
      "-n 10.0.1.11 apply-config --file machineconfig --mode=no-reboot",
      "-n 10.0.1.11 apply-config --file machineconfig --mode=staged",
      "-n 10.0.1.11 etcd forfeit-leadership",
      "-n 10.0.1.11 etcd members",
      "-n 10.0.1.11 etcd remove-member a200",
      "-n 10.0.1.11 get extensions",
      "-n 10.0.1.11 health --control-plane-nodes 10.0.1.11 --worker-nodes 10.0.1.61 --wait-timeout=10m",
      "-n 10.0.1.11 read /proc/cmdline",
      "-n 10.0.1.11 reboot --drain --wait --timeout=10m",
      "-n 10.0.1.11 reset --graceful=false --reboot=false --wait --timeout=10m",
      "-n 10.0.1.11 upgrade --image factory.talos.dev/installer/abc:v1.10.9 --wait --timeout=10m",
      "-n 10.0.1.11 upgrade --image factory.talos.dev/installer/abc:v1.11.6 --wait --timeout=10m",
      "-n 10.0.1.11 upgrade --image factory.talos.dev/installer/abc:v1.14.1 --legacy --reboot-mode powercycle --wait --timeout=10m",
      "-n 10.0.1.11 upgrade --image factory.talos.dev/installer/abc:v1.14.1 --wait --timeout=10m",
      "-n 10.0.1.11 upgrade-k8s --to 1.37.1 2>&1",
      "-n 10.0.1.11 version --short",
      "-n 10.0.1.13 etcd leave",
      "-n 10.0.1.13 reset --graceful=true --reboot=false --wait --timeout=10m",
      "-n 10.0.1.13 shutdown --wait --timeout=10m",
    ]);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-talosctl-"));
    fs.writeFileSync(path.join(home, "machineconfig"), "version: v1alpha1\n");
    try {
      for (const args of [...lines].map((l) => l.replace(/ 2>&1$/, "")).concat("-n 10.0.1.11 upgrade --image x --reboot-mode nope")) {
        const r = spawnSync(bin, args.split(" "), { cwd: home, env: { HOME: home, TALOSCONFIG: path.join(home, "none") }, encoding: "utf8" });
        if (args.endsWith("nope")) {
          assert.equal(r.stderr.trim().split("\n")[0], 'invalid argument "nope" for "-m, --reboot-mode" flag: must be one of [default force powercycle]', args);
          continue;
        }
        // v1.14 prefixes the error by the step that needed the client (e.g. "10.0.1.11: error
        // getting server version: "); a flag or command it did not know would fail before that
        const errors = r.stderr.trim().split("\n").filter((l) => l.startsWith("error") || /^\S+: error/.test(l));
        assert.equal(errors.length, 1, `${args}: ${r.stderr}`);
        assert.match(errors[0]!, /(^|: )error constructing client: failed to determine endpoints$/, args);
        assert.equal(r.status, 1, args);
      }
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
