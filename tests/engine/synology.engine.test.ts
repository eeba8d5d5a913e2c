// The synology plugin through the real engine against the fake DSM (tests/support/fake-dsm.ts):
// the refusals first (bad password, DSM unreachable, a full volume, a full VMM storage: nothing is made), then one `up`
// that uploads and registers the ISO and creates and powers on both guests, an `up` that changes
// nothing, a memory change made in place, and a destroy that leaves DSM as it was. The first
// creating `up` has the worker's power-on refused once: the guest stays in the state and the
// next `up` powers it on. One stack, no Talos node dialled (tests/engine/synology-program
// builds only the VMs).
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { FakeDsm } from "../support/fake-dsm";
import { engineProject, EngineProject } from "./harness";

const PASSWORD = "correct horse battery staple";
const NODES = [
  { name: "cp-1", role: "controlplane", address: "127.0.0.21", mac: "02:11:32:00:00:21", vcpus: 2, memoryMiB: 4096 },
  { name: "worker-1", role: "worker", address: "127.0.0.31", mac: "02:11:32:00:00:31", vcpus: 2, memoryMiB: 4096 },
];

function stackConfig(dsm: FakeDsm, url: string, memory: Record<string, number> = {}) {
  return {
    "talos-cluster:cluster": { name: "tales", allowLoopbackAddresses: true },
    "talos-cluster:imageFactory": { url: `${dsm.url}/factory`, register: false },
    "talos-cluster:nodes": NODES.map((n) => ({
      name: n.name,
      role: n.role,
      platform: "synology-vm",
      address: n.address,
      vm: { vcpus: n.vcpus, memoryMiB: memory[n.name] ?? n.memoryMiB, diskGiB: 20, mac: n.mac },
    })),
    "talos-cluster:synology": { url, user: "pulumi", storage: "volume1", caCert: dsm.caCertPem },
  };
}

