// The whole program under mocks, with the committed example stacks' config.
import assert from "node:assert/strict";
import { schematicId } from "../../components/talos/image-schematic";
import fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { Recorder, renderHash, runProgram, runValidProgram, valueOf } from "../support/mocks";
import { committedStackConfig } from "../support/stack-files";
import { testSecretsBundle } from "../support/test-pki";
import { wipeDone, wipeScript } from "../../components/talos/wipe-plan";

const stackConfig = (stack: string) => committedStackConfig(stack);
/** The homelab nodes' own schematic: siderolabs/qemu-guest-agent and patches/platform/synology-vm's vga=792. */
const HOMELAB_NODE_SCHEMATIC = schematicId({ extensions: ["siderolabs/qemu-guest-agent"], extraKernelArgs: ["vga=792"] });

const T = {
  apply: "talos:machine/configurationApply:ConfigurationApply",
  bootstrap: "talos:machine/bootstrap:Bootstrap",
  kubeconfig: "talos:cluster/kubeconfig:Kubeconfig",
  secrets: "talos:machine/secrets:Secrets",
  schematic: "talos:imageFactory/schematic:Schematic",
  provider: "pulumi:providers:talos",
  getConfiguration: "talos:machine/getConfiguration:getConfiguration",
  getHealth: "talos:cluster/getHealth:getHealth",
};

function countByType(recorder: Recorder): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of recorder.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

