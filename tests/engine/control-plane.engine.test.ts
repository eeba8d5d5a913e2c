// The test control plane itself (tests/support/control-plane.ts): real etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kubectl, with kwok nodes. What the day-2 tests lean
// on must hold here: nodes Ready with their addresses and roles, ReplicaSets and DaemonSets
// running pods on them, drain/uncordon/delete node completing, nothing left running after stop().
import assert from "node:assert/strict";
import fs from "node:fs";
import { LAB_NODES, WEB_DEPLOYMENT } from "../support/lab-cluster";
import { ControlPlane, startControlPlane } from "../support/control-plane";

const NODES = LAB_NODES;

const WORKLOADS = `${WEB_DEPLOYMENT}---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: registry.k8s.io/pause:3.10}]
`;

interface Pod { metadata: { name: string }; spec: { nodeName?: string }; status: { phase: string } }

/** Processes whose command line mentions the dir (every component is given files in it). */
function processesUsing(dir: string): string[] {
  return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      return cmdline.includes(dir) ? [`${pid}: ${cmdline}`] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
}

describe("engine: the test control plane (real Kubernetes components, kwok nodes)", function () {
  this.timeout(180_000);
  let cp: ControlPlane | undefined;

  after(async () => {
    await cp?.stop();
  });

  const pods = (selector: string): Pod[] => JSON.parse(cp!.kubectl(["get", "pods", "-n", "default", "-l", selector, "-o", "json"])).items;
  /** Polls kubectl until `check` holds (deadline: kubectl's own wait is not usable for "N pods Running"). */
  const until = async (what: string, check: () => boolean, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it("starts, and its nodes report Ready with their addresses and roles", async () => {
    cp = await startControlPlane({ name: "cp-test" });
    assert.match(cp.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(fs.statSync(cp.kubeconfigPath).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(cp.kubeconfigPath, "utf8"), cp.kubeconfig);
    const version = JSON.parse(cp.kubectl(["version", "-o", "json"]));
    assert.equal(version.serverVersion.gitVersion, "v1.37.0");
    assert.equal(version.clientVersion.gitVersion, "v1.37.0");
    // A Node the helper did not add: kwok must leave it alone (no kubelet ever makes it Ready).
    cp.kubectl(["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "stranger" } }));
    await Promise.all(NODES.map((n) => cp!.addNode(n)));
    const stranger = JSON.parse(cp.kubectl(["get", "node", "stranger", "-o", "json"]));
    assert.equal(stranger.status.conditions?.find((c: { type: string }) => c.type === "Ready")?.status, undefined, "kwok manages only the nodes added");
    cp.kubectl(["delete", "node", "stranger"]);
    cp.kubectl(["label", "node", "worker-1", "worker-2", "node-role.kubernetes.io/worker="]);
    const nodes = JSON.parse(cp.kubectl(["get", "nodes", "-o", "json"])).items as {
      metadata: { name: string; labels: Record<string, string> };
      status: { conditions: { type: string; status: string }[]; addresses: { type: string; address: string }[]; nodeInfo: { kubeletVersion: string } };
    }[];
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), NODES.map((n) => n.name).sort());
    for (const want of NODES) {
      const n = nodes.find((x) => x.metadata.name === want.name)!;
      assert.equal(n.status.conditions.find((c) => c.type === "Ready")?.status, "True", want.name);
      assert.equal(n.status.addresses.find((a) => a.type === "InternalIP")?.address, want.address);
      assert.equal("node-role.kubernetes.io/control-plane" in n.metadata.labels, want.role === "controlplane", want.name);
      assert.equal(n.status.nodeInfo.kubeletVersion, "v1.37.0");
    }
  });

  it("runs a Deployment's and a DaemonSet's pods on the kwok nodes", async () => {
    cp!.kubectl(["apply", "-f", "-"], WORKLOADS);
    await until("2 web pods Running", () => pods("app=web").filter((p) => p.status.phase === "Running").length === 2);
    await until("5 agent pods Running", () => pods("app=agent").filter((p) => p.status.phase === "Running").length === 5);
    assert.deepEqual(pods("app=web").map((p) => p.spec.nodeName).sort(), ["worker-1", "worker-2"]);
    assert.deepEqual(pods("app=agent").map((p) => p.spec.nodeName).sort(), NODES.map((n) => n.name).sort());
  });

  it("drains a worker (evictions complete), uncordons it, deletes it", async () => {
    const evicted = pods("app=web").find((p) => p.spec.nodeName === "worker-1")!.metadata.name;
    const out = cp!.kubectl(["drain", "worker-1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s"]);
    assert.match(out, new RegExp(`pod/${evicted} evicted`));
    assert.match(out, /node\/worker-1 drained/);
    assert.ok(!pods("app=web").some((p) => p.metadata.name === evicted), "the evicted pod is deleted (kwok finishes it as a kubelet would)");
    const node = () => JSON.parse(cp!.kubectl(["get", "node", "worker-1", "-o", "json"]));
    assert.equal(node().spec.unschedulable, true);
    // The evicted pod is gone; its replacement cannot go to the cordoned worker-1.
    assert.ok(!pods("app=web").some((p) => p.spec.nodeName === "worker-1"));
    cp!.kubectl(["uncordon", "worker-1"]);
    assert.equal(node().spec.unschedulable, undefined);
    await until("the web pod back on worker-1", () => pods("app=web").some((p) => p.spec.nodeName === "worker-1" && p.status.phase === "Running"));
    cp!.kubectl(["delete", "node", "worker-1"]);
    assert.deepEqual(JSON.parse(cp!.kubectl(["get", "nodes", "-o", "json"])).items.map((n: { metadata: { name: string } }) => n.metadata.name).sort(),
      ["cp-1", "cp-2", "cp-3", "worker-2"]);
  });

  it("stop() leaves no process and no dir", async () => {
    const dir = cp!.dir;
    assert.ok(processesUsing(dir).length >= 5, "the components run with files in the dir");
    await cp!.stop();
    cp = undefined;
    assert.deepEqual(processesUsing(dir), []);
    assert.equal(fs.existsSync(dir), false);
  });
});
