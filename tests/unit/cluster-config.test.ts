import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { fakeMachineSecrets, installMocks, Recorder, valueOf } from "../support/mocks";
import { configPatchesFor } from "../../components/talos/cluster-config";

type Module = typeof import("../../components/talos/cluster-config");
type TalosSdk = typeof import("@pulumiverse/talos");

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
  let component: InstanceType<Module["ClusterConfig"]>;
  let recorder: Recorder;

  before(async () => {
    recorder = installMocks();
    // Loaded once the mocks are in place, as Pulumi's testing guide requires.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ClusterConfig } = require("../../components/talos/cluster-config") as Module;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const talos = require("@pulumiverse/talos") as TalosSdk;
    const provider = new talos.Provider("p", {});
    component = new ClusterConfig("tales", {
      clusterName: "tales",
      endpoint: "https://10.0.1.50:6443",
      talosVersion: "v1.10.6",
      kubernetesVersion: "1.33.3",
      patches: { all: ["all-patch"], controlplane: ["cp-patch"], worker: ["worker-patch"] },
      provider,
    });
    // Resolve both configs so every invoke has been recorded.
    await Promise.all([valueOf(component.controlplaneConfig), valueOf(component.workerConfig)]);
  });

  it("registers exactly the component and one Secrets resource", () => {
    assert.deepEqual(
      recorder.resources.map((r) => [r.type, r.name]).sort(),
      [
        ["pulumi:providers:talos", "p"],
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
    const calls = recorder.invokesOf(GET_CONFIGURATION);
    assert.equal(calls.length, 2);
    const byType = Object.fromEntries(calls.map((c) => [c.inputs.machineType, c.inputs]));
    const common = {
      clusterName: "tales",
      clusterEndpoint: "https://10.0.1.50:6443",
      talosVersion: "v1.10.6",
      kubernetesVersion: "1.33.3",
      docs: false,
      examples: false,
      machineSecrets: fakeMachineSecrets("tales-secrets"),
    };
    assert.deepEqual(byType.controlplane, { ...common, machineType: "controlplane", configPatches: ["all-patch", "cp-patch"] });
    assert.deepEqual(byType.worker, { ...common, machineType: "worker", configPatches: ["all-patch", "worker-patch"] });
  });

  it("exposes the rendered configurations", async () => {
    assert.match(await valueOf(component.controlplaneConfig), /^rendered controlplane config \(2 patches, [0-9a-f]{8}\)$/);
    assert.match(await valueOf(component.workerConfig), /^rendered worker config \(2 patches, [0-9a-f]{8}\)$/);
  });

  it("marks every output secret", async () => {
    for (const output of [component.machineSecrets, component.secretsYaml, component.clientConfiguration, component.controlplaneConfig, component.workerConfig]) {
      assert.equal(await pulumi.isSecret(output as pulumi.Output<unknown>), true);
    }
  });
});
