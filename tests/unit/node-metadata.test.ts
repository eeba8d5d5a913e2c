// Node labels and taints: which go into the machine config and which through the Kubernetes API
// (components/talos/node-metadata-plan.ts), the taint list the step writes, one run against a
// scripted kubectl, and the steps the program registers (mocks). The real API server and kubectl:
// tests/engine/node-metadata.engine.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import YAML from "yaml";
import {
  ATTEMPTS, FIELD_MANAGER, Kubectl, needsApi, nextTaints, nodeMetadataScript, parseTaints, previousTaints, reconcileNode, ReconcilePlan, sameTaints, splitNodeMetadata, Taint,
} from "../../components/talos/node-metadata-plan";
import { kubeletMayNotSet } from "../../config/node-restriction";
import { Recorder, runValidProgram } from "../support/mocks";
import { committedStackConfig } from "../support/stack-files";

const ROLE: Taint = { key: "role", value: "database", effect: "NoSchedule" };
const NOT_READY: Taint = { key: "node.kubernetes.io/not-ready", effect: "NoExecute", timeAdded: "2026-12-05T08:00:00Z" };
const UNINITIALIZED: Taint = { key: "node.cloudprovider.kubernetes.io/uninitialized", value: "true", effect: "NoSchedule" };

describe("node labels and taints: machine config or Kubernetes API", () => {
  it("follows NodeRestriction's label rule", () => {
    const keys = [
      "node-role.kubernetes.io/worker", "kubernetes.io/role", "k8s.io/team", "sub.k8s.io/x", "node-restriction.kubernetes.io/pool", "example.node-restriction.kubernetes.io/x",
      "node.kubernetes.io/pool", "sub.kubelet.kubernetes.io/x", "topology.kubernetes.io/zone", "kubernetes.io/os", "beta.kubernetes.io/instance-type", "example.com/role", "plain",
    ];
    assert.deepEqual(keys.filter(kubeletMayNotSet), ["node-role.kubernetes.io/worker", "kubernetes.io/role", "k8s.io/team", "sub.k8s.io/x", "node-restriction.kubernetes.io/pool", "example.node-restriction.kubernetes.io/x"]);
  });

  it("leaves everything of a control plane to Talos (admin credentials)", () => {
    const split = splitNodeMetadata({ role: "controlplane", labels: { "node-role.kubernetes.io/ingress": "" }, taints: { dedicated: "ingress:NoSchedule" } });
    assert.deepEqual(split, { machine: { labels: { "node-role.kubernetes.io/ingress": "" }, taints: { dedicated: "ingress:NoSchedule" } }, api: { labels: {}, taints: {} } });
    assert.equal(needsApi(split), false);
  });

  it("sends a worker's restricted labels and every taint through the API, the rest to Talos", () => {
    const split = splitNodeMetadata({
      role: "worker",
      labels: { "node-role.kubernetes.io/database": "", "example.com/role": "db", "topology.kubernetes.io/zone": "rack-1" },
      taints: { role: "database:NoSchedule", dedicated: ":NoExecute" },
    });
    assert.deepEqual(split, {
      machine: { labels: { "example.com/role": "db", "topology.kubernetes.io/zone": "rack-1" }, taints: {} },
      api: { labels: { "node-role.kubernetes.io/database": "" }, taints: { role: "database:NoSchedule", dedicated: ":NoExecute" } },
    });
    assert.equal(needsApi(split), true);
    assert.equal(needsApi(splitNodeMetadata({ role: "worker", labels: { "example.com/role": "db" }, taints: {} })), false);
  });

  it("parses the stack's taints by key, an empty value left out as the API leaves it", () => {
    assert.deepEqual(parseTaints({ role: "database:NoSchedule", dedicated: ":NoExecute" }), [
      { key: "dedicated", effect: "NoExecute" },
      { key: "role", value: "database", effect: "NoSchedule" },
    ]);
  });
});

