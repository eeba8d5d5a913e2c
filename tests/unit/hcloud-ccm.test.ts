// Hetzner's cloud controller manager on Hetzner stacks: its values and Secret (pure), the Talos
// side (external cloud provider), the resources and their order under mocks, the token kept
// secret, the switch, and the refusal elsewhere.
import assert from "node:assert/strict";
import YAML from "yaml";
import pins from "../../toolchain/versions.json";
import { HCLOUD_CCM_TOLERATIONS, hcloudCcmValues, hcloudSecretData } from "../../components/addons/hcloud-values";
import { mergeValues } from "../../components/addons/values";
import { hcloudId, RecordedResource, Recorder, runProgram, runValidProgram } from "../support/mocks";
import { committedStackConfig, hetznerStackConfig, TEST_HCLOUD_TOKEN as TOKEN } from "../support/stack-files";

const inputsOf = (r: RecordedResource) => r.inputs as Record<string, any>;
const shortName = (urn: string) => urn.split("::").pop()!;
const withAddons = (addons: Record<string, unknown>) => ({ ...hetznerStackConfig(), "talos-cluster:addons": JSON.stringify(addons) });
const NETWORK_ID = String(hcloudId("oxide-hetzner-network"));
const EXTERNAL = { cluster: { externalCloudProvider: { enabled: true } } };
/** Every node's rendered config's patches (one getConfiguration per node, named by its hostname patch). */
const patchesOf = (recorder: Recorder) =>
  recorder.invokesOf("talos:machine/getConfiguration:getConfiguration").map((c) => {
    const patches = (c.inputs.configPatches as string[]).map((p) => YAML.parse(p));
    return { name: String(patches.find((p) => p?.machine?.network?.hostname)?.machine.network.hostname ?? c.inputs.machineType), patches };
  });

describe("Hetzner cloud controller manager: pure parts", () => {
  it("derives the chart values: private network, no routes, load balancers in the location and subnet on private IPs, the API through KubePrism", () => {
    assert.deepEqual(hcloudCcmValues({ location: "nbg1", subnetCidr: "10.0.1.0/24", podCidr: "10.244.0.0/16" }), {
      networking: { enabled: true, clusterCIDR: "10.244.0.0/16" },
      env: {
        HCLOUD_NETWORK_ROUTES_ENABLED: { value: "false" },
        HCLOUD_LOAD_BALANCERS_LOCATION: { value: "nbg1" },
        HCLOUD_LOAD_BALANCERS_PRIVATE_SUBNET_IP_RANGE: { value: "10.0.1.0/24" },
        HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP: { value: "true" },
        KUBERNETES_SERVICE_HOST: { value: "localhost" },
        KUBERNETES_SERVICE_PORT: { value: "7445" },
      },
    });
    assert.deepEqual(hcloudSecretData("t0ken", "42"), { token: "t0ken", network: "42" });
    // With dedicated servers: Robot support and the Robot login beside the token (both or neither).
    assert.deepEqual(hcloudCcmValues({ location: "nbg1", subnetCidr: "10.0.1.0/24", podCidr: "10.244.0.0/16", robot: true }), {
      robot: { enabled: true },
      ...hcloudCcmValues({ location: "nbg1", subnetCidr: "10.0.1.0/24", podCidr: "10.244.0.0/16" }),
    });
    assert.deepEqual(hcloudSecretData("t0ken", "42", { user: "#ws+oxide", password: "pw" }), { token: "t0ken", network: "42", "robot-user": "#ws+oxide", "robot-password": "pw" });
  });

  it("records the chart's own tolerations, the uninitialized taint among them", () => {
    assert.deepEqual(HCLOUD_CCM_TOLERATIONS[0], { key: "node.cloudprovider.kubernetes.io/uninitialized", value: "true", effect: "NoSchedule" });
    assert.equal(HCLOUD_CCM_TOLERATIONS.length, 5);
  });
});

