// Replacing the first control plane of a running cluster behind a VIP, through the real engine and
// the real program (index.ts): the cluster's state is made from its own plan (existing-cluster.ts),
// its nodes on closed loopback ports, so the preview shows what an `up` would do without dialing.
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { pretendCreated } from "./existing-cluster";
import { engineProject, EngineProject } from "./harness";

// LAN addresses nothing here answers at: a preview and a render-only up never dial a node.
const node = (name: string, role: string, address: string) => ({ name, role, platform: "bare-metal", address, network: { interface: "eth0", addresses: [`${address}/24`], gateway: "10.0.1.1" } });
const BEFORE = [node("cp-1", "controlplane", "10.0.1.11"), node("cp-2", "controlplane", "10.0.1.12"), node("cp-3", "controlplane", "10.0.1.13"), node("w-1", "worker", "10.0.1.21")];
const AFTER = [node("cp-4", "controlplane", "10.0.1.14"), node("cp-2", "controlplane", "10.0.1.12"), node("cp-3", "controlplane", "10.0.1.13"), node("w-1", "worker", "10.0.1.21")];

const settings = (nodes: object[], applyNodes: boolean): Record<string, any> => ({
  "talos-cluster:cluster": { name: "vip", protectSecrets: false, applyNodes, talosApiTimeout: "5s", cni: "flannel", vip: { address: "10.0.1.50" } },
  "talos-cluster:addons": { cilium: { enabled: false }, prometheusOperatorCrds: { enabled: false } },
  "talos-cluster:imageFactory": { register: false },
  "talos-cluster:nodes": nodes,
});

describe("engine: replacing the first control plane behind a VIP", function () {
  this.timeout(300_000);
  let project: EngineProject;
  let stack: Stack;
  const file = () => path.join(project.dir, "Pulumi.vip.yaml");
  const setNodes = (nodes: object[]) => {
    const doc = YAML.parse(fs.readFileSync(file(), "utf8"));
    doc.config = settings(nodes, true);
    fs.writeFileSync(file(), YAML.stringify(doc));
  };

  before(async () => {
    project = engineProject();
    stack = await project.stack("vip", settings(BEFORE, false));
    await stack.up({ color: "never" });
    setNodes(BEFORE);
    await pretendCreated(project, "vip", stack);
  });
  after(() => project?.cleanup());

  it("the endpoint is the VIP, in every config, before and after", async () => {
    const outputs = await stack.outputs();
    assert.equal(outputs.endpoint!.value, "https://10.0.1.50:6443");
  });

  it("plans cp-4's enrollment, cp-1's removal by the membership step, a kubeconfig fetched through cp-4, and no second bootstrap; dials nothing", async () => {
    setNodes(AFTER);
    const started = Date.now();
    const preview = await stack.preview({ color: "never", diff: true });
    assert.ok((Date.now() - started) / 1000 < 60);
    const out = preview.stdout;
    // each resource's planned step, by name: the "(create)"-like line before its URN
    const steps: Record<string, string> = {};
    let pending: string | undefined;
    for (const line of out.split("\n")) {
      const op = line.match(/^\s*[-+~]+\s*[\w:/.-]+: \(([\w-]+)\)/);
      if (op) pending = op[1];
      const urn = line.match(/\[urn=[^\]]*::([^\]:]+)\]/);
      if (urn && pending) {
        steps[urn[1]!] = pending;
        pending = undefined;
      }
    }
    assert.equal(steps["cp-4-apply"], "create", out);
    assert.equal(steps["cp-1-apply"], "delete", out);
    assert.equal(steps["vip-nodes-members"], "update", out);
    // the kubeconfig's node moves to the new first control plane: fetched again
    assert.equal(steps["vip-cluster-kubeconfig"], "replace", out);
    // bootstrap runs once per cluster: no step at all for it (a changed resource would be listed by its type)
    assert.doesNotMatch(out, /talos:machine\/bootstrap:Bootstrap: \(/, out);
    assert.ok(Object.keys(steps).length > 20, "the preview lists the steps it plans");
    // the role configs keep the VIP endpoint: no change to what every other node holds
    assert.match(out, /endpoint\s+: "https:\/\/10\.0\.1\.50:6443"/);
    assert.doesNotMatch(out, /10\.0\.1\.11:6443/);
  });
});
