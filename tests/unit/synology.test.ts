// Synology VMs: the pure inputs and order of the guests, and how the homelab program wires them
// (under mocks): image after the schematic registration, guests in rollout order, each node's
// apply after its guest, the password only secret and only to the synology provider.
import assert from "node:assert/strict";
import { resizeGateScripts } from "../../components/synology/resize-gate";
import { guestInputs, guestOrder, imageInputs, imageName, VmNode } from "../../components/synology/synology-vms";
import { Recorder, runValidProgram } from "../support/mocks";
import { committedStackConfig, SECRET_STAND_INS } from "../support/stack-files";

const SETTINGS = { url: "https://nas.lan:5001", user: "pulumi", storage: "volume1", network: "Default VM Network", imageFolder: "/vmm-images" };
const vm = (mac: string) => ({ vcpus: 2, memoryMiB: 4096, diskGiB: 100, mac });
const NODES: VmNode[] = [
  { name: "w-1", role: "worker", address: "10.0.1.101", vm: vm("02:11:32:00:00:01") },
  { name: "cp-1", role: "controlplane", address: "10.0.1.50", vm: vm("02:11:32:00:00:02") },
  { name: "w-2", role: "worker", address: "10.0.1.102", vm: vm("02:11:32:00:00:03") },
  { name: "cp-2", role: "controlplane", address: "10.0.1.51", vm: vm("02:11:32:00:00:04") },
  { name: "w-3", role: "worker", address: "10.0.1.103", vm: vm("02:11:32:00:00:05") },
];

describe("synology: pure inputs", () => {
  it("names the image by Talos version and schematic", () => {
    assert.equal(imageName("v1.14.1", "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"), "talos-v1.14.1-ce4c980550dd");
  });

  it("gives the image the ISO URL, folder and storage", () => {
    assert.deepEqual(imageInputs(SETTINGS, "talos-v1.14.1-ce4c980550dd", "https://factory.talos.dev/image/x/v1.14.1/metal-amd64.iso"), {
      name: "talos-v1.14.1-ce4c980550dd",
      url: "https://factory.talos.dev/image/x/v1.14.1/metal-amd64.iso",
      folder: "/vmm-images",
      storageName: "volume1",
    });
  });

  it("gives a guest the node's size, MAC and ISO (by image id), autostart last state, and waits on its Talos API", () => {
    assert.deepEqual(guestInputs(NODES[1]!, SETTINGS, "image-7", { port: 50000, timeout: "10m" }), {
      name: "cp-1",
      storageName: "volume1",
      networkName: "Default VM Network",
      mac: "02:11:32:00:00:02",
      diskGiB: 100,
      vcpus: 2,
      memoryMiB: 4096,
      imageId: "image-7",
      autorun: 1,
      description: "Talos controlplane cp-1 (talos-cluster)",
      readyAddress: "10.0.1.50:50000",
      readyTimeout: "10m",
    });
  });

  it("orders guests like the rollout: each control plane alone, then workers by maxUnavailableWorkers", () => {
    assert.deepEqual(guestOrder(NODES, 1), { "cp-1": [], "cp-2": ["cp-1"], "w-1": ["cp-2"], "w-2": ["w-1"], "w-3": ["w-2"] });
    assert.deepEqual(guestOrder(NODES, 2), { "cp-1": [], "cp-2": ["cp-1"], "w-1": ["cp-2"], "w-2": ["cp-2"], "w-3": ["w-1", "w-2"] });
  });

  it("gates a resized control plane on Talos's health over every member, and only on a resize", () => {
    const scripts = resizeGateScripts(NODES[1]!, { controlPlanes: ["10.0.1.50", "10.0.1.51"], workers: ["10.0.1.101"] }, "10m");
    assert.equal(scripts.create, "echo 'cp-1: guest created, no resize to gate'");
    assert.deepEqual(scripts.environment, { GUEST_VCPUS: "2", GUEST_MEMORY_MIB: "4096" });
    const lines = scripts.update.split("\n");
    assert.equal(lines.at(-1), "talosctl -n 10.0.1.50 health --control-plane-nodes 10.0.1.50,10.0.1.51 --worker-nodes 10.0.1.101 --wait-timeout=10m");
    assert.equal(lines.at(-2), "echo 'cp-1: guest resized to 2 vCPUs, 4096 MiB; waiting for etcd and the cluster through Talos'");
    assert.ok(lines.includes('printf \'%s\' "$TALOS_CLUSTER_TALOSCONFIG" > "$work/talosconfig"'), "the talosconfig only through the secret environment");
  });
});