describe("the taint list the step writes", () => {
  it("appends ours after every other taint, which stays as it is", () => {
    assert.deepEqual(nextTaints([NOT_READY, UNINITIALIZED], [], [ROLE]), [NOT_READY, UNINITIALIZED, ROLE]);
  });

  it("changes nothing when ours is there already (the list compares equal: no write)", () => {
    const current = [NOT_READY, ROLE, UNINITIALIZED];
    const next = nextTaints(current, [ROLE], [ROLE]);
    assert.deepEqual(next, current);
    assert.equal(sameTaints(current, next), true);
  });

  it("gives ours its new value in place, keeping its timeAdded", () => {
    const current: Taint[] = [{ key: "role", value: "old", effect: "NoExecute", timeAdded: "2026-12-01T00:00:00Z" }, NOT_READY];
    assert.deepEqual(nextTaints(current, [{ key: "role", value: "old", effect: "NoExecute" }], [{ key: "role", value: "new", effect: "NoExecute" }]), [
      { key: "role", value: "new", effect: "NoExecute", timeAdded: "2026-12-01T00:00:00Z" },
      NOT_READY,
    ]);
  });

  it("removes what the previous run applied and the stack no longer gives, by key and effect", () => {
    // A changed effect is another taint: the old one goes, the new one is appended.
    const next = nextTaints([ROLE, NOT_READY], [ROLE], [{ key: "role", value: "database", effect: "NoExecute" }]);
    assert.deepEqual(next, [NOT_READY, { key: "role", value: "database", effect: "NoExecute" }]);
    assert.deepEqual(nextTaints([ROLE, NOT_READY], [ROLE], []), [NOT_READY]);
  });

  it("leaves another manager's taint with our key but another effect alone", () => {
    const theirs: Taint = { key: "role", value: "x", effect: "PreferNoSchedule" };
    assert.deepEqual(nextTaints([theirs], [ROLE], []), [theirs]);
    assert.deepEqual(nextTaints([theirs], [], [ROLE]), [theirs, ROLE]);
  });

  it("takes over a taint set by hand with our key and effect (seed 002's kubectl line), giving it the stack's value", () => {
    assert.deepEqual(nextTaints([NOT_READY, { key: "role", value: "db", effect: "NoSchedule" }], [], [ROLE]), [NOT_READY, ROLE]);
  });

  it("compares lists taint by taint, in order, an absent value equal to an empty one", () => {
    assert.equal(sameTaints([{ key: "a", value: "", effect: "NoSchedule" }], [{ key: "a", effect: "NoSchedule" }]), true);
    assert.equal(sameTaints([ROLE, NOT_READY], [NOT_READY, ROLE]), false);
    assert.equal(sameTaints([NOT_READY], [{ ...NOT_READY, timeAdded: "2026-12-05T08:00:01Z" }]), false);
  });

  it("reads the previous run's taints from the last line of its output, none from anything else", () => {
    assert.deepEqual(previousTaints(`waiting\n${JSON.stringify({ node: "db-1", labels: {}, taints: [ROLE] })}\n`), [ROLE]);
    assert.deepEqual(previousTaints(undefined), []);
    assert.deepEqual(previousTaints("not json"), []);
    assert.deepEqual(previousTaints('{"node":"db-1"}'), []);
  });
});

/** A kubectl that answers from a script of responses and records every call. */
function scripted(responses: ((args: string[], input?: string) => string)[]) {
  const calls: { args: string[]; input?: string }[] = [];
  const kubectl: Kubectl = (args, input) => {
    calls.push(input === undefined ? { args } : { args, input });
    const next = responses.shift();
    if (!next) throw new Error(`unexpected kubectl ${args.join(" ")}`);
    return next(args, input);
  };
  return { kubectl, calls };
}
const nodeJson = (rv: string, taints?: Taint[]) => () => JSON.stringify({ metadata: { name: "db-1", uid: "uid-1", resourceVersion: rv }, spec: taints ? { taints } : {} });
const ok = (text = "") => () => text;
const conflict = () => () => {
  throw new Error('kubectl patch node db-1: Error from server (Conflict): Operation cannot be fulfilled on nodes "db-1": the object has been modified');
};
const PLAN: ReconcilePlan = { node: "db-1", remove: false, labels: { "node-role.kubernetes.io/database": "" }, taints: [ROLE], timeout: "10m", fieldManager: FIELD_MANAGER, attempts: ATTEMPTS };
const WAIT = ["wait", "--for=create", "node/db-1", "--timeout=10m"];
const GET = ["get", "node", "db-1", "--ignore-not-found", "-o", "json"];
const patchOf = (rv: string, taints: Taint[] | null) => ["patch", "node", "db-1", "--type=merge", "--field-manager=talos-cluster", "-p", JSON.stringify({ metadata: { uid: "uid-1", resourceVersion: rv }, spec: { taints } })];
const APPLY = ["apply", "--server-side", "--force-conflicts", "--field-manager=talos-cluster", "-f", "-"];
const applied = (labels?: Record<string, string>) => JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "db-1", uid: "uid-1", ...(labels ? { labels } : {}) } });

