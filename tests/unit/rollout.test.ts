// Day 2 without downtime, under mocks: the config contract, upgrades before config rollouts,
// one control plane at a time and workers in batches, parallel enrollment of a new cluster, and
// previews that never dial a node.
import assert from "node:assert/strict";
import YAML from "yaml";
import pins from "../../toolchain/versions.json";
import { configApplyCommands, configRolloutScript, rolloutBatches } from "../../components/day2/rollout-plan";
import { healthCommand } from "../../components/day2/upgrade-plan";
import { creationContract } from "../../config/versions";
import { ENROLLMENT_ONLY } from "../../components/talos/talos-node";
import { Recorder, RecordedResource, runProgram, runValidProgram } from "../support/mocks";
import { committedStackConfig, hetznerStackConfig } from "../support/stack-files";
import { testSecretsBundle } from "../support/test-pki";

/** The next patch release of a version: a bump within the same minor. */
const nextPatch = (v: string) => v.replace(/\d+$/, (p) => String(Number(p) + 1));
const TALOS = pins.cluster.talosVersion;
const TALOS_NEXT = nextPatch(TALOS);
const K8S_NEXT = nextPatch(pins.cluster.kubernetesVersion);
const escaped = (v: string) => v.replace(/\./g, "\\.");

const COMMAND = "command:local:Command";
const APPLY = "talos:machine/configurationApply:ConfigurationApply";
const GET_CONFIGURATION = "talos:machine/getConfiguration:getConfiguration";
const GET_HEALTH = "talos:cluster/getHealth:getHealth";
/** Resources whose creation talks to a node; the command steps of a new cluster only record their target. */
const DIALS_ON_CREATE = new Set([APPLY, "talos:machine/bootstrap:Bootstrap", "talos:cluster/kubeconfig:Kubeconfig"]);

const oxide = (cluster: Record<string, unknown> = {}) => hetznerStackConfig(undefined, cluster);
const OXIDE = ["oxide-cp-1", "oxide-cp-2", "oxide-cp-3", "oxide-worker-1", "oxide-worker-2"];

/** A bare-metal stack with `cps` control planes and `workers` workers on 10.0.1.0/24. */
function bareMetal(cps: number, workers: number): Record<string, string> {
  const node = (role: string, i: number, address: string) => ({ name: `${role === "controlplane" ? "cp" : "w"}-${i}`, role, platform: "bare-metal", address });
  const nodes = [
    ...Array.from({ length: cps }, (_, i) => node("controlplane", i + 1, `10.0.1.${11 + i}`)),
    ...Array.from({ length: workers }, (_, i) => node("worker", i + 1, `10.0.1.${101 + i}`)),
  ];
  // Several control planes need an endpoint that is no node's own (config/endpoint-checks.ts).
  const cluster = { name: "big", ...(cps > 1 ? { endpoint: "https://api.big.internal:6443" } : {}) };
  return { "talos-cluster:cluster": JSON.stringify(cluster), "talos-cluster:nodes": JSON.stringify(nodes) };
}

/** The most node-dialling resources on any dependency path: how long creation takes, in Talos API calls. */
function dialsOnCriticalPath(recorder: Recorder): number {
  const byUrn = new Map(recorder.resources.map((r) => [r.urn, r]));
  const memo = new Map<string, number>();
  const depth = (r: RecordedResource): number => {
    if (!memo.has(r.urn)) {
      const before = Math.max(0, ...r.dependencies.map((d) => byUrn.get(d)).filter((d) => d !== undefined).map(depth));
      memo.set(r.urn, before + (DIALS_ON_CREATE.has(r.type) ? 1 : 0));
    }
    return memo.get(r.urn)!;
  };
  return Math.max(...recorder.resources.map(depth));
}

const stepDeps = (recorder: Recorder, name: string) => recorder.named(name).dependencies.filter((d) => d.includes(`$${COMMAND}::`)).sort();
const urns = (recorder: Recorder, names: string[]) => names.map((n) => recorder.named(n).urn).sort();

