// The real engine: pulumi CLI, language host and the built Talos plugin, through the
// Automation API on a temporary local file backend with passphrase secrets.
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import pins from "../../toolchain/versions.json";
import { pretendCreated } from "./existing-cluster";
import { engineProject, EngineProject } from "./harness";

const LOOPBACK_NODES = [
  // Closed loopback ports: nothing listens on 50000 there, so every Talos API call is refused.
  { name: "talos-control-1", role: "controlplane", platform: "synology-vm", address: "127.0.0.11" },
  { name: "talos-worker-1", role: "worker", platform: "synology-vm", address: "127.0.0.12" },
];

// These tests are about nodes: a stack that applies them runs Talos's flannel and no add-ons
// (add-ons are previewed in example-stacks; with no reachable node they could only fail).
const withoutAddons = {
  cni: "flannel",
  addons: { "talos-cluster:addons": { cilium: { enabled: false }, prometheusOperatorCrds: { enabled: false } } },
};
const clusterSettings = (applyNodes: boolean): Record<string, any> => ({
  // Loopback stand-ins for nodes are refused unless opted in.
  "talos-cluster:cluster": { name: "tales", protectSecrets: false, applyNodes, talosApiTimeout: "5s", allowLoopbackAddresses: true, ...(applyNodes ? { cni: withoutAddons.cni } : {}) },
  ...(applyNodes ? withoutAddons.addons : {}),
  // No network here: registering with the factory is its own test (unit: the ID check).
  "talos-cluster:imageFactory": { register: false },
  "talos-cluster:nodes": LOOPBACK_NODES,
});

type Outputs = Record<string, unknown>;
const outputsOf = async (stack: Stack): Promise<Outputs> =>
  Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value]));

/** Every base64 run in the text, decoded: Talos stores PEM blocks base64-encoded. */
function decodedBase64Runs(text: string): string[] {
  return [...text.matchAll(/[A-Za-z0-9+/]{60,}={0,2}/g)].map((m) => Buffer.from(m[0], "base64").toString("latin1"));
}

function assertNoPlaintextKeys(state: string, secretValues: string[]) {
  assert.doesNotMatch(state, /PRIVATE KEY/);
  assert.deepEqual(decodedBase64Runs(state).filter((d) => d.includes("PRIVATE KEY")).length, 0, "a base64 PEM private key is in the state file");
  for (const secret of secretValues) {
    assert.ok(typeof secret === "string" && secret.length >= 16, "a real secret value to look for");
    assert.ok(!state.includes(secret), `state file contains a plaintext secret (${secret.slice(0, 6)}...)`);
  }
}

/** The values in a control-plane config that must never be stored in plaintext. */
const secretsIn = (cp: any): string[] => [cp.cluster.secret, cp.cluster.token, cp.machine.token, cp.cluster.secretboxEncryptionSecret, cp.machine.ca.key];