describe("one run of the step", () => {
  it("waits for the Node, patches the taints at the version it read, applies the labels with the Node's uid", () => {
    const { kubectl, calls } = scripted([ok(), nodeJson("7", [NOT_READY]), ok(), ok()]);
    const record = reconcileNode(PLAN, [], kubectl);
    assert.deepEqual(calls, [{ args: WAIT }, { args: GET }, { args: patchOf("7", [NOT_READY, ROLE]) }, { args: APPLY, input: applied(PLAN.labels) }]);
    assert.deepEqual(record, { node: "db-1", labels: PLAN.labels, taints: [ROLE] });
  });

  it("writes no taints when they are as they should be", () => {
    const { kubectl, calls } = scripted([ok(), nodeJson("7", [ROLE]), ok()]);
    reconcileNode(PLAN, [ROLE], kubectl);
    assert.deepEqual(calls.map((c) => c.args[0]), ["wait", "get", "apply"]);
  });

  it("reads again after a conflict, and gives up after ATTEMPTS reads", () => {
    const { kubectl, calls } = scripted([ok(), nodeJson("7"), conflict(), nodeJson("8"), ok(), ok()]);
    reconcileNode(PLAN, [], kubectl);
    assert.deepEqual(calls.map((c) => c.args), [WAIT, GET, patchOf("7", [ROLE]), GET, patchOf("8", [ROLE]), APPLY]);
    const always = scripted([ok(), ...Array.from({ length: ATTEMPTS }, () => [nodeJson("7"), conflict()]).flat()]);
    assert.throws(() => reconcileNode(PLAN, [], always.kubectl), /\(Conflict\)/);
    assert.equal(always.calls.filter((c) => c.args[0] === "get").length, ATTEMPTS);
  });

  it("does not retry what is no conflict", () => {
    const { kubectl, calls } = scripted([ok(), nodeJson("7"), () => { throw new Error("kubectl patch node db-1: Error from server (Forbidden)"); }]);
    assert.throws(() => reconcileNode(PLAN, [], kubectl), /Forbidden/);
    assert.equal(calls.length, 3);
  });

  it("fails when the Node is not there after the wait", () => {
    const { kubectl } = scripted([ok(), ok("")]);
    assert.throws(() => reconcileNode(PLAN, [], kubectl), /^Error: node db-1 is not registered$/);
  });

  it("removes: its taints and labels (an apply without them), without waiting; a Node that is gone has none", () => {
    const removal = { ...PLAN, remove: true };
    const { kubectl, calls } = scripted([nodeJson("9", [ROLE, NOT_READY]), ok(), ok()]);
    assert.deepEqual(reconcileNode(removal, [ROLE], kubectl), { node: "db-1", labels: {}, taints: [] });
    assert.deepEqual(calls, [{ args: GET }, { args: patchOf("9", [NOT_READY]) }, { args: APPLY, input: applied() }]);
    const gone = scripted([ok("")]);
    assert.deepEqual(reconcileNode(removal, [ROLE], gone.kubectl), { node: "db-1", labels: {}, taints: [] });
    assert.equal(gone.calls.length, 1);
  });

  it("sends null, not an empty list, when no taint is left", () => {
    const { kubectl, calls } = scripted([nodeJson("9", [ROLE]), ok(), ok()]);
    reconcileNode({ ...PLAN, remove: true }, [ROLE], kubectl);
    assert.deepEqual(calls[1]!.args, patchOf("9", null));
  });
});