describe("rollout plan", () => {
  const nodes = [
    { name: "w-1", address: "10.0.1.61", role: "worker" as const },
    { name: "cp-1", address: "10.0.1.11", role: "controlplane" as const },
    { name: "w-2", address: "10.0.1.62", role: "worker" as const },
    { name: "cp-2", address: "10.0.1.12", role: "controlplane" as const },
    { name: "w-3", address: "10.0.1.63", role: "worker" as const },
  ];
  const members = { controlPlanes: ["10.0.1.11", "10.0.1.12"], workers: ["10.0.1.61", "10.0.1.62", "10.0.1.63"] };

  it("puts each control plane in its own batch, then workers in batches of maxUnavailableWorkers", () => {
    const names = (max: number) => rolloutBatches(nodes, max).map((b) => b.map((n) => n.name));
    assert.deepEqual(names(1), [["cp-1"], ["cp-2"], ["w-1"], ["w-2"], ["w-3"]]);
    assert.deepEqual(names(2), [["cp-1"], ["cp-2"], ["w-1", "w-2"], ["w-3"]]);
    assert.deepEqual(names(5), [["cp-1"], ["cp-2"], ["w-1", "w-2", "w-3"]]);
    assert.throws(() => rolloutBatches(nodes, 0), /maxUnavailableWorkers must be a positive integer, got 0/);
  });

  it("asks Talos first (a dry run) whether the change needs a reboot: live when not, else staged and rebooted by talosctl with its own drain; then the gate", () => {
    assert.deepEqual(configApplyCommands(nodes[1]!, members, "10m"), [
      `dry="$(talosctl -n 10.0.1.11 apply-config --file "$work/machineconfig" --mode=auto --dry-run 2>&1)" || { printf '%s\\n' "$dry" >&2; echo 'cp-1: Talos refused the new config (dry run above); nothing was changed' >&2; exit 1; }`,
      `case "$dry" in *'Applied configuration without a reboot'*)`,
      `  talosctl -n 10.0.1.11 apply-config --file "$work/machineconfig" --mode=no-reboot`,
      "  echo 'cp-1: config applied without a reboot';;",
      "*)",
      "  echo 'cp-1: the new config needs a reboot: staged, then a drained reboot'",
      "  talosctl -n 10.0.1.11 etcd forfeit-leadership",
      `  talosctl -n 10.0.1.11 apply-config --file "$work/machineconfig" --mode=staged`,
      "  talosctl -n 10.0.1.11 reboot --drain --wait --timeout=10m;;",
      "esac",
      "talosctl -n 10.0.1.11 health --control-plane-nodes 10.0.1.11,10.0.1.12 --worker-nodes 10.0.1.61,10.0.1.62,10.0.1.63 --wait-timeout=10m",
    ]);
    // no kubectl cordon, drain or uncordon: talosctl owns them (a kubectl cordon is one Talos never lifts)
    assert.ok(!configApplyCommands(nodes[0]!, members, "10m").some((c) => /kubectl/.test(c)));
    assert.equal(healthCommand({ controlPlanes: ["10.0.1.11"], workers: [] }, "5m"), "talosctl -n 10.0.1.11 health --control-plane-nodes 10.0.1.11 --wait-timeout=5m");
  });

  it("writes the config from the secret environment into a private file, never onto a command line", () => {
    const script = configRolloutScript(nodes[0]!, members, "10m", "v1.14.1");
    assert.match(script, /umask 077\n/);
    assert.match(script, /printf '%s' "\$TALOS_CLUSTER_MACHINECONFIG" > "\$work\/machineconfig"\n/);
    assert.ok(script.indexOf("umask 077") < script.indexOf("TALOS_CLUSTER_MACHINECONFIG"));
  });
});

