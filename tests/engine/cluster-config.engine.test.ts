// The real engine: pulumi CLI, language host and the built Talos plugin, through the
// Automation API on a temporary local file backend with passphrase secrets.
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import YAML from "yaml";
import { engineProject, EngineProject, stringLeaves } from "./harness";

const STACK = "engine";
const CLUSTER = { name: "engine-test", endpoint: "https://127.0.0.1:6443", protectSecrets: false };

describe("engine: cluster secrets and machine configurations", function () {
  // Plugin start-up and two updates; generous on a loaded 2-core machine.
  this.timeout(300_000);

  let project: EngineProject;
  let stack: Stack;
  let outputs: Record<string, unknown>;

  before(async () => {
    project = engineProject();
    stack = await project.stack(STACK, { "talos-cluster:cluster": CLUSTER });
    const result = await stack.up({ color: "never" });
    assert.equal(result.summary.result, "succeeded");
    outputs = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
  });

  after(async () => {
    // Normally the last test destroyed it already; this covers a failure before that.
    if (stack && !destroyed) await stack.destroy({ color: "never" }).catch(() => undefined);
    project?.cleanup();
  });
  let destroyed = false;

  const configOf = (output: string) => YAML.parse(outputs[output] as string);

  it("creates the stack, the component and the Talos secrets", async () => {
    const state = await stack.exportStack();
    const types = (state.deployment.resources as { type: string }[]).map((r) => r.type).sort();
    assert.deepEqual(types, [
      "pulumi:providers:talos",
      "pulumi:pulumi:Stack",
      "talos-cluster:talos:ClusterConfig",
      "talos:machine/secrets:Secrets",
    ]);
  });

  for (const [output, machineType] of [
    ["controlplaneMachineConfig", "controlplane"],
    ["workerMachineConfig", "worker"],
  ] as const) {
    it(`renders a real ${machineType} configuration`, () => {
      const config = configOf(output);
      assert.equal(config.machine.type, machineType);
      assert.equal(config.cluster.clusterName, CLUSTER.name);
      assert.equal(config.cluster.controlPlane.endpoint, CLUSTER.endpoint);
      // patches/all/10-kubelet-reservations.yaml, merged by Talos itself
      assert.deepEqual(config.machine.kubelet.extraConfig, {
        systemReserved: { memory: "512Mi" },
        kubeReserved: { memory: "512Mi" },
        evictionHard: { "memory.available": "256Mi" },
      });
      assert.match(config.machine.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    });
  }

  it("both machine types share the cluster's identity", () => {
    const cp = configOf("controlplaneMachineConfig");
    const worker = configOf("workerMachineConfig");
    assert.equal(worker.cluster.id, cp.cluster.id);
    assert.equal(worker.cluster.secret, cp.cluster.secret);
    assert.equal(worker.machine.ca.crt, cp.machine.ca.crt);
    assert.ok(cp.machine.ca.key, "the control plane carries the OS CA key");
    assert.ok(!worker.machine.ca.key, "workers never get the OS CA key");
  });

  it("keeps key material out of the state file in plaintext", () => {
    const raw = project.stateFile(STACK);
    // PEM headers, raw or base64-encoded as Talos stores them
    assert.doesNotMatch(raw, /-----BEGIN/);
    assert.doesNotMatch(raw, /LS0tLS1CRUdJTi/);
    const cp = configOf("controlplaneMachineConfig");
    const secrets = [cp.cluster.secret, cp.cluster.token, cp.machine.token, cp.cluster.secretboxEncryptionSecret, cp.machine.ca.key];
    for (const secret of secrets) {
      assert.ok(typeof secret === "string" && secret.length >= 16, "a real secret value to look for");
      assert.ok(!raw.includes(secret), `state file contains a plaintext secret (${secret.slice(0, 6)}...)`);
    }
    // Every long string leaf of the rendered config that is secret-looking stays out of state too.
    const leaked = stringLeaves(cp).filter((s) => s.length > 40 && raw.includes(s));
    assert.deepEqual(leaked, []);
  });

  it("a second up changes nothing", async () => {
    const again = await stack.up({ color: "never" });
    const changes = again.summary.resourceChanges ?? {};
    assert.deepEqual(Object.keys(changes).filter((k) => k !== "same"), [], JSON.stringify(changes));
    // the stack, the component and the secrets (default providers are not counted)
    assert.equal(changes.same, 3);
  });

  it("destroy removes every resource", async () => {
    const result = await stack.destroy({ color: "never" });
    destroyed = true;
    assert.equal(result.summary.result, "succeeded");
    assert.equal(result.summary.resourceChanges?.delete, 3);
    const state = await stack.exportStack();
    assert.deepEqual(state.deployment.resources ?? [], []);
    await stack.workspace.removeStack(STACK);
  });
});
