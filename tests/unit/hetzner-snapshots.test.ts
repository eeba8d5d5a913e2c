// The Talos snapshots `up` builds for Hetzner Cloud (components/hetzner/talos-snapshots.ts) under
// mocks: one per architecture the pools need, the servers booting from them, the order before
// the upgrades, and the stack's own snapshot when hetzner.image names one.
import assert from "node:assert/strict";
import { architectureOf, buildServerTypes, hcloudImageUrl, snapshotDescription, snapshotLabels } from "../../components/hetzner/talos-snapshots";
import pins from "../../toolchain/versions.json";
import { hcloudId, Recorder, runValidProgram } from "../support/mocks";
import { hetznerStackConfig, TEST_HCLOUD_TOKEN as TOKEN } from "../support/stack-files";

const SNAPSHOT = "hcloudimage:index:TalosSnapshot";
const SERVER = "hcloud:index/server:Server";
const FACTORY = "https://factory.talos.dev";
const TALOS = pins.cluster.talosVersion;

const serverNamed = (recorder: Recorder, name: string) => recorder.resources.find((r) => r.name === name && r.type === SERVER)!;

describe("Hetzner snapshots: pure parts", () => {
  it("names the Image Factory's hcloud raw image", () => {
    assert.equal(hcloudImageUrl("https://factory.talos.dev/", "abc", "v1.14.1", "arm64"), "https://factory.talos.dev/image/abc/v1.14.1/hcloud-arm64.raw.xz");
  });

  it("labels with the version, the schematic's first 12 characters (label values have at most 63), the architecture and the cluster", () => {
    const id = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";
    assert.deepEqual(snapshotLabels("oxide", "v1.14.1", id, "amd64"), {
      "talos-cluster/cluster": "oxide",
      "talos-cluster/talos-version": "v1.14.1",
      "talos-cluster/schematic": "ce4c980550dd",
      "talos-cluster/architecture": "amd64",
    });
    assert.equal(snapshotDescription("v1.14.1", id, "amd64"), `Talos v1.14.1 hcloud amd64, schematic ${id}`);
  });

  it("builds each architecture on the first pool's server type of it", () => {
    assert.deepEqual([architectureOf("cax11"), architectureOf("cpx21"), architectureOf("ccx13")], ["arm64", "amd64", "amd64"]);
    assert.deepEqual(buildServerTypes([{ serverType: "cpx21" }, { serverType: "cax31" }, { serverType: "cpx31" }, { serverType: "cax11" }]), { amd64: "cpx21", arm64: "cax31" });
    assert.deepEqual(buildServerTypes([{ serverType: "cpx21" }, { serverType: "cpx31" }]), { amd64: "cpx21" });
  });
});

describe("Hetzner snapshots: the oxide stack without hetzner.image", () => {
  let recorder: Recorder;
  before(async () => {
    recorder = (await runValidProgram(hetznerStackConfig(), "snapshots")).recorder;
  });

  it("builds one amd64 snapshot from the cluster's schematic, after the factory registered it", () => {
    const snapshots = recorder.ofType(SNAPSHOT);
    assert.deepEqual(snapshots.map((s) => s.name), ["oxide-hetzner-talos-amd64"]);
    const schematic = recorder.ofType("talos:imageFactory/schematic:Schematic").find((s) => s.name === "oxide-image-schematic")!;
    const snapshot = snapshots[0]!;
    const schematicId = (snapshot.inputs.imageUrl as string).split("/")[4]!;
    assert.match(schematicId, /^[0-9a-f]{64}$/);
    assert.deepEqual(snapshot.inputs, {
      token: TOKEN,
      name: "oxide-talos-amd64",
      imageUrl: `${FACTORY}/image/${schematicId}/${TALOS}/hcloud-amd64.raw.xz`,
      architecture: "amd64",
      labels: { "talos-cluster/cluster": "oxide", "talos-cluster/talos-version": TALOS, "talos-cluster/schematic": schematicId.slice(0, 12), "talos-cluster/architecture": "amd64" },
      description: `Talos ${TALOS} hcloud amd64, schematic ${schematicId}`,
      serverType: "cpx21",
      location: "fsn1",
    });
    assert.deepEqual(snapshot.secretInputs, ["token"]);
    assert.ok(snapshot.dependencies.includes(schematic.urn), "waits for the factory's registration");
    assert.equal(snapshot.parent, recorder.named("oxide-hetzner-talos").urn);
  });

  it("boots every server from it, and never recreates a server for a new one", () => {
    for (const name of ["oxide-cp-1", "oxide-worker-2"]) {
      const server = serverNamed(recorder, name);
      assert.equal(server.inputs.image, String(hcloudId("oxide-hetzner-talos-amd64")), name);
      assert.deepEqual(server.ignoreChanges, ["userData", "image"]);
      assert.ok(server.dependencies.includes(recorder.named("oxide-hetzner-talos-amd64").urn), name);
    }
  });

  it("has the snapshot before the first upgrade step", () => {
    assert.ok(recorder.named("oxide-upgrades-talos-minors").dependencies.includes(recorder.named("oxide-hetzner-talos-amd64").urn));
  });

  it("makes no lookup of an image through the API", () => {
    assert.deepEqual(recorder.invokesOf("hcloud:index/getImage:getImage"), []);
  });
});

describe("Hetzner snapshots: amd64 and arm64 pools", () => {
  let recorder: Recorder;
  before(async () => {
    const config = hetznerStackConfig((h) => {
      h.pools = [
        { name: "cp", role: "controlplane", count: 3, serverType: "cpx21" },
        { name: "arm", role: "worker", count: 2, serverType: "cax21" },
      ];
    });
    recorder = (await runValidProgram(config, "snapshots-arm")).recorder;
  });

  it("builds one snapshot per architecture, each on a server type of it", () => {
    const snapshots = recorder.ofType(SNAPSHOT).map((s) => [s.name, s.inputs.architecture, s.inputs.serverType, (s.inputs.imageUrl as string).split("/").pop()]);
    assert.deepEqual(snapshots, [
      ["oxide-hetzner-talos-amd64", "amd64", "cpx21", "hcloud-amd64.raw.xz"],
      ["oxide-hetzner-talos-arm64", "arm64", "cax21", "hcloud-arm64.raw.xz"],
    ]);
  });

  it("boots each server from its architecture's snapshot", () => {
    assert.equal(serverNamed(recorder, "oxide-cp-1").inputs.image, String(hcloudId("oxide-hetzner-talos-amd64")));
    assert.equal(serverNamed(recorder, "oxide-arm-1").inputs.image, String(hcloudId("oxide-hetzner-talos-arm64")));
    const first = recorder.named("oxide-upgrades-talos-minors").dependencies;
    assert.ok(first.includes(recorder.named("oxide-hetzner-talos-amd64").urn) && first.includes(recorder.named("oxide-hetzner-talos-arm64").urn));
  });
});

describe("Hetzner snapshots: hetzner.image names the stack's own", () => {
  it("builds nothing and boots every server from that snapshot", async () => {
    const { recorder } = await runValidProgram(hetznerStackConfig((h) => (h.image = { snapshotId: 123456789 })), "own-snapshot");
    assert.deepEqual(recorder.ofType(SNAPSHOT), []);
    assert.deepEqual(recorder.ofType(SERVER).map((s) => s.inputs.image), Array(5).fill("123456789"));
  });
});