/** Listens on each node's address at one port: the stand-in for the Talos API answering again. */
async function nodePorts(): Promise<{ port: number; close: () => void }> {
  const servers: net.Server[] = [];
  let port = 0;
  for (const n of NODES) {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, n.address, resolve));
    port = (server.address() as net.AddressInfo).port;
    servers.push(server);
  }
  return { port, close: () => servers.forEach((s) => s.close()) };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("Synology VMs through the engine against a fake DSM", function () {
  this.timeout(300_000);
  let dsm: FakeDsm;
  let project: EngineProject;
  let stack: Stack;
  let ports: { port: number; close: () => void };
  const transcript: string[] = [];
  const started = Date.now();

  before(async () => {
    dsm = await FakeDsm.start({ user: "pulumi", password: PASSWORD });
    ports = await nodePorts();
    project = engineProject("engine-test-passphrase", "tests/engine/synology-program");
    stack = await project.stack("synology", stackConfig(dsm, dsm.url));
    await stack.setConfig("synology-test:readyPort", { value: String(ports.port) });
    await stack.setConfig("talos-cluster:synologyPassword", { value: PASSWORD, secret: true });
  });

  after(async () => {
    ports?.close();
    await dsm?.stop();
    project?.cleanup();
    const log = process.env.SYNOLOGY_ENGINE_TRANSCRIPT;
    if (log) fs.writeFileSync(path.resolve(log), `${transcript.join("\n")}\nwall time: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  const nothingOnDsm = () => {
    assert.deepEqual([dsm.guests.size, dsm.images.size, dsm.files.size], [0, 0, 0], "nothing may be left on DSM");
    assert.equal(dsm.sessions.size, 0, "every session is logged out when the plugin exits");
  };

  it("refuses an unreachable DSM, a bad password, a full volume and a full storage with a clear message, making nothing", async () => {
    // One up, four refusals (each its own provider and resource), so the engine starts once.
    const refusals = [
      { name: "unreachable", url: `https://127.0.0.1:${await closedPort()}`, password: PASSWORD, imageFolder: "/vmm-images" },
      { name: "bad-password", url: dsm.url, password: "wrong password", imageFolder: "/vmm-images" },
      { name: "full-volume", url: dsm.url, password: PASSWORD, imageFolder: "/full" },
      { name: "full-storage", url: dsm.url, password: PASSWORD, guestDiskGiB: 2000 },
    ];
    await stack.setConfig("synology-test:refusals", { value: JSON.stringify(refusals), secret: true });
    dsm.fullFolders.add("/full");
    const err = await stack.up({ continueOnError: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    assert.ok(err, "up should have failed");
    const line = (name: string) => err.message.split("\n").find((l) => l.includes(`refusal-${name} **creating failed**`))?.replace(/^.*?error: /, "") ?? `(no line for ${name})`;
    const [a, b, c, d] = refusals.map((r) => line(r.name));
    transcript.push("# up against refusing DSMs", `unreachable:  ${a}`, `bad password: ${b}`, `full volume:  ${c}`, `full storage: ${d}`);
    assert.match(a!, /^image talos-v1\.14\.1-[0-9a-f]{12}: cannot reach DSM at https:\/\/127\.0\.0\.1:\d+: .*connection refused; check talos-cluster:synology\.url/);
    assert.match(b!, /^image talos-v1\.14\.1-[0-9a-f]{12}: DSM SYNO\.API\.Auth login failed with error 400 \(no such account or incorrect password\): check talos-cluster:synology\.user and the encrypted talos-cluster:synologyPassword$/);
    assert.match(c!, /^upload of the ISO to \/full: DSM SYNO\.FileStation\.Upload upload failed with error 416 \(no space left on device\): the volume of talos-cluster:synology\.imageFolder is full$/);
    assert.match(d!, /^guest cp-1: no space for guest cp-1: VMM storage "volume1" has 924\.0 GiB free, its disk needs 2000 GiB; free space there or choose another storage \(talos-cluster:synology\.storage\)$/);
    assert.equal(dsm.downloads.length, 1, "only the image whose DSM let it log in got as far as the download");
    nothingOnDsm();
    await stack.removeConfig("synology-test:refusals");
  });

  it("creates the image and both guests in rollout order; a guest whose power-on fails stays in the state", async () => {
    const from = dsm.calls.length;
    const downloads = dsm.downloads.length;
    dsm.refusePowerOn.set("worker-1", 903);
    const err = await stack.up().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    assert.ok(err, "up should have failed: worker-1 does not power on");
    const calls = dsm.callLines(from);
    const failure = err.message.split("\n").find((l) => /guest worker-1 was created/.test(l))?.replace(/^\s*\* /, "");
    transcript.push("# up: the calls the fake DSM recorded (worker-1's power-on refused once)", ...calls, `error: ${failure}`);
    assert.equal(failure, "guest worker-1 was created but did not power on: DSM SYNO.Virtualization.API.Guest.Action poweron failed with error 903 (failed to power on: insufficient memory): the NAS has not enough free memory for this guest");
    assert.equal(dsm.downloads.length - downloads, 1, "the ISO is downloaded once");
    assert.equal(calls.filter((c) => c.startsWith("SYNO.API.Auth login")).length, 1, "one session for the whole up");
    assert.equal(calls.at(-1), "SYNO.API.Auth logout session=VirtualizationAPI");
    // Image, then the control plane's guest and power-on, then the worker's (rollout order).
    const order = calls.map((c) => c.split(" ").slice(0, 2).join(" ")).filter((c) => / (create|upload|poweron)$/.test(c));
    assert.deepEqual(order, [
      "SYNO.FileStation.Upload upload",
      "SYNO.Virtualization.API.Guest.Image create",
      "SYNO.Virtualization.API.Guest create",
      "SYNO.Virtualization.API.Guest.Action poweron",
      "SYNO.Virtualization.API.Guest create",
      "SYNO.Virtualization.API.Guest.Action poweron",
    ]);
    const guests = [...dsm.guests.values()];
    assert.deepEqual(
      guests.map((g) => [g.guest_name, g.status, g.vcpu_num, g.vram_size, g.vdisks[0]?.vdisk_size, g.vnics[0]?.mac, g.vnics[0]?.network_name, g.autorun, g.iso_images[1]]),
      [
        ["cp-1", "running", 2, 4096, 20480, "02:11:32:00:00:21", "Default VM Network", 1, "unmounted"],
        ["worker-1", "shutdown", 2, 4096, 20480, "02:11:32:00:00:31", "Default VM Network", 1, "unmounted"],
      ],
    );
    const [image] = [...dsm.images.values()];
    assert.match(image!.image_name, /^talos-v1\.14\.1-[0-9a-f]{12}$/);
    assert.equal(guests[0]!.iso_images[0], image!.image_name);
    // Both guests are in the state, the worker with its guest id: nothing made is lost.
    const inState = ((await stack.exportStack()).deployment.resources as { type: string; id?: string }[]).filter((r) => r.type === "synology:vmm:Guest").map((r) => r.id);
    assert.deepEqual(inState, guests.map((g) => g.guest_id));
    assert.equal(dsm.sessions.size, 0);
  });

  it("powers that guest on at the next up", async () => {
    const from = dsm.calls.length;
    const result = await stack.up();
    transcript.push(`# next up: ${JSON.stringify(result.summary.resourceChanges)}`, ...dsm.callLines(from));
    // The failed up stopped before removing the refusal step's four providers: they go now.
    assert.deepEqual(result.summary.resourceChanges, { delete: 4, same: 5, update: 1 });
    assert.deepEqual([...dsm.guests.values()].map((g) => [g.guest_name, g.status]), [["cp-1", "running"], ["worker-1", "running"]]);
    assert.deepEqual(dsm.calls.slice(from).filter((c) => c.method === "poweron").map((c) => c.params.guest_id), [[...dsm.guests.keys()][1]]);
  });

  it("changes nothing on a second up", async () => {
    const from = dsm.calls.length;
    const again = await stack.up();
    transcript.push(`# second up: ${JSON.stringify(again.summary.resourceChanges)}`);
    assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"]);
    assert.deepEqual(dsm.callLines(from), [], "an up without changes does not even log in");
  });

  it("changes memory in place: power off, set, power on, one guest (logging in again when DSM ends the session)", async () => {
    const ids = [...dsm.guests.keys()];
    dsm.expireSessionAt = "set";
    await stack.setConfig("talos-cluster:nodes", { value: JSON.stringify(stackConfig(dsm, dsm.url, { "worker-1": 6144 })["talos-cluster:nodes"]) });
    const from = dsm.calls.length;
    const result = await stack.up();
    transcript.push(`# up, worker-1 memory 4096 -> 6144 MiB: ${JSON.stringify(result.summary.resourceChanges)}`, ...dsm.callLines(from));
    assert.deepEqual(result.summary.resourceChanges, { same: 5, update: 1 });
    assert.deepEqual([...dsm.guests.keys()], ids, "the same guests");
    assert.deepEqual([...dsm.guests.values()].map((g) => [g.guest_name, g.vram_size, g.status]), [["cp-1", 4096, "running"], ["worker-1", 6144, "running"]]);
    const actions = dsm.calls.slice(from).filter((c) => /^(poweroff|poweron|set)$/.test(c.method)).map((c) => `${c.api} ${c.method} guest_id=${c.params.guest_id}`);
    // The first `set` met a timed-out session (106): one new login, the same `set` again.
    assert.deepEqual(actions, [
      `SYNO.Virtualization.API.Guest.Action poweroff guest_id=${ids[1]}`,
      `SYNO.Virtualization.API.Guest set guest_id=${ids[1]}`,
      `SYNO.Virtualization.API.Guest set guest_id=${ids[1]}`,
      `SYNO.Virtualization.API.Guest.Action poweron guest_id=${ids[1]}`,
    ]);
    assert.equal(dsm.callLines(from).filter((c) => c.startsWith("SYNO.API.Auth login")).length, 2);
    assert.equal(dsm.sessions.size, 0);
  });

  it("destroy powers off and deletes the guests with their disks, then the image and the ISO", async () => {
    const from = dsm.calls.length;
    const result = await stack.destroy();
    transcript.push(`# destroy: ${JSON.stringify(result.summary.resourceChanges)}`, ...dsm.callLines(from).filter((c) => / (poweroff|delete) /.test(c)));
    assert.equal(result.summary.resourceChanges?.delete, 6); // the stack, the component, the provider, the image, two guests
    nothingOnDsm();
    assert.equal(dsm.usedBytes, 100 * 1024 ** 3, "the disks' space is free again");
  });
});