describe("program: homelab stack (seeds 000/001)", () => {
  let recorder: Recorder;
  let exports: Record<string, unknown>;

  before(async () => {
    const run = await runProgram(stackConfig("homelab"), "homelab");
    assert.equal(run.error, undefined, String(run.error));
    recorder = run.recorder;
    exports = run.exports as Record<string, unknown>;
  });

  it("registers exactly these resources", () => {
    assert.deepEqual(countByType(recorder), {
      "talos-cluster:talos:Cluster": 1,
      [T.provider]: 1,
      // the cluster's (the ISO) and the nodes' own, which also carries the Synology platform's vga=792
      "talos-cluster:talos:ImageSchematic": 2,
      [T.schematic]: 2,
      "talos-cluster:talos:ClusterConfig": 1,
      [T.secrets]: 1,
      "talos-cluster:talos:Node": 2,
      [T.apply]: 2,
      "talos-cluster:talos:ClusterBootstrap": 1,
      [T.bootstrap]: 1,
      [T.kubeconfig]: 1,
      // add-ons: prometheus-operator CRDs and Cilium (tests/unit/addons.test.ts)
      "talos-cluster:addons:Platform": 1,
      "pulumi:providers:kubernetes": 1,
      "talos-cluster:addons:CrdManifests": 1,
      "kubernetes:yaml/v2:ConfigFile": 1,
      "talos-cluster:addons:Cilium": 1,
      "kubernetes:core/v1:Namespace": 1,
      "kubernetes:helm.sh/v3:Release": 1,
      // day 2: the membership step (tests/unit/node-removal.test.ts), the Talos minor steps, one
      // upgrade step per node and one for Kubernetes (tests/unit/upgrades.test.ts), one config
      // rollout step per node (tests/unit/rollout.test.ts), one kernel-args step per node
      "talos-cluster:day2:NodeRemoval": 1,
      "talos-cluster:day2:Upgrades": 1,
      "talos-cluster:day2:ConfigRollout": 1,
      "talos-cluster:day2:KernelArgs": 1,
      // and the post-install `cilium status` check (tests/unit/gateway-addons.test.ts)
      "talos-cluster:addons:PostInstallChecks": 1,
      // day-2 steps (one per node and kind, the membership and the Talos minor steps), the `cilium status` check,
      // and the control plane's resize gate (tests/unit/synology.test.ts)
      "command:local:Command": 11,
      // the VMM guests of the nodes' vm sections (tests/unit/synology.test.ts)
      "talos-cluster:synology:Vms": 1,
      "pulumi:providers:synology": 1,
      "synology:vmm:Image": 1,
      "synology:vmm:Guest": 2,
      // each guest's boot device switched to its disk once Talos is installed
      "talos-cluster:synology:BootFromDisk": 1,
      "synology:vmm:BootFromDisk": 2,
    });
  });

  it("names children after their component and parents every one", () => {
    const cluster = recorder.named("tales");
    for (const name of ["tales-talos", "tales-image", "tales-config", "talos-control-1", "talos-worker-1", "tales-cluster"]) {
      assert.equal(recorder.named(name).parent, cluster.urn, name);
    }
    assert.equal(recorder.named("tales-config-secrets").parent, recorder.named("tales-config").urn);
    assert.equal(recorder.named("talos-control-1-apply").parent, recorder.named("talos-control-1").urn);
    assert.equal(recorder.named("tales-cluster-bootstrap").parent, recorder.named("tales-cluster").urn);
  });

  it("passes the explicit Talos provider to every Talos resource", () => {
    const provider = recorder.named("tales-talos");
    assert.deepEqual(provider.inputs, { imageFactoryUrl: "https://factory.talos.dev" });
    for (const r of recorder.resources.filter((r) => r.type.startsWith("talos:"))) {
      assert.ok(r.provider.startsWith(`${provider.urn}::`), `${r.name} uses ${r.provider}`);
    }
  });

  it("gives each node the schematic with its kernel args: seed 000's guest agent and vga=792", () => {
    assert.equal(HOMELAB_NODE_SCHEMATIC, "9c8161f27dc8c2dc2b33642151260c69bcfa293826b413defc6c843dfcdc8ca2");
    const image = { schematicId: HOMELAB_NODE_SCHEMATIC, installerImage: `factory.talos.dev/installer/${HOMELAB_NODE_SCHEMATIC}:v1.14.1`, kernelArgs: ["vga=792"] };
    assert.deepEqual(exports.nodeImages, { "talos-control-1": image, "talos-worker-1": image });
    assert.deepEqual(recorder.named(`tales-image-${HOMELAB_NODE_SCHEMATIC.slice(0, 12)}-schematic`).inputs, {
      schematic: "customization:\n    extraKernelArgs:\n        - vga=792\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/qemu-guest-agent\n",
    });
  });

  it("registers seed 000's schematic with the factory", () => {
    assert.deepEqual(recorder.named("tales-image-schematic").inputs, {
      schematic: "customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/qemu-guest-agent\n",
    });
    assert.equal(exports.schematicId, "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515");
    assert.equal(exports.installerImage, "factory.talos.dev/installer/ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515:v1.14.1");
  });

  it("protects the secrets and keeps them secret in state", () => {
    const secrets = recorder.named("tales-config-secrets");
    assert.equal(secrets.protect, true);
    // the schema marks every key and token secret; nothing is wrapped twice
    assert.deepEqual(secrets.additionalSecretOutputs, []);
    assert.equal(secrets.importId, "");
  });

  const clusterLayer = () => [
    { cluster: { network: { podSubnets: ["10.244.0.0/16"], serviceSubnets: ["10.96.0.0/12"], cni: { name: "none" } }, proxy: { disabled: true } } },
    { machine: { features: { kubePrism: { enabled: true, port: 7445 } } } },
    { cluster: { allowSchedulingOnControlPlanes: false } },
    { machine: { install: { image: exports.installerImage } } },
    { machine: { kubelet: { extraConfig: { systemReserved: { memory: "512Mi" }, kubeReserved: { memory: "512Mi" }, evictionHard: { "memory.available": "256Mi" } } } } },
  ];
  const allLayer = [
    { machine: { sysctls: { "vm.max_map_count": "262144" } } }, // patches/all/10-sysctls.yaml
    // patches/all/20-kubelet-eviction.yaml
    { machine: { kubelet: { extraConfig: { evictionHard: { "nodefs.available": "10%", "nodefs.inodesFree": "5%", "imagefs.available": "15%", "imagefs.inodesFree": "5%" } } } } },
  ];
  // patches/platform/synology-vm/10-console.yaml, its kernel args lifted into the schematic
  const synologyLayer = [{ machine: {} }];
  const patchesOf = (call: { inputs: Record<string, unknown> }) => (call.inputs.configPatches as string[]).map((p) => YAML.parse(p));
  const nodeRender = (hostname: string) =>
    recorder.invokesOf(T.getConfiguration).find((c) => (c.inputs.configPatches as string[]).some((p) => p.includes(`hostname: ${hostname}`)))!;

  it("renders each role's config from the cluster and all layers, in order", () => {
    const roleCalls = recorder.invokesOf(T.getConfiguration).filter((c) => !(c.inputs.configPatches as string[]).some((p) => p.includes("hostname:")));
    assert.deepEqual(roleCalls.map((c) => c.inputs.machineType).sort(), ["controlplane", "worker"]);
    for (const call of roleCalls) {
      assert.deepEqual(patchesOf(call), [...clusterLayer(), ...allLayer]);
      assert.equal(call.inputs.clusterEndpoint, "https://10.0.1.50:6443");
      assert.equal(call.inputs.clusterName, "tales");
      // the contract: Talos v1.14.1 capped at the generator's machinery (config/versions.ts creationContract)
      assert.equal(call.inputs.talosVersion, "v1.10.0");
      assert.equal(call.inputs.kubernetesVersion, "1.37.0");
    }
  });

  it("renders each node's config with every layer in order: cluster, all, role, platform, node", () => {
    for (const [hostname, role] of [["talos-control-1", "controlplane"], ["talos-worker-1", "worker"]] as const) {
      const call = nodeRender(hostname);
      assert.equal(call.inputs.machineType, role);
      assert.deepEqual(patchesOf(call), [
        ...clusterLayer(),
        ...allLayer,
        ...synologyLayer,
        { machine: { network: { hostname }, install: { disk: "/dev/sda" } } },
        // its kernel args (vga=792) in an image of its own, and exactly the schematic's named once for GRUB
        { machine: { install: { image: `factory.talos.dev/installer/${HOMELAB_NODE_SCHEMATIC}:v1.14.1`, extraKernelArgs: ["vga=792"] } } },
      ]);
    }
    assert.equal(recorder.invokesOf(T.getConfiguration).length, 4);
  });

  it("applies each node's complete config with exact inputs, after the schematic registration", () => {
    const schematic = recorder.named("tales-image-schematic");
    for (const [name, address, role] of [
      ["talos-control-1", "10.0.1.50", "controlplane"],
      ["talos-worker-1", "10.0.1.100", "worker"],
    ]) {
      const apply = recorder.named(`${name}-apply`);
      assert.deepEqual(apply.inputs, {
        node: address,
        endpoint: address,
        clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: "tales-config-secrets-client-key" },
        machineConfigurationInput: `rendered ${role} config (10 patches, ${renderHash(nodeRender(name!).inputs)})`,
        applyMode: "auto",
        onDestroy: { graceful: true, reset: true, reboot: false },
        timeouts: { create: "10m", update: "10m" },
      });
      // the schematic registration and the node's Synology VM (dependsOn), and the secrets its client configuration comes from
      const own = recorder.named(`tales-image-${schematicId({ extensions: ["siderolabs/qemu-guest-agent"], extraKernelArgs: ["vga=792"] }).slice(0, 12)}-schematic`);
      assert.deepEqual(apply.dependencies, [recorder.named(`tales-synology-${name}`).urn, recorder.named("tales-config-secrets").urn, schematic.urn, own.urn].sort());
      assert.deepEqual(apply.secretInputs, ["clientConfiguration", "machineConfigurationInput"]);
      assert.deepEqual([...new Set(apply.additionalSecretOutputs)].sort(), ["machineConfiguration", "machineConfigurationInput"]);
    }
  });

  it("bootstraps once, on the first control plane, after its apply and nothing else", () => {
    const [bootstrap] = recorder.ofType(T.bootstrap);
    // its apply, and the secrets its client certificate comes from: no other node, no sleep
    assert.deepEqual(bootstrap!.dependencies, [recorder.named("talos-control-1-apply").urn, recorder.named("tales-config-secrets").urn].sort());
    assert.deepEqual(bootstrap!.inputs, {
      node: "10.0.1.50",
      endpoint: "10.0.1.50",
      clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: "tales-config-secrets-client-key" },
      timeouts: { create: "10m" },
    });
    assert.deepEqual(bootstrap!.secretInputs, ["clientConfiguration"]);
  });

  it("fetches the kubeconfig after the bootstrap", () => {
    const [kubeconfig] = recorder.ofType(T.kubeconfig);
    assert.deepEqual(kubeconfig!.dependencies, [recorder.named("tales-cluster-bootstrap").urn, recorder.named("tales-config-secrets").urn].sort());
    assert.deepEqual([...new Set(kubeconfig!.additionalSecretOutputs)].sort(), ["kubeconfigRaw", "kubernetesClientConfiguration"]);
  });

  it("gates on Talos health without Kubernetes checks (no CNI yet)", () => {
    const [health] = recorder.invokesOf(T.getHealth);
    assert.deepEqual(
      { ...health!.inputs, clientConfiguration: undefined },
      {
        clientConfiguration: undefined,
        controlPlaneNodes: ["10.0.1.50"],
        workerNodes: ["10.0.1.100"],
        endpoints: ["10.0.1.50"],
        skipKubernetesChecks: true,
        timeouts: { read: "10m" },
      },
    );
  });

  it("exports configs, talosconfig and kubeconfig as secrets", async () => {
    for (const name of ["controlplaneMachineConfig", "workerMachineConfig", "nodeMachineConfigs", "talosconfig", "kubeconfig", "talosSecretsYaml"]) {
      const output = exports[name] as pulumi.Output<unknown>;
      assert.equal(await pulumi.isSecret(output), true, name);
    }
    assert.equal(await valueOf(exports.kubeconfig as pulumi.Output<string>), "kubeconfig of tales-cluster-kubeconfig");
  });

  it("summarises the nodes", () => {
    assert.deepEqual(exports.nodes, [
      { name: "talos-control-1", role: "controlplane", platform: "synology-vm", address: "10.0.1.50", installDisk: "/dev/sda" },
      { name: "talos-worker-1", role: "worker", platform: "synology-vm", address: "10.0.1.100", installDisk: "/dev/sda" },
    ]);
  });
});

