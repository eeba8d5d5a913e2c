// Synology VMs: the pure inputs and order of the guests, and how the homelab program wires them
// (under mocks): image after the schematic registration, guests in rollout order, each node's
// apply after its guest, the password only secret and only to the synology provider.
import assert from "node:assert/strict";
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

  it("gives a guest the node's size, MAC and ISO, autostart last state, and waits on its Talos API", () => {
    assert.deepEqual(guestInputs(NODES[1]!, SETTINGS, "talos-v1.14.1-ce4c980550dd", { port: 50000, timeout: "10m" }), {
      name: "cp-1",
      storageName: "volume1",
      networkName: "Default VM Network",
      mac: "02:11:32:00:00:02",
      diskGiB: 100,
      vcpus: 2,
      memoryMiB: 4096,
      imageName: "talos-v1.14.1-ce4c980550dd",
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
});