describe("Hetzner cloud controller manager: the oxide stack with a Contour Gateway, under mocks", () => {
  let recorder: Recorder;
  let exports: Record<string, unknown>;
  before(async () => {
    const run = await runValidProgram(withAddons({ gatewayApi: { enabled: true }, gateway: { enabled: true } }), "hetzner");
    recorder = run.recorder;
    exports = run.exports as Record<string, unknown>;
  });
  const deps = (name: string) => recorder.named(name).dependencies.map(shortName);

  it("creates the Secret hcloud in kube-system with the token and the private network's ID, as a secret", () => {
    const secret = recorder.named("oxide-addons-hcloud-ccm-secret");
    assert.equal(secret.type, "kubernetes:core/v1:Secret");
    assert.deepEqual(inputsOf(secret), { apiVersion: "v1", kind: "Secret", metadata: { name: "hcloud", namespace: "kube-system" }, type: "Opaque", stringData: { token: TOKEN, network: NETWORK_ID } });
    assert.deepEqual(secret.secretInputs, ["stringData"]);
    // the network's ID reaches it from the network resource, and nothing else carries the token
    // but the hcloud provider and the Talos snapshot build, each as a secret input
    assert.ok(deps("oxide-addons-hcloud-ccm-secret").includes("oxide-hetzner-network"));
    const carriers = recorder.resources.filter((r) => JSON.stringify(r.inputs).includes(TOKEN));
    assert.deepEqual(carriers.map((r) => r.name).sort(), ["oxide-addons-hcloud-ccm-secret", "oxide-hetzner-hcloud", "oxide-hetzner-talos-amd64"]);
    assert.deepEqual(carriers.map((r) => r.secretInputs.includes(r.name.endsWith("-secret") ? "stringData" : "token")), [true, true, true]);
  });

  it("installs the pinned chart in kube-system with the derived values, after its Secret", () => {
    const release = recorder.named("oxide-addons-hcloud-ccm-release");
    assert.deepEqual(inputsOf(release), {
      chart: "hcloud-cloud-controller-manager",
      version: pins.addons.hcloudCloudControllerManager.version,
      repositoryOpts: { repo: "https://charts.hetzner.cloud" },
      namespace: "kube-system",
      values: hcloudCcmValues({ location: "fsn1", subnetCidr: "10.0.1.0/24", podCidr: "10.244.0.0/16" }),
      skipAwait: false,
      atomic: false,
      compat: "true",
    });
    assert.ok(deps("oxide-addons-hcloud-ccm-release").includes("oxide-addons-hcloud-ccm-secret"));
  });

  it("runs beside Cilium once the cluster is ready; the Kubernetes health gate, and all after it, wait for both", () => {
    const ccm = deps("oxide-addons-hcloud-ccm-release");
    // the Talos-only gate carries the kubeconfig; neither release waits for the other
    assert.ok(ccm.includes("oxide-cluster-kubeconfig"));
    assert.ok(!ccm.includes("oxide-addons-cilium-release"));
    assert.ok(!deps("oxide-addons-cilium-release").includes("oxide-addons-hcloud-ccm-release"));
    // the gate carries both releases into what follows it (the Gateway's namespace)
    const later = deps("oxide-addons-gateway-namespace");
    for (const d of ["oxide-addons-cilium-release", "oxide-addons-hcloud-ccm-release"]) assert.ok(later.includes(d), d);
  });

  it("waits for the Gateway's address (the controller hands its Envoy a Hetzner load balancer) and exports it", async () => {
    assert.deepEqual(inputsOf(recorder.named("oxide-addons-gateway-gateway")).metadata, {
      name: "gateway",
      namespace: "gateway",
      annotations: { "pulumi.com/waitFor": "jsonpath={.status.addresses[*].value}" },
    });
    assert.equal(await new Promise((resolve) => (exports.gatewayAddress as any).apply(resolve)), "198.51.100.20");
  });

  it("turns on Talos's external cloud provider on every node, control planes and workers", () => {
    const applied = patchesOf(recorder);
    // each node's config, and the two role configs (stack outputs controlplane/workerMachineConfig)
    assert.deepEqual(applied.map((a) => a.name).sort(), ["controlplane", "oxide-cp-1", "oxide-cp-2", "oxide-cp-3", "oxide-worker-1", "oxide-worker-2", "worker"]);
    for (const { name, patches } of applied) assert.ok(patches.some((p) => JSON.stringify(p) === JSON.stringify(EXTERNAL)), name);
  });

  it("places one controller on any node (the chart tolerates control planes and uninitialized nodes) and shows it in addonPlacement", async () => {
    const placement = exports.addonPlacement as any; // plain data: known in a preview
    assert.deepEqual(placement.hcloudCcm, { controller: { replicas: 1, onePerNode: true, nodes: ["oxide-cp-1", "oxide-cp-2", "oxide-cp-3", "oxide-worker-1", "oxide-worker-2"] } });
  });

  it("keeps the token secret in the stack's outputs: none carries it", async () => {
    for (const [name, value] of Object.entries(exports)) {
      const plain = await new Promise<unknown>((resolve) => (value && typeof value === "object" && "apply" in value ? (value as any).apply(resolve) : resolve(value)));
      assert.ok(!JSON.stringify(plain ?? null).includes(TOKEN), name);
    }
  });
});

