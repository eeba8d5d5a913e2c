// The synology plugin through the real engine against the fake DSM (tests/support/fake-dsm.ts,
// written from the public VMM clients, not from the plugin; its header cites each parameter).
// One stack, no Talos node dialled (tests/engine/synology-program builds only the VMs, with a
// stand-in for each node's config apply that tells this test when the node is "installed"):
//  1. refusals, nothing made: DSM unreachable, a bad password, a full volume, a full storage, a
//     guest name taken by a guest of another shape;
//     and an ISO whose bytes do not match the factory's checksum (nothing uploaded);
//  2. the first up: the ISO downloaded and checked against the factory's checksum, uploaded with
//     its Content-Length, registered (task lost: found by name); cp-1 created with only the
//     documented parameters (task lost: found by name), sized with `set` while off, given the ISO
//     by image id through the internal set, read back, powered on, installed, its ISO slots
//     emptied; worker-1 left over by an interrupted earlier up, adopted by name, its power-on
//     refused once: it stays in the state;
//  3. the next up powers worker-1 on, installs it and empties its ISO slots; an up after that
//     changes nothing;
//  4. a control plane resize whose `set` fails: the guest is powered on again; the next up
//     resizes it (shut down, set, read back, power on), logging in again when DSM ends the session;
//  5. a disk size change refused at preview; 6. destroy leaves DSM as it was, no task left behind.
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import { FakeDsm, methodTable } from "../support/fake-dsm";
import { engineProject, EngineProject } from "./harness";

const PASSWORD = "correct horse battery staple";
const NODES = [
  { name: "cp-1", role: "controlplane", address: "127.0.0.21", mac: "02:11:32:00:00:21", vcpus: 2, memoryMiB: 4096 },
  { name: "worker-1", role: "worker", address: "127.0.0.31", mac: "02:11:32:00:00:31", vcpus: 2, memoryMiB: 4096 },
];
const GiB = 1024 ** 3;