describe("a new cluster enrolls every node in parallel", () => {
  it("no apply waits for another apply or any day-2 step, and bootstrap waits only for the first control plane", async () => {
    const { recorder } = await runValidProgram(oxide(), "create");
    const applies = recorder.ofType(APPLY);
    assert.equal(applies.length, 5);
    const forbidden = new Set([...applies.map((a) => a.urn), ...recorder.ofType(COMMAND).map((c) => c.urn)]);
    for (const apply of applies) assert.deepEqual(apply.dependencies.filter((d) => forbidden.has(d)), [], apply.name);
    const bootstrap = recorder.named("oxide-cluster-bootstrap");
    assert.deepEqual(bootstrap.dependencies.filter((d) => d.includes(APPLY)), [recorder.named("oxide-cp-1-apply").urn]);
  });

  it("the creation's critical path does not grow with the node count: apply, bootstrap, kubeconfig", async () => {
    const paths: Record<string, number> = {};
    for (const [cps, workers] of [[1, 1], [3, 2], [5, 20]] as const) {
      const { recorder } = await runValidProgram(bareMetal(cps, workers), `size-${cps}-${workers}`);
      assert.equal(recorder.ofType(APPLY).length, cps + workers);
      paths[`${cps}+${workers}`] = dialsOnCriticalPath(recorder);
    }
    assert.deepEqual(paths, { "1+1": 3, "3+2": 3, "5+20": 3 });
  });

  it("every day-2 step of a new node only records its target when created", async () => {
    const { recorder } = await runValidProgram(oxide(), "create");
    // day-2 steps only: the add-ons' post-install checks (tests/unit/gateway-addons.test.ts) run on creation
    for (const step of recorder.ofType(COMMAND).filter((c) => !c.name.includes("-addons-checks-"))) {
      const expected = step.name.endsWith("-rollout")
        ? /^echo 'oxide-[a-z0-9-]+: config applied at enrollment, nothing to roll out'$/
        : step.name.endsWith("-kernel-args")
          ? /^echo 'oxide-[a-z0-9-]+: kernel args installed at creation'\necho 'kernel args since a real boot: \[\]'$/
          : step.name === "oxide-nodes-members"
            ? /^echo 'cluster members: oxide-cp-1=10\.0\.1\.11=controlplane .* oxide-worker-2=10\.0\.1\.62=worker'$/
            : /^echo '.*: installed at creation, nothing to upgrade'$/;
      assert.match(String(step.inputs.create), expected, step.name);
    }
  });

  it("the enrollment apply is never updated: later configs go through the rollout", async () => {
    const { recorder } = await runValidProgram(oxide(), "create");
    for (const apply of recorder.ofType(APPLY)) assert.deepEqual(apply.ignoreChanges, [...ENROLLMENT_ONLY], apply.name);
    assert.deepEqual(ENROLLMENT_ONLY, ["machineConfigurationInput", "configPatches", "applyMode", "endpoint", "clientConfiguration", "onDestroy", "timeouts"]);
  });
});

describe("an existing cluster: upgrades, then Kubernetes, then config rollouts", () => {
  let recorder: Recorder;
  before(async () => {
    recorder = (await runValidProgram(oxide(), "update")).recorder;
  });

  it("rolls out one control plane at a time after the Kubernetes upgrade, then the workers one by one", () => {
    const rollout = OXIDE.map((n) => `${n}-rollout`);
    assert.deepEqual(stepDeps(recorder, rollout[0]!), urns(recorder, ["oxide-upgrades-kubernetes"]));
    for (let i = 1; i < rollout.length; i++) assert.deepEqual(stepDeps(recorder, rollout[i]!), urns(recorder, [rollout[i - 1]!]), rollout[i]);
    // the Kubernetes step waits for the last node's OS upgrade
    assert.deepEqual(stepDeps(recorder, "oxide-upgrades-kubernetes"), urns(recorder, ["oxide-worker-2-upgrade"]));
  });

  it("with maxUnavailableWorkers: 2 both workers go together, after the last control plane", async () => {
    const batched = (await runValidProgram(oxide({ rollout: { maxUnavailableWorkers: 2 } }), "batched")).recorder;
    for (const w of ["oxide-worker-1-rollout", "oxide-worker-2-rollout"]) assert.deepEqual(stepDeps(batched, w), urns(batched, ["oxide-cp-3-rollout"]), w);
  });

  it("each rollout step carries exactly its own node's config, secret", () => {
    for (const name of OXIDE) {
      const step = recorder.named(`${name}-rollout`);
      assert.deepEqual(step.secretInputs, ["environment"]);
      const env = step.inputs.environment as Record<string, string>;
      assert.deepEqual(Object.keys(env).sort(), ["TALOS_CLUSTER_KUBECONFIG", "TALOS_CLUSTER_MACHINECONFIG", "TALOS_CLUSTER_TALOSCONFIG"]);
      assert.match(env.TALOS_CLUSTER_MACHINECONFIG!, /^rendered (controlplane|worker) config \(\d+ patches, [0-9a-f]{8}\)$/);
      assert.doesNotMatch(String(step.inputs.update), /rendered|talosconfig of|kubeconfig of/);
    }
  });

  it("kernel-args changes come after the last rollout step, one node at a time", () => {
    const kernel = OXIDE.map((n) => `${n}-kernel-args`);
    assert.deepEqual(stepDeps(recorder, kernel[0]!), urns(recorder, ["oxide-worker-2-rollout"]));
    for (let i = 1; i < kernel.length; i++) assert.deepEqual(stepDeps(recorder, kernel[i]!), urns(recorder, [kernel[i - 1]!]), kernel[i]);
  });

  it("the first health gate waits for the last kernel-args step, and the CRDs for the gate", () => {
    const [ready] = recorder.invokesOf(GET_HEALTH);
    assert.equal(ready!.inputs.skipKubernetesChecks, true);
    const rollouts = OXIDE.flatMap((n) => [recorder.named(`${n}-rollout`).seq, recorder.named(`${n}-kernel-args`).seq]);
    assert.ok(ready!.seq > Math.max(...rollouts), `health at ${ready!.seq}, rollouts at ${rollouts}`);
    const crds = recorder.resources.find((r) => r.type === "kubernetes:yaml/v2:ConfigFile")!;
    assert.ok(crds.seq > ready!.seq, `CRDs at ${crds.seq}`);
  });
});

