import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, valueOf } from "../support/mocks";

const recorder = installMocks();
// Imported after the mocks are in place, as Pulumi's testing guide requires.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ClusterConfig, configPatchesFor } = require("../../components/talos/cluster-config") as typeof import("../../components/talos/cluster-config");

const GET_CONFIGURATION = "talos:machine/getConfiguration:getConfiguration";

describe("configPatchesFor", () => {
  const layers = { all: ["a1", "a2"], controlplane: ["c1"], worker: ["w1", "w2"] };

  it("puts the all layer first, then the machine type's layer, each in order", () => {
    assert.deepEqual(configPatchesFor("controlplane", layers), ["a1", "a2", "c1"]);
    assert.deepEqual(configPatchesFor("worker", layers), ["a1", "a2", "w1", "w2"]);
  });

  it("treats missing layers as empty", () => {
    assert.deepEqual(configPatchesFor("worker", {}), []);
    assert.deepEqual(configPatchesFor("controlplane", { worker: ["w"] }), []);
  });
});

describe("ClusterConfig", () => {
  let component: InstanceType<typeof ClusterConfig>;

  before(async () => {
    recorder.reset();
    component = new ClusterConfig("tales", {
      clusterName: "tales",
      endpoint: "https://10.0.1.50:6443",
      talosVersion: "v1.10.6",
      kubernetesVersion: "1.33.3",
      patches: { all: ["all-patch"], controlplane: ["cp-patch"], worker: ["worker-patch"] },
    });
    // Resolve both configs so every invoke has been recorded.
    await Promise.all([valueOf(component.controlplaneConfig), valueOf(component.workerConfig)]);
  });

  it("registers exactly the component and one Secrets resource", () => {
    assert.deepEqual(
      recorder.resources.map((r) => [r.type, r.name]),
      [
        ["talos-cluster:talos:ClusterConfig", "tales"],
        ["talos:machine/secrets:Secrets", "tales-secrets"],
      ],
    );
  });

  it("generates the secrets for the configured Talos version", () => {
    const [secrets] = recorder.ofType("talos:machine/secrets:Secrets");
    assert.deepEqual(secrets!.inputs, { talosVersion: "v1.10.6" });
  });

  it("renders one configuration per machine type with exact inputs", () => {
    const calls = recorder.invokes.filter((i) => i.token === GET_CONFIGURATION);
    assert.equal(calls.length, 2);
    const byType = Object.fromEntries(calls.map((c) => [c.inputs.machineType, c.inputs]));
    const common = {
      clusterName: "tales",
      clusterEndpoint: "https://10.0.1.50:6443",
      talosVersion: "v1.10.6",
      kubernetesVersion: "1.33.3",
      docs: false,
      examples: false,
      machineSecrets: { cluster: { id: "tales-secrets-cluster-id", secret: "tales-secrets-cluster-secret" } },
    };
    assert.deepEqual(byType.controlplane, { ...common, machineType: "controlplane", configPatches: ["all-patch", "cp-patch"] });
    assert.deepEqual(byType.worker, { ...common, machineType: "worker", configPatches: ["all-patch", "worker-patch"] });
  });

  it("exposes the rendered configurations", async () => {
    assert.equal(await valueOf(component.controlplaneConfig), "rendered controlplane config");
    assert.equal(await valueOf(component.workerConfig), "rendered worker config");
  });

  it("marks every output secret", async () => {
    for (const output of [component.machineSecrets, component.clientConfiguration, component.controlplaneConfig, component.workerConfig]) {
      assert.equal(await pulumi.isSecret(output as pulumi.Output<unknown>), true);
    }
  });
});