describe("program: deepthought stack (seed 003, bare metal)", () => {
  let recorder: Recorder;

  before(async () => {
    recorder = (await runValidProgram(stackConfig("deepthought"), "deepthought")).recorder;
  });

  it("registers one apply per node and a single bootstrap", () => {
    assert.equal(recorder.ofType(T.apply).length, 3);
    assert.equal(recorder.ofType(T.bootstrap).length, 1);
    assert.equal(recorder.ofType(T.kubeconfig).length, 1);
    assert.equal(recorder.ofType(T.secrets).length, 1);
    const core = recorder.resources.filter((r) => !r.name.startsWith("deepthought-addons") && !r.name.startsWith("deepthought-upgrades") && !r.name.startsWith("deepthought-rollout") && !r.name.startsWith("deepthought-disk-wipes") && !r.name.startsWith("deepthought-nodes") && !r.name.startsWith("deepthought-kernel-args") && r.type !== "command:local:Command");
    assert.equal(core.length, 15);
  });

  it("registers the plain schematic: no extensions on bare metal", () => {
    assert.deepEqual(recorder.named("deepthought-image-schematic").inputs, { schematic: "customization: {}\n" });
  });

  it("renders bare-metal patches and leaves the data disks out of the machine config", () => {
    const call = recorder
      .invokesOf(T.getConfiguration)
      .find((c) => (c.inputs.configPatches as string[]).some((p) => p.includes("hostname: deepthought-worker-1")))!;
    const patches = (call.inputs.configPatches as string[]).map((p) => YAML.parse(p));
    assert.deepEqual(patches.slice(-2), [
      { machine: { install: { wipe: false } } },
      { machine: { network: { hostname: "deepthought-worker-1" }, install: { disk: "/dev/nvme0n1" } } },
    ]);
    assert.doesNotMatch(JSON.stringify(call.inputs.configPatches), /\/dev\/sd[ab]/);
    // two role renders and one per node
    assert.equal(recorder.invokesOf(T.getConfiguration).length, 5);
  });

  it("bootstraps the control plane 192.168.1.32", () => {
    const [bootstrap] = recorder.ofType(T.bootstrap);
    assert.equal((bootstrap!.inputs as { node: string }).node, "192.168.1.32");
    assert.deepEqual(bootstrap!.dependencies, [recorder.named("deepthought-cp-1-apply").urn, recorder.named("deepthought-config-secrets").urn].sort());
  });

  // Seed 003 wipes every OSD disk before Rook (components/talos/data-disk-wipes.ts, tests/unit/disk-wipes.test.ts).
  const wipeNames = ["deepthought-cp-1-wipe-sda", "deepthought-worker-1-wipe-sda", "deepthought-worker-1-wipe-sdb", "deepthought-worker-2-wipe-sda", "deepthought-worker-2-wipe-sdb"];

  it("wipes each data disk once, in one step per disk with its exact script", () => {
    const component = recorder.named("deepthought-disk-wipes");
    assert.equal(component.type, "talos-cluster:talos:DataDiskWipes");
    const steps = recorder.ofType("command:local:Command").filter((r) => r.name.includes("-wipe-"));
    assert.deepEqual(steps.map((s) => s.name), wipeNames);
    for (const s of steps) assert.equal(s.parent, component.urn);
    const step = recorder.named("deepthought-worker-1-wipe-sdb");
    const disk = { node: "deepthought-worker-1", address: "192.168.1.24", disk: "/dev/sdb", installDisk: "/dev/nvme0n1", timeout: "10m" };
    assert.equal(step.inputs.create, wipeScript(disk));
    assert.equal(step.inputs.update, wipeDone(disk));
    // Configs change whenever a node joins: that never re-runs a wipe.
    assert.deepEqual(step.ignoreChanges, ["environment"]);
    assert.deepEqual(step.secretInputs, ["environment"]);
  });

  it("wipes after the node's apply and the last kernel-args step; the add-ons' first gate waits for every wipe", () => {
    const step = recorder.named("deepthought-worker-2-wipe-sda");
    const deps = step.dependencies.filter((d) => d.includes("ConfigurationApply") || d.includes("$command:local:Command::")).sort();
    // workers roll out one at a time, so the last batch is worker-2 alone
    assert.deepEqual(deps, [recorder.named("deepthought-worker-2-apply").urn, recorder.named("deepthought-worker-2-kernel-args").urn].sort());
    const [ready] = recorder.invokesOf(T.getHealth);
    const wipes = wipeNames.map((n) => recorder.named(n).seq);
    assert.ok(ready!.seq > Math.max(...wipes), `health at ${ready!.seq}, wipes at ${wipes}`);
    const rook = recorder.resources.filter((r) => r.name.includes("rook-ceph") && r.type === "kubernetes:helm.sh/v3:Release");
    assert.ok(rook.length > 0 && rook.every((r) => r.seq > ready!.seq));
  });
});