describe("version bumps on an existing cluster", () => {
  /** The ignoreChanges of each resource `changed` found. */
  let ignored: Record<string, string[]> = {};
  /** Resources whose inputs differ between two runs, with the keys that differ. */
  function changed(a: Recorder, b: Recorder): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    ignored = {};
    for (const r of b.resources) {
      const old = a.resources.find((x) => x.urn === r.urn);
      if (!old) continue;
      const keys = [...new Set([...Object.keys(old.inputs), ...Object.keys(r.inputs)])].filter((k) => JSON.stringify(old.inputs[k]) !== JSON.stringify(r.inputs[k]));
      if (keys.length) {
        out[r.name] = keys.sort();
        ignored[r.name] = r.ignoreChanges;
      }
    }
    return out;
  }
  /** Every resource that (transitively) waits for `urn`. */
  function after(recorder: Recorder, urn: string): Set<string> {
    const out = new Set<string>();
    let grew = true;
    while (grew) {
      grew = false;
      for (const r of recorder.resources) {
        if (!out.has(r.name) && r.dependencies.some((d) => d === urn || out.has(recorder.resources.find((x) => x.urn === d)?.name ?? ""))) {
          out.add(r.name);
          grew = true;
        }
      }
    }
    return out;
  }

  it("a Kubernetes bump changes no apply before upgrade-k8s: only the Kubernetes step and the rollouts after it", async () => {
    const state = { "oxide-config-secrets": { talosVersion: TALOS } };
    const before = (await runValidProgram(oxide(), "k8s", { state })).recorder;
    const bumped = (await runValidProgram(oxide({ kubernetesVersion: K8S_NEXT }), "k8s", { state })).recorder;
    const diff = changed(before, bumped);
    const laterThanK8s = after(bumped, bumped.named("oxide-upgrades-kubernetes").urn);
    // the enrollment applies and the servers' user data see the new config but ignore it: nothing reaches a node through them
    for (const name of OXIDE) assert.deepEqual(diff[`${name}-apply`], ["machineConfigurationInput"]);
    for (const name of OXIDE) assert.deepEqual(diff[name], ["userData"]);
    const effective = Object.keys(diff).filter((n) => !diff[n]!.every((k) => ignored[n]!.includes(k)));
    assert.deepEqual(effective.sort(), ["oxide-upgrades-kubernetes", ...OXIDE.map((n) => `${n}-rollout`)].sort());
    for (const name of OXIDE) assert.ok(laterThanK8s.has(`${name}-rollout`), name);
  });

  it("a Talos bump keeps the contract from state: every rendered config is identical except machine.install.image", async () => {
    const state = { "oxide-config-secrets": { talosVersion: TALOS } };
    const renders = async (talosVersion: string) => {
      const { recorder } = await runValidProgram(oxide({ talosVersion }), "talos", { state });
      return recorder.invokesOf(GET_CONFIGURATION).map((c) => c.inputs);
    };
    const before = await renders(TALOS);
    const bumped = await renders(TALOS_NEXT);
    assert.equal(bumped.length, before.length);
    for (let i = 0; i < before.length; i++) {
      assert.equal(bumped[i]!.talosVersion, TALOS);
      const differing = (bumped[i]!.configPatches as string[])
        .map((p, j) => [YAML.parse((before[i]!.configPatches as string[])[j]!), YAML.parse(p)])
        .filter(([a, b]) => JSON.stringify(a) !== JSON.stringify(b));
      assert.equal(differing.length, 1);
      assert.match(differing[0]![0].machine.install.image, new RegExp(`:${escaped(TALOS)}$`));
      assert.match(differing[0]![1].machine.install.image, new RegExp(`:${escaped(TALOS_NEXT)}$`));
      assert.deepEqual(Object.keys(differing[0]![1]), ["machine"]);
      assert.deepEqual(Object.keys(differing[0]![1].machine), ["install"]);
      assert.deepEqual(Object.keys(differing[0]![1].machine.install), ["image"]);
      assert.deepEqual({ ...bumped[i], configPatches: undefined }, { ...before[i], configPatches: undefined });
    }
  });

  it("an explicit configContract moves the contract; a new cluster starts at its talosVersion capped at the generator's machinery", async () => {
    const state = { "oxide-config-secrets": { talosVersion: TALOS } };
    const moved = (await runValidProgram(oxide({ talosVersion: TALOS_NEXT, configContract: TALOS_NEXT }), "moved", { state })).recorder;
    for (const c of moved.invokesOf(GET_CONFIGURATION)) assert.equal(c.inputs.talosVersion, TALOS_NEXT);
    const fresh = (await runValidProgram(oxide(), "fresh")).recorder;
    // what the generator really produces (config/versions.ts creationContract): v1.14.1 -> v1.10.0
    assert.deepEqual(fresh.named("oxide-config-secrets").inputs, { talosVersion: creationContract(TALOS) });
    assert.equal(creationContract(TALOS), "v1.10.0");
    assert.deepEqual(fresh.named("oxide-config-secrets").ignoreChanges, ["talosVersion"]);
  });
});