describe("synology: the homelab program's VMs (mocks)", () => {
  let recorder: Recorder;
  before(async () => {
    recorder = (await runValidProgram(committedStackConfig("homelab"), "homelab")).recorder;
  });

  it("passes the DSM settings and the secret password to an explicit synology provider", () => {
    const provider = recorder.named("tales-synology-dsm");
    assert.equal(provider.type, "pulumi:providers:synology");
    assert.equal(provider.inputs.url, "https://synology.local.symmatree.com:5001");
    assert.equal(provider.inputs.user, "pulumi");
    assert.equal(provider.inputs.password, SECRET_STAND_INS["talos-cluster:synologyPassword"]);
    assert.ok(provider.secretInputs.includes("password"));
    for (const r of [...recorder.ofType("synology:vmm:Image"), ...recorder.ofType("synology:vmm:Guest")]) assert.ok(r.provider.startsWith(`${provider.urn}::`), r.name);
  });

  it("downloads the ISO only after the factory registration, and names it by version and schematic", () => {
    const image = recorder.named("tales-synology-image");
    assert.deepEqual(image.inputs, {
      name: "talos-v1.14.1-ce4c980550dd",
      url: "https://factory.talos.dev/image/ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515/v1.14.1/metal-amd64.iso",
      folder: "/vmm-images",
      storageName: "volume1",
    });
    assert.ok(image.dependencies.includes(recorder.ofType("talos:imageFactory/schematic:Schematic")[0]!.urn));
  });

  it("creates the control plane's guest first, the worker's after it, and applies each node after its guest", () => {
    const cp = recorder.named("tales-synology-talos-control-1");
    const worker = recorder.named("tales-synology-talos-worker-1");
    assert.deepEqual([cp.inputs.vcpus, cp.inputs.memoryMiB, cp.inputs.diskGiB, cp.inputs.mac], [2, 4096, 100, "02:11:32:00:01:50"]);
    assert.deepEqual([worker.inputs.vcpus, worker.inputs.memoryMiB, worker.inputs.diskGiB, worker.inputs.mac], [4, 8192, 100, "02:11:32:00:01:64"]);
    assert.ok(worker.dependencies.includes(cp.urn));
    assert.ok(!cp.dependencies.includes(worker.urn));
    assert.ok(recorder.named("talos-control-1-apply").dependencies.includes(cp.urn));
    assert.ok(recorder.named("talos-worker-1-apply").dependencies.includes(worker.urn));
  });

  it("mounts the ISO by the image's id, and a worker waits for the control plane's resize gate", () => {
    const image = recorder.named("tales-synology-image");
    const cp = recorder.named("tales-synology-talos-control-1");
    const gate = recorder.named("tales-synology-talos-control-1-resized");
    assert.equal(cp.inputs.imageId, `${image.name}-id`);
    assert.ok(cp.dependencies.includes(image.urn));
    assert.equal(gate.type, "command:local:Command");
    // After its guest's update, and the talosconfig (from the secrets) it reaches Talos with.
    assert.deepEqual(gate.dependencies.sort(), [cp.urn, recorder.named("tales-config-secrets").urn].sort());
    assert.ok(recorder.named("tales-synology-talos-worker-1").dependencies.includes(gate.urn));
    assert.deepEqual(recorder.ofType("command:local:Command").filter((c) => c.name.endsWith("-resized")).map((c) => c.name), ["tales-synology-talos-control-1-resized"], "workers have no gate");
    assert.ok(gate.secretInputs.includes("environment"));
  });

  it("empties each guest's ISO slots after its node's apply, and the day-2 chain starts after that", () => {
    const switches = recorder.ofType("synology:vmm:BootFromDisk");
    assert.deepEqual(switches.map((s) => s.name).sort(), ["tales-synology-boot-talos-control-1", "tales-synology-boot-talos-worker-1"]);
    for (const node of ["talos-control-1", "talos-worker-1"]) {
      const sw = recorder.named(`tales-synology-boot-${node}`);
      const guest = recorder.named(`tales-synology-${node}`);
      assert.deepEqual([sw.inputs.guestName, sw.inputs.autorun], [node, 1]);
      assert.ok(sw.dependencies.includes(recorder.named(`${node}-apply`).urn), `${node}: after its apply`);
      assert.ok(sw.dependencies.includes(guest.urn));
      assert.ok(recorder.named("tales-nodes-members").dependencies.includes(sw.urn), `${node}: before the first day-2 step`);
    }
  });
});