describe("program: variants of the homelab stack", () => {
  const withCluster = (extra: Record<string, unknown>) => committedStackConfig("homelab", { "talos-cluster:cluster": extra });

  it("applyNodes: false renders secrets and configs and touches no machine", async () => {
    const run = await runProgram(withCluster({ applyNodes: false }), "render");
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(run.recorder.resources.map((r) => r.type).sort(), [
      "pulumi:providers:talos",
      "talos-cluster:talos:Cluster",
      "talos-cluster:talos:ClusterConfig",
      "talos-cluster:talos:ImageSchematic",
      "talos-cluster:talos:ImageSchematic",
      T.schematic,
      T.schematic,
      T.secrets,
    ].sort());
    assert.equal((run.exports as Record<string, unknown>).kubeconfig, null); // no cluster to reach: null, so Pulumi does not warn
    assert.equal(await valueOf((run.exports as Record<string, pulumi.Output<string>>).talosconfig!), "talosconfig of tales");
  });

  it("imports secrets from the stack secret through a private file whose path never changes", async () => {
    // A complete bundle made at run time (the parse checks its CAs; the repository holds no keys).
    const bundle = testSecretsBundle();
    const config = { ...committedStackConfig("homelab", { "talos-cluster:cluster": { configContract: "v1.10" } }), "talos-cluster:secretsYaml": bundle };
    const first = await runProgram(config, "import");
    const second = await runProgram(config, "import");
    const secrets = first.recorder.named("tales-config-secrets");
    assert.match(secrets.importId, /talos-cluster-secrets-[0-9a-f]{16}\.yaml$/);
    assert.equal(second.recorder.named("tales-config-secrets").importId, secrets.importId);
    assert.deepEqual(secrets.ignoreChanges, ["talosVersion"]);
    assert.equal(fs.statSync(secrets.importId).mode & 0o777, 0o600);
  });
});