describe("previews never dial a node", () => {
  it("a preview runs no health check; an up runs both gates", async () => {
    const preview = await runValidProgram(committedStackConfig("homelab"), "preview", { preview: true });
    assert.equal(preview.recorder.invokesOf(GET_HEALTH).length, 0);
    const up = await runValidProgram(committedStackConfig("homelab"), "up");
    assert.deepEqual(up.recorder.invokesOf(GET_HEALTH).map((h) => h.inputs.skipKubernetesChecks), [true, false]);
  });

  it("the preview still plans every resource an up would", async () => {
    const preview = await runValidProgram(committedStackConfig("homelab"), "preview", { preview: true });
    const up = await runValidProgram(committedStackConfig("homelab"), "up");
    assert.deepEqual(preview.recorder.resources.map((r) => r.name).sort(), up.recorder.resources.map((r) => r.name).sort());
  });

  it("imported secrets need the contract named: they only record v1.2 or v1.3", async () => {
    const bundle = testSecretsBundle();
    const run = await runProgram({ ...committedStackConfig("homelab"), "talos-cluster:secretsYaml": bundle }, "import");
    assert.equal(
      String(run.error).split("\n").slice(1).join("\n"),
      "  - talos-cluster:cluster.configContract: required when secretsYaml imports secrets (the file only records v1.2 or v1.3): set the Talos version the original cluster was created with, its stack's configContract output",
    );
    assert.equal(run.recorder.resources.length, 0);
  });

  it("a stack with an invalid rollout setting is refused with its path", async () => {
    const run = await runProgram(oxide({ rollout: { maxUnavailableWorkers: 0 } }), "bad");
    assert.match(String(run.error), /talos-cluster:cluster\.rollout\.maxUnavailableWorkers: must be at least 1/);
    assert.equal(run.recorder.resources.length, 0);
  });
});
