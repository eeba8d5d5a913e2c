// The node metadata steps' `pulumi up`s against a real Kubernetes control plane (etcd,
// kube-apiserver with its admission and server-side apply, kube-controller-manager with the node
// lifecycle controller; kwok nodes), through the real kubectl: a worker's node-role labels and
// taints applied, a change updated, a removed one removed, and what other managers set (a kubectl
// label and taint, the node lifecycle controller's taint of a cordoned node) left as it was, in
// every version of the Node the API server held (a watch records them all).
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { engineProject, EngineProject, projectRoot } from "./harness";
import { ControlPlane, startControlPlane } from "../support/control-plane";

const TEST_BIN = path.join(projectRoot, ".tools", "test-bin");

interface Taint { key: string; value?: string; effect: string; timeAdded?: string }
interface ManagedField { manager: string; operation: string; fieldsV1?: { "f:metadata"?: { "f:labels"?: Record<string, unknown> } } }
interface NodeJson { metadata: { labels: Record<string, string>; managedFields: ManagedField[] }; spec: { taints?: Taint[] } }

const LIFECYCLE_KEY = "node.kubernetes.io/unschedulable";

describe("engine: node labels and taints through the Kubernetes API, against a real control plane", function () {
  this.timeout(600_000);
  let cluster: ControlPlane | undefined;
  let project: EngineProject | undefined;
  let stack: Stack;
  let watch: ChildProcess | undefined;
  /** Every version of database-1 the watch saw: resourceVersion and taints. */
  const versions: { rv: number; taints: Taint[] }[] = [];
  /** The kubectl taint and the lifecycle controller's, as the API server holds them (with the timeAdded each was given). */
  let manual: Taint;
  let lifecycle: Taint;

  const node = (name: string): NodeJson => JSON.parse(cluster!.kubectl(["get", "node", name, "--show-managed-fields", "-o", "json"]));
  const labelsOf = (name: string) => node(name).metadata.labels;
  const taintsOf = (name: string) => node(name).spec.taints ?? [];
  const ourLabels = (name: string) =>
    Object.keys(node(name).metadata.managedFields.find((f) => f.manager === "talos-cluster" && f.operation === "Apply")?.fieldsV1?.["f:metadata"]?.["f:labels"] ?? {})
      .map((k) => k.replace(/^f:/, ""))
      .sort();
  const nodesConfig = (nodes: object[]) => stack.setConfig("lab:nodes", { value: JSON.stringify(nodes) });
  const up = async () => {
    const result = await stack.up({ color: "never" });
    assert.equal(result.summary.result, "succeeded");
    return { records: Object.fromEntries(Object.entries(result.outputs.records!.value as Record<string, string>).map(([k, v]) => [k, JSON.parse(v)])), changes: result.summary.resourceChanges };
  };

  before(async () => {
    cluster = await startControlPlane({ name: "node-metadata" });
    for (const n of [
      { name: "cp-1", address: "10.0.1.50", role: "controlplane" as const },
      { name: "worker-1", address: "10.0.1.51", role: "worker" as const },
      { name: "database-1", address: "10.0.1.52", role: "worker" as const },
    ]) {
      await cluster.addNode(n);
    }
    // What other managers set before the stack says anything: seed 002's kubectl lines' kind.
    cluster.kubectl(["label", "node", "database-1", "team=platform"]);
    cluster.kubectl(["taint", "node", "database-1", "maintenance=window:NoExecute"]);
    // Cordoned: the node lifecycle controller taints it node.kubernetes.io/unschedulable.
    cluster.kubectl(["cordon", "database-1"]);
    cluster.kubectl(["wait", "node/database-1", `--for=jsonpath={.spec.taints[?(@.key=="${LIFECYCLE_KEY}")].effect}=NoSchedule`, "--timeout=60s"]);
    [manual, lifecycle] = taintsOf("database-1") as [Taint, Taint];
    assert.deepEqual([manual, lifecycle].map((t) => [t.key, t.value, t.effect, typeof t.timeAdded]), [
      ["maintenance", "window", "NoExecute", "undefined"],
      [LIFECYCLE_KEY, undefined, "NoSchedule", "string"],
    ]);

    watch = spawn(path.join(TEST_BIN, "kubectl"), ["--kubeconfig", cluster.kubeconfigPath, "get", "node", "database-1", "--watch", "-o", 'jsonpath={.metadata.resourceVersion} {.spec.taints}{"\\n"}'], { stdio: ["ignore", "pipe", "inherit"] });
    let rest = "";
    watch.stdout!.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        const space = line.indexOf(" ");
        versions.push({ rv: Number(line.slice(0, space)), taints: JSON.parse(line.slice(space + 1) || "[]") });
      }
    });

    project = engineProject(undefined, "tests/engine/node-metadata-program", { PATH: TEST_BIN });
    stack = await project.stack("metadata", {});
    await stack.setConfig("lab:kubeconfig", { value: cluster.kubeconfig, secret: true });
  });

  after(async () => {
    watch?.kill();
    project?.cleanup();
    await cluster?.stop();
  });

  it("applies a worker's node-role labels and taints, leaving a control plane's and a worker's own labels to Talos and other managers' labels and taints alone", async () => {
    await nodesConfig([
      { name: "cp-1", role: "controlplane", labels: { "node-role.kubernetes.io/ingress": "" }, taints: { dedicated: "ingress:NoSchedule" } },
      { name: "worker-1", role: "worker", labels: { "node-role.kubernetes.io/worker": "", "example.com/tier": "batch" }, taints: {} },
      { name: "database-1", role: "worker", labels: { "node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/database": "" }, taints: { role: "database:NoSchedule" } },
    ]);
    const { records } = await up();
    // No step for the control plane (its machine config carries its labels and taints).
    assert.deepEqual(records, {
      "worker-1": { node: "worker-1", labels: { "node-role.kubernetes.io/worker": "" }, taints: [] },
      "database-1": { node: "database-1", labels: { "node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/database": "" }, taints: [{ key: "role", value: "database", effect: "NoSchedule" }] },
    });
    assert.equal(labelsOf("cp-1")["node-role.kubernetes.io/ingress"], undefined);
    assert.deepEqual(ourLabels("worker-1"), ["node-role.kubernetes.io/worker"]);
    assert.equal(labelsOf("worker-1")["example.com/tier"], undefined);
    assert.deepEqual(ourLabels("database-1"), ["node-role.kubernetes.io/database", "node-role.kubernetes.io/worker"]);
    assert.equal(labelsOf("database-1").team, "platform");
    // The other managers' taints first, as they were, ours appended.
    assert.deepEqual(taintsOf("database-1"), [manual, lifecycle, { key: "role", value: "database", effect: "NoSchedule" }]);
  });

  it("changes nothing on a second up", async () => {
    const before = node("database-1");
    const { changes } = await up();
    assert.deepEqual(changes, { same: 7 });
    assert.deepEqual(node("database-1").spec.taints, before.spec.taints);
  });

  it("updates a changed taint and label and removes a dropped label, with the previous run's taints from its record", async () => {
    await nodesConfig([
      { name: "cp-1", role: "controlplane", labels: {}, taints: {} },
      { name: "worker-1", role: "worker", labels: { "node-role.kubernetes.io/worker": "" }, taints: { dedicated: "batch:PreferNoSchedule" } },
      { name: "database-1", role: "worker", labels: { "node-role.kubernetes.io/database": "primary" }, taints: { role: "db:NoExecute" } },
    ]);
    const { records } = await up();
    assert.deepEqual(records["database-1"], { node: "database-1", labels: { "node-role.kubernetes.io/database": "primary" }, taints: [{ key: "role", value: "db", effect: "NoExecute" }] });
    assert.deepEqual(ourLabels("database-1"), ["node-role.kubernetes.io/database"]);
    assert.equal(labelsOf("database-1")["node-role.kubernetes.io/database"], "primary");
    assert.equal(labelsOf("database-1")["node-role.kubernetes.io/worker"], undefined);
    assert.equal(labelsOf("database-1").team, "platform");
    assert.deepEqual(taintsOf("database-1"), [manual, lifecycle, { key: "role", value: "db", effect: "NoExecute" }]);
    assert.deepEqual(taintsOf("worker-1"), [{ key: "dedicated", value: "batch", effect: "PreferNoSchedule" }]);
  });

  it("removes its labels and taints when the stack drops them, and only its own", async () => {
    await nodesConfig([
      { name: "cp-1", role: "controlplane", labels: {}, taints: {} },
      { name: "worker-1", role: "worker", labels: { "node-role.kubernetes.io/worker": "" }, taints: {} },
      { name: "database-1", role: "worker", labels: {}, taints: {} },
    ]);
    const { records } = await up();
    assert.deepEqual(Object.keys(records), ["worker-1"]);
    assert.deepEqual(ourLabels("database-1"), []);
    assert.equal(labelsOf("database-1")["node-role.kubernetes.io/database"], undefined);
    assert.equal(labelsOf("database-1").team, "platform");
    assert.deepEqual(taintsOf("database-1"), [manual, lifecycle]);
    assert.deepEqual(taintsOf("worker-1"), []);
    assert.equal(labelsOf("worker-1")["node-role.kubernetes.io/worker"], "");
  });

  it("never wrote a version of the Node without the other managers' taints", () => {
    // Every version since the watch started: ours came and went, theirs stayed as they were.
    assert.ok(versions.length >= 3, `the watch saw ${versions.length} versions`);
    assert.ok(versions.some((v) => v.taints.some((t) => t.key === "role")), "the watch saw none of our writes");
    for (const v of versions) {
      assert.deepEqual(v.taints.filter((t) => t.key !== "role"), [manual, lifecycle], `resourceVersion ${v.rv}`);
    }
  });

  it("why not a plain server-side apply: spec.taints is atomic, and an apply without the Node's uid creates a missing Node", async () => {
    const openapi = JSON.parse(cluster!.kubectl(["get", "--raw", "/openapi/v3/api/v1"]));
    assert.equal(openapi.components.schemas["io.k8s.api.core.v1.NodeSpec"].properties.taints["x-kubernetes-list-type"], "atomic");
    // An apply of one taint, forced past the lifecycle controller's ownership, takes the whole list.
    cluster!.kubectl(["cordon", "worker-1"]);
    cluster!.kubectl(["wait", "node/worker-1", `--for=jsonpath={.spec.taints[?(@.key=="${LIFECYCLE_KEY}")].effect}=NoSchedule`, "--timeout=60s"]);
    const apply = (metadata: object, spec?: object) =>
      cluster!.kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=plain-apply", "-o", "json", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Node", metadata, ...(spec ? { spec } : {}) }));
    // The Node as that apply wrote it (the controller puts its taint back right after: a fight).
    const written = JSON.parse(apply({ name: "worker-1" }, { taints: [{ key: "role", value: "batch", effect: "NoSchedule" }] }));
    assert.deepEqual(written.spec.taints, [{ key: "role", value: "batch", effect: "NoSchedule" }]);
    cluster!.kubectl(["taint", "node", "worker-1", "role-"]);
    cluster!.kubectl(["uncordon", "worker-1"]);
    // An apply is an upsert: by name alone it creates the Node; with a uid it is refused.
    apply({ name: "ghost-1", labels: { "node-role.kubernetes.io/worker": "" } });
    assert.equal(cluster!.kubectl(["get", "node", "ghost-1", "-o", "name"]).trim(), "node/ghost-1");
    cluster!.kubectl(["delete", "node", "ghost-1"]);
    assert.throws(() => apply({ name: "ghost-2", uid: "00000000-0000-4000-8000-000000000000" }), /uid mismatch/);
    assert.equal(cluster!.kubectl(["get", "node", "ghost-2", "--ignore-not-found", "-o", "name"]), "");
  });

  it("fails, creating no Node, when the Node never registers within the timeout", async () => {
    await stack.setConfig("lab:timeout", { value: "3s" });
    await nodesConfig([{ name: "late-1", role: "worker", labels: { "node-role.kubernetes.io/worker": "" }, taints: {} }]);
    await assert.rejects(stack.up({ color: "never" }), /node late-1: kubectl wait --for=create node\/late-1: .*timed out/s);
    assert.equal(cluster!.kubectl(["get", "node", "late-1", "--ignore-not-found", "-o", "name"]), "");
  });
});