describe("Hetzner cloud controller manager: switch, overrides and refusals", () => {
  it("is off when switched off: no Secret, no release, no external cloud provider", async () => {
    const { recorder } = await runValidProgram(withAddons({ hcloudCcm: { enabled: false } }), "hetzner");
    assert.equal(recorder.resources.filter((r) => r.name.startsWith("oxide-addons-hcloud-ccm")).length, 0);
    for (const { name, patches } of patchesOf(recorder)) assert.ok(!patches.some((p) => p.cluster?.externalCloudProvider), name);
  });

  it("merges value overrides over the derived values", async () => {
    const values = { env: { HCLOUD_LOAD_BALANCERS_TYPE: { value: "lb21" } }, replicaCount: 2 };
    const { recorder } = await runValidProgram(withAddons({ hcloudCcm: { values } }), "hetzner");
    assert.deepEqual(inputsOf(recorder.named("oxide-addons-hcloud-ccm-release")).values, mergeValues(hcloudCcmValues({ location: "fsn1", subnetCidr: "10.0.1.0/24", podCidr: "10.244.0.0/16" }), values));
  });

  it("refuses it on a stack that is not on Hetzner, and creates nothing there by default", async () => {
    const run = await runProgram(committedStackConfig("homelab", { "talos-cluster:addons": { hcloudCcm: { enabled: true } } }), "homelab");
    assert.ok(
      String(run.error).includes("talos-cluster:addons.hcloudCcm.enabled: is only for a Hetzner cluster (talos-cluster:hetzner): the Hetzner cloud controller manages Hetzner servers and load balancers"),
      String(run.error),
    );
    assert.equal(run.recorder.resources.length, 0);
    const lab = await runValidProgram(committedStackConfig("homelab"), "homelab");
    assert.equal(lab.recorder.resources.filter((r) => r.name.includes("hcloud")).length, 0);
  });

  it("refuses more replicas than nodes can hold one each (its metrics port is a host port)", async () => {
    const run = await runProgram(withAddons({ hcloudCcm: { values: { replicaCount: 6 } } }), "hetzner");
    assert.ok(
      String(run.error).includes(
        "talos-cluster:addons.hcloudCcm.values.replicaCount: Hetzner cloud controller manager: 6 replicas on different nodes wanted, but only 5 nodes can hold them (oxide-cp-1, oxide-cp-2, oxide-cp-3, oxide-worker-1, oxide-worker-2); lower addons.hcloudCcm.values.replicaCount or tolerate the nodes' taints in addons.hcloudCcm.values.additionalTolerations",
      ),
      String(run.error),
    );
  });
});