describe("the step's script", () => {
  const target = { node: "db-1", labels: { "node-role.kubernetes.io/database": "" }, taints: { role: "database:NoSchedule" }, timeout: "10m" };

  it("is JavaScript that embeds the plan", () => {
    for (const remove of [false, true]) {
      const script = nodeMetadataScript(target, remove);
      new vm.Script(script);
      assert.ok(script.includes(`const plan = ${JSON.stringify({ node: "db-1", remove, labels: target.labels, taints: [ROLE], timeout: "10m", fieldManager: "talos-cluster", attempts: 5 })};`));
    }
  });

  it("exits 127 saying how to install kubectl when it is not on PATH, leaving no kubeconfig behind", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "node-metadata-unit-"));
    try {
      const run = spawnSync(process.execPath, ["-e", nodeMetadataScript(target, false)], { env: { PATH: "/nonexistent", TMPDIR: tmp, TALOS_CLUSTER_KUBECONFIG: "secret" }, encoding: "utf8" });
      assert.equal(run.status, 127);
      assert.equal(run.stdout, "");
      assert.equal(run.stderr, "node db-1: kubectl is not on PATH: install kubectl (https://kubernetes.io/docs/tasks/tools/) and run pulumi up again\n");
      assert.deepEqual(fs.readdirSync(tmp), []);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe("program: a worker's node-role labels and taints (homelab with seed 002's roles)", () => {
  let recorder: Recorder;
  const COMMAND = "command:local:Command";

  before(async () => {
    const config = committedStackConfig("homelab");
    const nodes = JSON.parse(config["talos-cluster:nodes"]!) as Record<string, unknown>[];
    nodes[1] = { ...nodes[1], labels: { "node-role.kubernetes.io/database": "", "example.com/tier": "db" }, taints: { role: "database:NoSchedule" } };
    nodes[0] = { ...nodes[0], labels: { "node-role.kubernetes.io/ingress": "" } };
    recorder = (await runValidProgram({ ...config, "talos-cluster:nodes": JSON.stringify(nodes) }, "homelab")).recorder;
  });

  it("registers one step, for the worker only, with exact inputs", () => {
    const component = recorder.named("tales-node-metadata");
    const steps = recorder.ofType(COMMAND).filter((r) => r.parent === component.urn);
    assert.deepEqual(steps.map((s) => s.name), ["tales-node-metadata-talos-worker-1"]);
    const target = { node: "talos-worker-1", labels: { "node-role.kubernetes.io/database": "" }, taints: { role: "database:NoSchedule" }, timeout: "10m" };
    assert.deepEqual(steps[0]!.inputs, {
      create: nodeMetadataScript(target, false),
      update: nodeMetadataScript(target, false),
      delete: nodeMetadataScript(target, true),
      environment: { TALOS_CLUSTER_KUBECONFIG: "kubeconfig of tales-cluster-kubeconfig" },
      interpreter: ["node", "-e"],
      addPreviousOutputInEnv: true,
    });
    assert.deepEqual(steps[0]!.secretInputs, ["environment"]);
  });

  it("runs after the kubeconfig and the worker's apply, is replaced with it, deleted with it, and deletes before it replaces", () => {
    const step = recorder.named("tales-node-metadata-talos-worker-1");
    const apply = recorder.named("talos-worker-1-apply");
    const kubeconfig = recorder.named("tales-cluster-kubeconfig");
    assert.deepEqual(step.dependencies.filter((d) => d.includes("ConfigurationApply") || d.includes("Kubeconfig")), [apply.urn, kubeconfig.urn].sort());
    assert.deepEqual(step.replaceWith, [apply.urn]);
    assert.equal(step.deletedWith, apply.urn);
    assert.equal(step.deleteBeforeReplace, true);
  });

  it("waits for Talos health (no Kubernetes checks), and the add-ons wait for the step", () => {
    const step = recorder.named("tales-node-metadata-talos-worker-1");
    const [ready] = recorder.invokesOf("talos:cluster/getHealth:getHealth");
    assert.equal(ready!.inputs.skipKubernetesChecks, true);
    assert.ok(step.seq > ready!.seq, `step at ${step.seq}, health at ${ready!.seq}`);
    const addons = recorder.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" || r.type === "kubernetes:yaml/v2:ConfigFile");
    assert.ok(addons.length > 0 && addons.every((r) => r.seq > step.seq), `step at ${step.seq}, add-ons at ${addons.map((r) => r.seq)}`);
  });

  it("keeps the worker's own label and the control plane's node-role label in their machine configs, and nothing else", () => {
    const nodeLayer = (hostname: string) =>
      recorder
        .invokesOf("talos:machine/getConfiguration:getConfiguration")
        .flatMap((c) => (c.inputs.configPatches as string[]).map((p) => YAML.parse(p)))
        .find((p) => p?.machine?.network?.hostname === hostname);
    assert.deepEqual(nodeLayer("talos-worker-1"), { machine: { network: { hostname: "talos-worker-1" }, install: { disk: "/dev/sda" }, nodeLabels: { "example.com/tier": "db" } } });
    assert.deepEqual(nodeLayer("talos-control-1"), { machine: { network: { hostname: "talos-control-1" }, install: { disk: "/dev/sda" }, nodeLabels: { "node-role.kubernetes.io/ingress": "" } } });
  });
});