describe("engine: secrets and machine configs rendered, no node touched", function () {
  this.timeout(300_000);
  let project: EngineProject;
  let stack: Stack;
  let outputs: Outputs;

  before(async () => {
    project = engineProject();
    stack = await project.stack("render", clusterSettings(false));
    const result = await stack.up({ color: "never" });
    assert.equal(result.summary.result, "succeeded");
    outputs = await outputsOf(stack);
  });

  after(async () => {
    await stack?.destroy({ color: "never" }).catch(() => undefined);
    project?.cleanup();
  });

  it("creates the secrets and nothing that touches a machine", async () => {
    const state = await stack.exportStack();
    const types = (state.deployment.resources as { type: string }[]).map((r) => r.type).sort();
    assert.deepEqual(types, [
      "pulumi:providers:talos",
      "pulumi:pulumi:Stack",
      "talos-cluster:talos:Cluster",
      "talos-cluster:talos:ClusterConfig",
      "talos-cluster:talos:ImageSchematic",
      // the nodes' own, carrying the Synology platform's vga=792 (components/talos/talos-cluster.ts ownSchematicSpec)
      "talos-cluster:talos:ImageSchematic",
      "talos:machine/secrets:Secrets",
    ]);
  });

  for (const [output, machineType] of [
    ["controlplaneMachineConfig", "controlplane"],
    ["workerMachineConfig", "worker"],
  ] as const) {
    it(`renders a real ${machineType} configuration with the cluster and all layers`, () => {
      const config = YAML.parse(outputs[output] as string);
      assert.equal(config.machine.type, machineType);
      assert.equal(config.cluster.clusterName, "tales");
      // derived from the first control plane
      assert.equal(config.cluster.controlPlane.endpoint, "https://127.0.0.11:6443");
      // cluster layer
      assert.deepEqual(config.cluster.network.cni, { name: "none" });
      assert.deepEqual(config.cluster.network.podSubnets, ["10.244.0.0/16"]);
      assert.equal(config.cluster.proxy.disabled, true);
      assert.deepEqual(config.machine.features.kubePrism, { enabled: true, port: 7445 });
      assert.equal(config.machine.install.image, "factory.talos.dev/installer/ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515:v1.14.1");
      assert.deepEqual(config.machine.kubelet.extraConfig, {
        systemReserved: { memory: "512Mi" },
        kubeReserved: { memory: "512Mi" },
        // the stack's memory threshold merged with patches/all/20-kubelet-eviction.yaml
        evictionHard: { "memory.available": "256Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%", "imagefs.available": "15%", "imagefs.inodesFree": "5%" },
      });
      // patches/all/10-sysctls.yaml
      assert.equal(config.machine.sysctls["vm.max_map_count"], "262144");
      assert.match(config.machine.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    });
  }

  it("renders each node's config with its platform and node layers on top", () => {
    const byNode = outputs.nodeMachineConfigs as Record<string, string>;
    assert.deepEqual(Object.keys(byNode).sort(), ["talos-control-1", "talos-worker-1"]);
    for (const node of LOOPBACK_NODES) {
      const config = YAML.parse(byNode[node.name]!);
      assert.equal(config.machine.type, node.role);
      assert.equal(config.machine.network.hostname, node.name);
      assert.equal(config.machine.install.disk, "/dev/sda");
      assert.deepEqual(config.machine.install.extraKernelArgs, ["vga=792"]); // synology-vm platform layer
      assert.equal(config.machine.sysctls["vm.max_map_count"], "262144");
    }
  });

  it("both machine types share the cluster's identity; only control planes get the CA key", () => {
    const cp = YAML.parse(outputs.controlplaneMachineConfig as string);
    const worker = YAML.parse(outputs.workerMachineConfig as string);
    assert.equal(worker.cluster.id, cp.cluster.id);
    assert.equal(worker.cluster.secret, cp.cluster.secret);
    assert.equal(worker.machine.ca.crt, cp.machine.ca.crt);
    assert.ok(cp.machine.ca.key);
    assert.ok(!worker.machine.ca.key);
  });

  it("keeps every private key and token out of the state file in plaintext", () => {
    const cp = YAML.parse(outputs.controlplaneMachineConfig as string);
    const bundle = YAML.parse(outputs.talosSecretsYaml as string);
    assertNoPlaintextKeys(project.stateFile("render"), [...secretsIn(cp), bundle.trustdinfo.token]);
  });

  it("a second up changes nothing", async () => {
    const again = await stack.up({ color: "never" });
    const changes = again.summary.resourceChanges ?? {};
    assert.deepEqual(Object.keys(changes), ["same"], JSON.stringify(changes));
    assert.equal(changes.same, 7);
  });

  it("a Talos bump keeps the config contract: no resource changes, and every config differs only in machine.install.image", async () => {
    const talos = pins.cluster.talosVersion;
    const next = talos.replace(/\d+$/, (p) => String(Number(p) + 1));
    // a new stack stores what the generator really produces: Talos capped at its machinery (v1.10.0)
    assert.equal(outputs.configContract, pins.configGenerator.machinery);
    await stack.setConfig("talos-cluster:cluster.talosVersion", { value: next }, true);
    const bumped = await stack.up({ color: "never" });
    assert.deepEqual(Object.keys(bumped.summary.resourceChanges ?? {}), ["same"], JSON.stringify(bumped.summary.resourceChanges));
    const after = await outputsOf(stack);
    assert.equal(after.configContract, pins.configGenerator.machinery);
    const withoutImage = (text: string) => {
      const config = YAML.parse(text);
      const image = config.machine.install.image as string;
      delete config.machine.install.image;
      return { config, image };
    };
    const byNode = (o: Outputs) => o.nodeMachineConfigs as Record<string, string>;
    const pairs: [string, string][] = [
      [outputs.controlplaneMachineConfig as string, after.controlplaneMachineConfig as string],
      [outputs.workerMachineConfig as string, after.workerMachineConfig as string],
      ...Object.keys(byNode(outputs)).map((n): [string, string] => [byNode(outputs)[n]!, byNode(after)[n]!]),
    ];
    assert.equal(pairs.length, 4);
    for (const [before, bumpedConfig] of pairs) {
      const a = withoutImage(before);
      const b = withoutImage(bumpedConfig);
      assert.deepEqual(b.config, a.config);
      assert.ok(a.image.endsWith(`:${talos}`), a.image);
      assert.equal(b.image, `${a.image.slice(0, -talos.length)}${next}`);
    }
    await stack.setConfig("talos-cluster:cluster.talosVersion", { value: talos }, true);
  });

  it("destroy removes every resource", async () => {
    const result = await stack.destroy({ color: "never" });
    assert.equal(result.summary.result, "succeeded");
    assert.equal(result.summary.resourceChanges?.delete, 7);
    assert.deepEqual((await stack.exportStack()).deployment.resources ?? [], []);
  });
});

describe("engine: homelab layout with every node on a closed loopback port", function () {
  this.timeout(300_000);
  let project: EngineProject;
  let first: Stack;
  let firstOutputs: Outputs;
  let upError: Error;

  before(async () => {
    project = engineProject();
    first = await project.stack("loopback", clusterSettings(true));
    upError = await first.up({ color: "never", continueOnError: true }).then(
      () => assert.fail("up must fail: no node is reachable"),
      (err: Error) => err,
    );
    firstOutputs = await outputsOf(first);
  });

  after(async () => {
    for (const name of ["loopback", "imported"]) {
      await project?.stackOf(name)?.destroy({ color: "never" }).catch(() => undefined);
    }
    project?.cleanup();
  });

  it("fails each apply with a clear connection error naming the node", () => {
    for (const node of LOOPBACK_NODES) {
      assert.match(upError.message, new RegExp(`ConfigurationApply \\(${node.name}-apply\\):\\s+error: Error applying configuration: .*dial tcp ${node.address.replace(/\./g, "\\.")}:50000: connect: connection refused`));
    }
  });

  it("leaves a consistent state: secrets kept, no half-created node, no pending operation", async () => {
    const state = await first.exportStack();
    assert.deepEqual(state.deployment.pending_operations ?? [], []);
    const types = (state.deployment.resources as { type: string }[]).map((r) => r.type);
    assert.equal(types.filter((t) => t === "talos:machine/secrets:Secrets").length, 1);
    for (const never of ["talos:machine/configurationApply:ConfigurationApply", "talos:machine/bootstrap:Bootstrap", "talos:cluster/kubeconfig:Kubeconfig"]) {
      assert.ok(!types.includes(never), `${never} is in state although it never succeeded`);
    }
  });

  it("a preview now plans exactly the missing node steps", async () => {
    const preview = await first.preview({ color: "never" });
    // 2 applies, bootstrap, kubeconfig, the Kubernetes provider built from that kubeconfig, the
    // membership step, 4 upgrade steps (Talos minor steps, 2 nodes, Kubernetes), 2 rollout steps
    // and 2 kernel-args steps that wait for them; the stack's own outputs read for the removal guard
    assert.deepEqual(preview.changeSummary, { create: 14, read: 1, same: 15 });
  });

  it("keeps private keys out of the state file", () => {
    const cp = YAML.parse(firstOutputs.controlplaneMachineConfig as string);
    assertNoPlaintextKeys(project.stateFile("loopback"), secretsIn(cp));
  });

  it("a second stack importing the first one's secrets renders byte-identical configs", async () => {
    const imported = await project.stack("imported", clusterSettings(true));
    await imported.setConfig("talos-cluster:secretsYaml", { value: firstOutputs.talosSecretsYaml as string, secret: true });
    // an imported file names no usable contract: the first cluster's comes along
    await imported.setConfig("talos-cluster:cluster.configContract", { value: firstOutputs.configContract as string }, true);
    await imported.up({ color: "never", continueOnError: true }).catch(() => undefined); // the nodes are still unreachable
    const outputs = await outputsOf(imported);
    assert.equal(outputs.controlplaneMachineConfig, firstOutputs.controlplaneMachineConfig);
    assert.equal(outputs.workerMachineConfig, firstOutputs.workerMachineConfig);
    assert.deepEqual(outputs.nodeMachineConfigs, firstOutputs.nodeMachineConfigs);
    assert.equal(outputs.talosSecretsYaml, firstOutputs.talosSecretsYaml);
    // the stack secret is stored encrypted, never as the file's plaintext
    assert.ok(!project.stackFile("imported").includes(YAML.parse(firstOutputs.talosSecretsYaml as string).cluster.secret));
  });
});

describe("engine: a preview of an existing cluster whose nodes are all unreachable", function () {
  this.timeout(300_000);
  let project: EngineProject;
  let stack: Stack;
  let added: number;
  let settings: Record<string, any>;
  const file = () => path.join(project.dir, "Pulumi.existing.yaml");
  const timedPreview = async (what: string) => {
    const started = Date.now();
    const preview = await stack.preview({ color: "never", diff: true });
    const seconds = (Date.now() - started) / 1000;
    console.log(`      preview of an existing cluster, every node unreachable (${what}): ${seconds.toFixed(1)} s, ${JSON.stringify(preview.changeSummary)}`);
    // a health call would have waited for talosApiTimeout (10m) and then failed the preview
    assert.ok(seconds < 60, `${seconds} s`);
    return preview;
  };

  before(async () => {
    project = engineProject();
    // The real secrets and configs first (nothing to reach for that), then every node step
    // written into state as if the cluster had been created: its nodes and API answer nowhere.
    stack = await project.stack("existing", clusterSettings(false));
    await stack.up({ color: "never" });
    settings = YAML.parse(fs.readFileSync(file(), "utf8"));
    const applied = clusterSettings(true);
    // A health check would wait this long for the nodes before failing.
    applied["talos-cluster:cluster"].talosApiTimeout = "10m";
    settings.config = applied;
    fs.writeFileSync(file(), YAML.stringify(settings));
    added = await pretendCreated(project, "existing", stack);
  });

  after(async () => {
    project?.cleanup();
  });

  it("with nothing changed: finishes in seconds, plans no change, calls no health check", async () => {
    // 2 enrollment applies, bootstrap, kubeconfig, the membership step, 4 upgrade steps (Talos minor
    // steps, 2 nodes, Kubernetes), 2 rollout and 2 kernel-args steps, the command and Kubernetes
    // providers, the default provider of the stack's read of its own outputs (the removal guard),
    // and the 8 components around them
    assert.equal(added, 24);
    const preview = await timedPreview("unchanged");
    assert.deepEqual(Object.keys(preview.changeSummary), ["same"], preview.stdout);
  });

  it("with a Kubernetes bump: plans exactly upgrade-k8s and the two rollouts, in seconds", async () => {
    const next = pins.cluster.kubernetesVersion.replace(/\d+$/, (p) => String(Number(p) + 1));
    settings.config["talos-cluster:cluster"].kubernetesVersion = next;
    fs.writeFileSync(file(), YAML.stringify(settings));
    const preview = await timedPreview(`Kubernetes ${next}`);
    assert.deepEqual(preview.changeSummary, { same: 26, update: 3 }, preview.stdout);
    const updated = [...preview.stdout.matchAll(/~ \S+: \(update\)\n\s+\[id=[^\]]*\]\n\s+\[urn=[^\]]*::([^\]:]+)\]/g)].map((m) => m[1]).sort();
    assert.deepEqual(updated, ["tales-upgrades-kubernetes", "talos-control-1-rollout", "talos-worker-1-rollout"], preview.stdout);
  });
});