function stackConfig(dsm: FakeDsm, url: string, change: Record<string, { memoryMiB?: number; diskGiB?: number }> = {}) {
  return {
    "talos-cluster:cluster": { name: "tales", allowLoopbackAddresses: true },
    "talos-cluster:imageFactory": { url: dsm.url, register: false },
    "talos-cluster:nodes": NODES.map((n) => ({
      name: n.name,
      role: n.role,
      platform: "synology-vm",
      address: n.address,
      vm: { vcpus: n.vcpus, memoryMiB: change[n.name]?.memoryMiB ?? n.memoryMiB, diskGiB: change[n.name]?.diskGiB ?? 20, mac: n.mac },
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

/** Where the apply stand-ins report an install: the node, and how many DSM calls had been made then. */
async function installListener(dsm: FakeDsm): Promise<{ url: string; installs: { node: string; atCall: number }[]; close: () => void }> {
  const installs: { node: string; atCall: number }[] = [];
  const server = http.createServer((req, res) => {
    installs.push({ node: (req.url ?? "/").slice(1), atCall: dsm.calls.length });
    res.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, installs, close: () => server.close() };
}

/** `API method` of each recorded call line. */
const verbs = (lines: string[]) => lines.map((c) => c.split(" ").slice(0, 2).join(" "));

describe("Synology VMs through the engine against a fake DSM", function () {
  this.timeout(300_000);
  let dsm: FakeDsm;
  let project: EngineProject;
  let stack: Stack;
  let ports: { port: number; close: () => void };
  let installs: Awaited<ReturnType<typeof installListener>>;
  const transcript: string[] = [];
  const started = Date.now();

  before(async () => {
    dsm = await FakeDsm.start({ user: "pulumi", password: PASSWORD });
    ports = await nodePorts();
    installs = await installListener(dsm);
    project = engineProject("engine-test-passphrase", "tests/engine/synology-program");
    stack = await project.stack("synology", stackConfig(dsm, dsm.url));
    await stack.setConfig("synology-test:readyPort", { value: String(ports.port) });
    await stack.setConfig("synology-test:installUrl", { value: installs.url });
    await stack.setConfig("talos-cluster:synologyPassword", { value: PASSWORD, secret: true });
  });

  after(async () => {
    ports?.close();
    installs?.close();
    await dsm?.stop();
    project?.cleanup();
    const log = process.env.SYNOLOGY_ENGINE_TRANSCRIPT;
    if (log) fs.writeFileSync(path.resolve(log), `${transcript.join("\n")}\nwall time: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  const nothingOnDsm = () => {
    assert.deepEqual([dsm.guests.size, dsm.images.size, dsm.files.size], [0, 0, 0], "nothing may be left on DSM");
    assert.deepEqual(dsm.taskIds, [], "every task the plugin started is cleared");
    assert.equal(dsm.sessions.size, 0, "every session is logged out when the plugin exits");
  };

  /** One call to the fake over HTTPS, as any DSM client makes it; the data, or the error code thrown. */
  const dsmCall = (api: string, method: string, version: number, params: Record<string, string>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const body = new URLSearchParams({ api, method, version: String(version), ...params }).toString();
      const req = https.request(`${dsm.url}/webapi/entry.cgi`, { method: "POST", ca: dsm.caCertPem, headers: { "content-type": "application/x-www-form-urlencoded" } }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => {
          const answer = JSON.parse(text) as { success: boolean; data?: Record<string, unknown>; error?: { code: number } };
          if (answer.success) resolve(answer.data ?? {});
          else reject(new Error(`DSM ${api} ${method}: error ${answer.error?.code}`));
        });
      });
      req.on("error", reject);
      req.end(body);
    });

  /** A guest as an earlier, interrupted up (or a person) left it: made by DSM's public create, never sized. Its id. */
  const leftover = async (name: string, mac: string, diskGiB: number): Promise<string> => {
    const { sid } = (await dsmCall("SYNO.API.Auth", "login", 6, { account: "pulumi", passwd: PASSWORD, session: "VirtualizationAPI", format: "sid" })) as { sid: string };
    const { task_id } = (await dsmCall("SYNO.Virtualization.API.Guest", "create", 1, {
      _sid: sid,
      guest_name: name,
      storage_name: "volume1",
      vnics: JSON.stringify([{ mac, network_id: "net-1" }]),
      vdisks: JSON.stringify([{ create_type: 0, vdisk_size: diskGiB * 1024 }]),
      auto_clean_task: "false",
    })) as { task_id: string };
    let task: { finish?: boolean; task_info?: { guest_id?: string } } = {};
    while (!task.finish) task = await dsmCall("SYNO.Virtualization.API.Task.Info", "get", 1, { _sid: sid, task_id });
    await dsmCall("SYNO.Virtualization.API.Task.Info", "clear", 1, { _sid: sid, task_id });
    await dsmCall("SYNO.API.Auth", "logout", 6, { _sid: sid, session: "VirtualizationAPI" });
    return task.task_info!.guest_id!;
  };

  it("refuses an unreachable DSM, a bad password, a full volume, a full storage and a taken guest name, making nothing", async () => {
    // One up, five refusals (each its own provider and resource), so the engine starts once.
    const refusals = [
      { name: "unreachable", url: `https://127.0.0.1:${await closedPort()}`, password: PASSWORD, imageFolder: "/vmm-images" },
      { name: "bad-password", url: dsm.url, password: "wrong password", imageFolder: "/vmm-images" },
      { name: "full-volume", url: dsm.url, password: PASSWORD, imageFolder: "/full" },
      { name: "full-storage", url: dsm.url, password: PASSWORD, guestDiskGiB: 2000 },
      { name: "taken", url: dsm.url, password: PASSWORD, guestName: "squatter" },
    ];
    const squatter = await leftover("squatter", "02:11:32:00:00:99", 8);
    const from = dsm.calls.length;
    await stack.setConfig("synology-test:refusals", { value: JSON.stringify(refusals), secret: true });
    dsm.fullFolders.add("/full");
    const err = await stack
      .up({ continueOnError: true })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      )
      .finally(() => stack.removeConfig("synology-test:refusals"));
    assert.ok(err, "up should have failed");
    const line = (name: string) => err.message.split("\n").find((l) => l.includes(`refusal-${name} **creating failed**`))?.replace(/^.*?error: /, "") ?? `(no line for ${name})`;
    const [a, b, c, d, e] = refusals.map((r) => line(r.name));
    transcript.push("# up against refusing DSMs", `unreachable:  ${a}`, `bad password: ${b}`, `full volume:  ${c}`, `full storage: ${d}`, `taken name:   ${e}`);
    assert.match(a!, /^image talos-v1\.14\.1-[0-9a-f]{12}: cannot reach DSM at https:\/\/127\.0\.0\.1:\d+: .*connection refused; check talos-cluster:synology\.url/);
    assert.match(b!, /^image talos-v1\.14\.1-[0-9a-f]{12}: DSM SYNO\.API\.Auth login failed with error 400 \(no such account or incorrect password\): check talos-cluster:synology\.user and the encrypted talos-cluster:synologyPassword$/);
    assert.match(c!, /^upload of the ISO to \/full: DSM SYNO\.FileStation\.Upload upload failed with error 416 \(no space left on device\): the volume of talos-cluster:synology\.imageFolder is full$/);
    assert.match(d!, /^guest cp-1: no space for guest cp-1: VMM storage "volume1" has 916\.0 GiB free, its disk needs 2000 GiB; free space there or choose another storage \(talos-cluster:synology\.storage\)$/);
    assert.equal(
      e,
      `guest squatter: VMM already has a guest named squatter (id ${squatter}) that this stack did not make: its disks are 8192 MiB, not one of 20 GiB; its NICs are 02:11:32:00:00:99 on "Default VM Network", not one with MAC 02:11:32:00:00:21 on "Default VM Network"; delete or rename it in Virtual Machine Manager, or rename the node`,
    );
    assert.equal(dsm.downloads.length, 1, "only the image whose DSM let it log in got as far as the download");
    assert.deepEqual(
      dsm.calls.slice(from).filter((x) => x.method === "create" || (x.method === "set" && x.api.includes("Guest"))).map((x) => x.api),
      [],
      "no guest or image was created or changed",
    );
    dsm.guests.delete(squatter);
    dsm.usedBytes -= 8 * GiB;
    nothingOnDsm();
  });

  it("refuses an ISO whose bytes do not match the factory's checksum, before uploading anything", async () => {
    const from = dsm.calls.length;
    dsm.corruptNextDownload = true;
    const err = await stack.up().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const message = err?.message.split("\n").find((l) => l.includes("SHA-256") && l.includes("error:"))?.replace(/^.*?error: /, "") ?? "(no message)";
    transcript.push(`# up with a corrupted download: ${message}`);
    assert.match(message, /^image talos-v1\.14\.1-[0-9a-f]{12}: download https:\/\/127\.0\.0\.1:\d+\/image\/[0-9a-f]{64}\/v1\.14\.1\/metal-amd64\.iso: SHA-256 [0-9a-f]{64}, but the Image Factory's checksum is [0-9a-f]{64}; nothing was uploaded$/);
    assert.deepEqual(verbs(dsm.callLines(from)).filter((c) => / (upload|create)$/.test(c)), [], "nothing uploaded, no image and no guest made");
    nothingOnDsm();
  });

  it("creates with the documented parameters, sizes before power-on, mounts the ISO by id, and empties it once installed; lost tasks and a leftover are found by name", async () => {
    const worker = await leftover("worker-1", "02:11:32:00:00:31", 20);
    const from = dsm.calls.length;
    const downloads = dsm.downloads.length;
    dsm.loseNextTask("image");
    dsm.loseNextTask("guest");
    dsm.refusePowerOn.set("worker-1", 903);
    // continueOnError: cp-1's install and boot switch do not depend on worker-1, so they run
    // whatever the order the engine happens to pick.
    const err = await stack.up({ continueOnError: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    assert.ok(err, "up should have failed: worker-1 does not power on");
    const calls = dsm.callLines(from);
    const failure = err.message.split("\n").find((l) => /guest worker-1: created but/.test(l))?.replace(/^\s*\* /, "");
    // The request list of one full up, beside the parameters the fake takes and their sources.
    const used = new Set(verbs(calls));
    transcript.push(
      "# the fake's parameter table for the methods this up called (sources: tests/support/fake-dsm.ts header)",
      ...methodTable().filter((row) => used.has(row.split(" v")[0]!)),
      "# up: the calls the fake DSM recorded (image and cp-1 tasks lost, worker-1 left over and its power-on refused once)",
      ...calls,
      `error: ${failure}`,
    );
    console.log(transcript.slice(-calls.length - used.size - 3).map((l) => `      ${l}`).join("\n"));
    assert.equal(failure, "guest worker-1: created but did not power on: DSM SYNO.Virtualization.API.Guest.Action poweron failed with error 903 (failed to power on: insufficient memory): the NAS has not enough free memory for this guest");
    assert.equal(dsm.downloads.length - downloads, 1, "the ISO is downloaded once");
    assert.equal(calls.filter((c) => c.startsWith("SYNO.API.Auth login")).length, 1, "one session for the whole up");
    assert.equal(calls.at(-1), "SYNO.API.Auth logout session=VirtualizationAPI");
    const upload = calls.find((c) => c.startsWith("SYNO.FileStation.Upload"))!;
    assert.match(upload, /content-length=\d+$/, "the upload says its length");

    const [image] = [...dsm.images.values()];
    const guests = [...dsm.guests.values()];
    const cp = guests.find((g) => g.guest_name === "cp-1")!;
    // Each guest's own calls, in order (the guest_id or name in them), reduced to API and method.
    const of = (g: { guest_id: string; guest_name: string }) => verbs(calls.filter((c) => c.includes(`guest_id=${g.guest_id}`) || c.includes(`guest_name=${g.guest_name} `) || c.endsWith(`guest_name=${g.guest_name}`)));
    assert.deepEqual(of(cp), [
      "SYNO.Virtualization.API.Guest create", // guest_name, storage_name, vnics, vdisks, auto_clean_task=false only
      "SYNO.Virtualization.API.Guest get",
      "SYNO.Virtualization.API.Guest set", // sizing, autorun, description: before the first power-on
      "SYNO.Virtualization.Guest set", // internal: the ISO by image id
      "SYNO.Virtualization.API.Guest get", // read back
      "SYNO.Virtualization.API.Guest.Action poweron",
      "SYNO.Virtualization.Guest set", // installed: ISO slots emptied
    ]);
    const create = calls.find((c) => c.startsWith("SYNO.Virtualization.API.Guest create"))!;
    assert.deepEqual(create.split(" ").slice(2).map((kv) => kv.split("=")[0]).sort(), ["auto_clean_task", "guest_name", "storage_name", "vdisks", "vnics"]);
    assert.match(create, / auto_clean_task=false/);
    assert.ok(calls.includes(`SYNO.Virtualization.API.Guest set autorun=1 description=Talos controlplane cp-1 (talos-cluster) guest_id=${cp.guest_id} vcpu_num=2 vram_size=4096`), "cp-1 sized by the public set");
    assert.ok(calls.includes(`SYNO.Virtualization.Guest set autorun=1 guest_id=${cp.guest_id} guest_name=cp-1 iso_images=["${image!.image_id}","unmounted"]`), "the ISO by its image id");
    // The install reported by cp-1's apply stand-in came after its power-on and before its ISO slots were emptied.
    const cpInstall = installs.installs.find((i) => i.node === "cp-1")!;
    const emptied = dsm.calls.findIndex((c, i) => i >= from && c.api === "SYNO.Virtualization.Guest" && c.params.guest_id === cp.guest_id && c.params.iso_images === '["unmounted","unmounted"]');
    const poweredOn = dsm.calls.findIndex((c, i) => i >= from && c.method === "poweron" && c.params.guest_id === cp.guest_id);
    assert.ok(poweredOn < cpInstall.atCall && cpInstall.atCall <= emptied, `power-on ${poweredOn} < install ${cpInstall.atCall} <= emptied ${emptied}`);
    // Lost tasks: answered 1000, then the image and the guest were found by name; every task cleared.
    assert.equal(calls.filter((c) => c.startsWith("SYNO.Virtualization.API.Task.Info clear")).length, 0, "both tasks of this up were lost: nothing to clear");
    assert.deepEqual(dsm.taskIds, [], "no task left behind");
    // The leftover worker-1 was adopted (no create for it), sized, given the ISO, read back.
    assert.equal(guests.find((g) => g.guest_name === "worker-1")!.guest_id, worker);
    assert.deepEqual(of({ guest_id: worker, guest_name: "worker-1" }), [
      "SYNO.Virtualization.API.Guest get",
      "SYNO.Virtualization.API.Guest get",
      "SYNO.Virtualization.API.Guest set",
      "SYNO.Virtualization.Guest set",
      "SYNO.Virtualization.API.Guest get",
      "SYNO.Virtualization.API.Guest.Action poweron",
    ]);
    assert.deepEqual(
      guests.map((g) => [g.guest_name, g.status, g.vcpu_num, g.vram_size, g.vdisks[0]?.vdisk_size, g.vnics[0]?.mac, g.autorun, g.iso_images]).sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      [
        ["cp-1", "running", 2, 4096, 20480, "02:11:32:00:00:21", 1, ["unmounted", "unmounted"]],
        ["worker-1", "shutdown", 2, 4096, 20480, "02:11:32:00:00:31", 1, [image!.image_id, "unmounted"]],
      ],
    );
    // Both guests are in the state, worker-1 with its guest id: nothing made is lost.
    const inState = ((await stack.exportStack()).deployment.resources as { type: string; id?: string }[]).filter((r) => r.type === "synology:vmm:Guest").map((r) => r.id).sort();
    assert.deepEqual(inState, guests.map((g) => g.guest_id).sort());
    assert.equal(dsm.sessions.size, 0);
  });

  it("powers worker-1 on at the next up, installs it and empties its ISO slots; then an up changes nothing", async () => {
    let from = dsm.calls.length;
    const result = await stack.up();
    transcript.push(`# next up: ${JSON.stringify(result.summary.resourceChanges)}`, ...dsm.callLines(from));
    const worker = [...dsm.guests.values()].find((g) => g.guest_name === "worker-1")!;
    assert.deepEqual([...dsm.guests.values()].map((g) => [g.guest_name, g.status, g.iso_images]).sort(), [
      ["cp-1", "running", ["unmounted", "unmounted"]],
      ["worker-1", "running", ["unmounted", "unmounted"]],
    ]);
    assert.deepEqual(dsm.calls.slice(from).filter((c) => c.method === "poweron").map((c) => c.params.guest_id), [worker.guest_id]);
    assert.deepEqual(installs.installs.map((i) => i.node).sort(), ["cp-1", "worker-1"]);
    // worker-1's apply stand-in and boot switch are new; its guest is powered on (update).
    assert.deepEqual(result.summary.resourceChanges, { create: 2, same: 8, update: 1 });

    from = dsm.calls.length;
    const again = await stack.up();
    transcript.push(`# up again: ${JSON.stringify(again.summary.resourceChanges)}`);
    assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"]);
    assert.deepEqual(dsm.callLines(from), [], "an up without changes does not even log in");
  });

  it("resizes a control plane in place; a failed set powers it back on, the next up resizes it", async () => {
    const cp = [...dsm.guests.values()].find((g) => g.guest_name === "cp-1")!;
    const ids = [...dsm.guests.keys()];
    await stack.setConfig("talos-cluster:nodes", { value: JSON.stringify(stackConfig(dsm, dsm.url, { "cp-1": { memoryMiB: 6144 } })["talos-cluster:nodes"]) });
    dsm.failNextSet.set("cp-1", 402);
    let from = dsm.calls.length;
    const err = await stack.up().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    assert.ok(err, "up should have failed: the set was refused");
    const failed = dsm.callLines(from);
    transcript.push("# up, cp-1 memory 4096 -> 6144 MiB, its set refused (402)", ...failed);
    const actions = (lines: string[]) => lines.filter((c) => / (shutdown|poweroff|poweron|set) /.test(c)).map((c) => c.split(" ").slice(0, 2).join(" "));
    assert.deepEqual(actions(failed), ["SYNO.Virtualization.API.Guest.Action shutdown", "SYNO.Virtualization.API.Guest set", "SYNO.Virtualization.API.Guest.Action poweron"]);
    assert.deepEqual([cp.status, cp.vram_size], ["running", 4096], "the control plane runs again, at its old size");
    assert.match(err.message, /guest cp-1: DSM SYNO\.Virtualization\.API\.Guest set failed with error 402 \(operation failed\)/);

    dsm.expireSessionAt = "set";
    from = dsm.calls.length;
    const result = await stack.up();
    const lines = dsm.callLines(from);
    transcript.push(`# up again: ${JSON.stringify(result.summary.resourceChanges)}`, ...lines);
    assert.deepEqual(result.summary.resourceChanges, { same: 10, update: 1 });
    assert.deepEqual([...dsm.guests.keys()], ids, "the same guests");
    assert.deepEqual([cp.status, cp.vram_size, cp.vcpu_num], ["running", 6144, 2]);
    // The first set met a timed-out session (106): one new login, the same set again, only the memory.
    assert.deepEqual(
      lines.filter((c) => / (shutdown|poweroff|poweron|set) /.test(c)),
      [
        `SYNO.Virtualization.API.Guest.Action shutdown guest_id=${cp.guest_id}`,
        `SYNO.Virtualization.API.Guest set guest_id=${cp.guest_id} vram_size=6144`,
        `SYNO.Virtualization.API.Guest set guest_id=${cp.guest_id} vram_size=6144`,
        `SYNO.Virtualization.API.Guest.Action poweron guest_id=${cp.guest_id}`,
      ],
    );
    assert.equal(lines.filter((c) => c.startsWith("SYNO.API.Auth login")).length, 2);
    assert.equal(dsm.sessions.size, 0);
  });

  it("refuses a disk size change at preview, before anything runs", async () => {
    await stack.setConfig("talos-cluster:nodes", { value: JSON.stringify(stackConfig(dsm, dsm.url, { "cp-1": { memoryMiB: 6144 }, "worker-1": { diskGiB: 10 } })["talos-cluster:nodes"]) });
    const from = dsm.calls.length;
    const err = await stack.preview().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const message = err?.message.split("\n").find((l) => l.includes("cannot shrink"))?.trim() ?? "(no message)";
    transcript.push(`# preview, worker-1 disk 20 -> 10 GiB: ${message}`);
    assert.match(message, /guest worker-1: the disk cannot shrink from 20 to 10 GiB: a virtual disk never shrinks; set vm\.diskGiB back to 20, or replace the node/);
    assert.deepEqual(dsm.callLines(from), [], "a preview does not call DSM");
    await stack.setConfig("talos-cluster:nodes", { value: JSON.stringify(stackConfig(dsm, dsm.url, { "cp-1": { memoryMiB: 6144 } })["talos-cluster:nodes"]) });
  });

  it("destroy shuts down and deletes the guests with their disks, then the image and the ISO", async () => {
    const from = dsm.calls.length;
    const result = await stack.destroy();
    transcript.push(`# destroy: ${JSON.stringify(result.summary.resourceChanges)}`, ...dsm.callLines(from).filter((c) => / (shutdown|poweroff|delete) /.test(c)));
    assert.equal(result.summary.resourceChanges?.delete, 11); // stack, 2 components, provider, image, 2 guests, 2 apply stand-ins, 2 boot switches
    nothingOnDsm();
    assert.equal(dsm.usedBytes, 100 * GiB, "the disks' space is free again");
  });
});
