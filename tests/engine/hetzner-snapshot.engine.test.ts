// The hcloudimage plugin through the real engine: the Talos snapshot built against the fake
// Hetzner Cloud API (tests/support/fake-hcloud.ts, written from Hetzner's API reference and
// hcloud-go's types), whose "rescue system" is a REAL OpenSSH server on loopback
// (tests/support/openssh.ts) with a file as its disk, and a loopback HTTP server as the Image
// Factory serving a small .xz. tests/engine/hetzner-snapshot-program builds only the snapshots.
//  1. a preview makes no API call;
//  2. up: key, stopped server, rescue with that key, power on, the image written over SSH (the
//     disk file holds the decompressed bytes), power off, a labelled snapshot, then the server
//     and key deleted; the token is nowhere in the state in plain text;
//  3. a Talos version change builds a new snapshot before what boots from it, and deletes the
//     old one after that, at the end of the up; 4. destroy deletes the snapshot;
//  5. a build whose snapshot action fails deletes that snapshot, the server and the key; a wrong token is
//     refused with Hetzner's 401 and creates nothing.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { AddressInfo } from "node:net";
import path from "node:path";
import { schematicId } from "../../components/talos/image-schematic";
import { FakeHcloud } from "../support/fake-hcloud";
import { OpenSshServer, startOpenSsh } from "../support/openssh";
import { engineProject, EngineProject } from "./harness";

const TOKEN = "t".repeat(64);
const OLD = "v1.14.0";
const NEW = "v1.14.1";
const SCHEMATIC = schematicId({ extensions: [], extraKernelArgs: [] });

/** The factory's raw image stand-in: 256 KiB that differ per version, and its .xz. */
function rawImage(version: string): Buffer {
  return Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => (i * 7 + version.charCodeAt(version.length - 1)) % 251));
}

async function factory(): Promise<{ url: string; requests: string[]; close: () => void }> {
  const requests: string[] = [];
  const xz = new Map([OLD, NEW].map((v) => [v, execFileSync("xz", ["-c", "-1"], { input: rawImage(v) })]));
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    const m = /^\/image\/([0-9a-f]{64})\/(v[0-9.]+)\/hcloud-(amd64|arm64)\.raw\.xz$/.exec(req.url ?? "");
    const body = m && xz.get(m[2]!);
    res.writeHead(body ? 200 : 404);
    res.end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => server.close() };
}

/** The stack's config but the token, which the test sets as a secret. */
function stackConfig(opts: { version: string; factoryUrl: string; fake: FakeHcloud; sshd: OpenSshServer; disk: string }) {
  return {
    "talos-cluster:cluster": { name: "oxide", talosVersion: opts.version },
    "talos-cluster:imageFactory": { url: opts.factoryUrl, register: false },
    "talos-cluster:hetzner": {
      location: "fsn1",
      adminCidrs: ["203.0.113.0/24"],
      pools: [
        { name: "cp", role: "controlplane", count: 3, serverType: "cpx21" },
        { name: "worker", role: "worker", count: 1, serverType: "cpx31" },
      ],
    },
    "snapshot-test:builder": { endpoint: opts.fake.endpoint, sshPort: opts.sshd.port, sshUser: opts.sshd.user, disk: opts.disk, pollIntervalMs: 20 },
    "snapshot-test:marker": opts.fake.marker,
  };
}

/** The calls as "METHOD path", IDs replaced by {id}, the action polls collapsed to "poll". */
const shape = (fake: FakeHcloud) => fake.calls.map((c) => (c.path === "/v1/actions" ? "poll" : `${c.method} ${c.path.replace(/\/\d+(?=\/|$)/g, "/{id}")}`));

describe("hcloudimage: the Talos snapshot built against the fake Hetzner Cloud API and a real sshd", function () {
  let project: EngineProject;
  let fake: FakeHcloud;
  let sshd: OpenSshServer;
  let images: Awaited<ReturnType<typeof factory>>;
  let disk: string;
  let failures: ReturnType<typeof failureScenario>;

  /**
   * A second stack on a fake whose create_image action fails (its own disk file): an up that
   * fails, then an up with a wrong token, with its own factory and disk file. Started in
   * `before`, beside the main sequence.
   */
  async function failureScenario() {
    const failing = await new FakeHcloud({ token: TOKEN, failActions: ["create_image"], onRescueBoot: authorize }).start();
    const itsFactory = await factory();
    const left = () => [failing.servers.size, failing.sshKeys.size, failing.images.size];
    const message = (p: Promise<unknown>) => p.then(() => "succeeded", (err: Error) => err.message);
    try {
      const stack = await project.stack("fails", stackConfig({ version: NEW, factoryUrl: itsFactory.url, fake: failing, sshd, disk: path.join(sshd.home, "sdb") }));
      await stack.setConfig("hcloud:token", { value: TOKEN, secret: true });
      const failed = await message(stack.up());
      const afterFailure = { calls: shape(failing), left: left() };
      failing.calls.length = 0;
      await stack.setConfig("hcloud:token", { value: "w".repeat(64), secret: true });
      const unauthorized = await message(stack.up());
      return { failed, afterFailure, unauthorized, afterUnauthorized: { calls: shape(failing), left: left() } };
    } finally {
      itsFactory.close();
      await failing.stop();
    }
  }

  /** What Hetzner does at a rescue boot: the keys enable_rescue named go into authorized_keys. */
  const authorize = (_server: unknown, keys: string[]) => fs.appendFileSync(path.join(path.dirname(sshd.privateKeyPath), "authorized_keys"), keys.map((k) => `${k.trim()}\n`).join(""));

  before(async () => {
    sshd = await startOpenSsh();
    fake = await new FakeHcloud({ token: TOKEN, onRescueBoot: authorize }).start();
    images = await factory();
    disk = path.join(sshd.home, "sda");
    project = engineProject(undefined, "tests/engine/hetzner-snapshot-program");
    failures = failureScenario();
    failures.catch(() => undefined); // awaited (and reported) by its test
  });

  after(async () => {
    await failures?.catch(() => undefined);
    project?.cleanup();
    images?.close();
    await fake?.stop();
    await sshd?.stop();
  });

  it("previews without a single API call, then builds the snapshot: rescue, image written, snapshot, server and key deleted", async () => {
    const stack = await project.stack("snap", stackConfig({ version: OLD, factoryUrl: images.url, fake, sshd, disk }));
    await stack.setConfig("hcloud:token", { value: TOKEN, secret: true });
    const preview = await stack.preview();
    assert.equal(preview.changeSummary.create, 4, JSON.stringify(preview.changeSummary)); // stack, component, snapshot, command
    assert.deepEqual(fake.callLines(), []);
    assert.deepEqual(images.requests.length, 0);

    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    assert.deepEqual(shape(fake), [
      "POST /v1/ssh_keys",
      "POST /v1/servers",
      "poll",
      "POST /v1/servers/{id}/actions/enable_rescue",
      "poll",
      "POST /v1/servers/{id}/actions/poweron",
      "poll",
      "POST /v1/servers/{id}/actions/poweroff",
      "poll",
      "POST /v1/servers/{id}/actions/create_image",
      "poll",
      "DELETE /v1/servers/{id}",
      "poll",
      "DELETE /v1/ssh_keys/{id}",
      "POST /_test/marker",
    ]);
    const [key, server, , rescue] = fake.calls;
    const keyId = Number(fake.calls[13]!.path.split("/").pop());
    assert.deepEqual(server!.body, {
      name: key!.body.name,
      server_type: "cpx21",
      image: "debian-12",
      location: "fsn1",
      ssh_keys: [keyId],
      start_after_create: false,
      labels: { "talos-cluster/cluster": "oxide", "talos-cluster/talos-version": OLD, "talos-cluster/schematic": SCHEMATIC.slice(0, 12), "talos-cluster/architecture": "amd64" },
    });
    assert.match(key!.body.name, /^oxide-talos-amd64-[0-9a-f]{6}$/);
    assert.deepEqual(rescue!.body, { type: "linux64", ssh_keys: server!.body.ssh_keys });
    assert.deepEqual(images.requests, [`/image/${SCHEMATIC}/${OLD}/hcloud-amd64.raw.xz`]);
    assert.ok(fs.readFileSync(disk).equals(rawImage(OLD)), "the disk holds the decompressed image");

    assert.deepEqual([...fake.servers.values()], []);
    assert.deepEqual([...fake.sshKeys.values()], []);
    const built = [...fake.images.values()];
    assert.deepEqual(built.map((i) => ({ type: i.type, description: i.description, labels: i.labels, architecture: i.architecture })), [
      {
        type: "snapshot",
        description: `Talos ${OLD} hcloud amd64, schematic ${SCHEMATIC}`,
        labels: { "talos-cluster/cluster": "oxide", "talos-cluster/talos-version": OLD, "talos-cluster/schematic": SCHEMATIC.slice(0, 12), "talos-cluster/architecture": "amd64" },
        architecture: "x86",
      },
    ]);
    assert.deepEqual(up.outputs.imageIds!.value, { amd64: String(built[0]!.id) });
    assert.equal(fake.calls.at(-1)!.query, `?image=${built[0]!.id}`);
    assert.doesNotMatch(project.stateFile("snap"), new RegExp(TOKEN), "the token stays encrypted in the state");
  });

  it("a Talos version change builds the new snapshot first and deletes the old one at the end of the up; destroy deletes it", async () => {
    const stack = project.stackOf("snap")!;
    const old = [...fake.images.keys()][0]!;
    fake.calls.length = 0;
    await stack.setConfig("talos-cluster:cluster", { value: JSON.stringify({ name: "oxide", talosVersion: NEW }) });
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    const lines = fake.calls.map((c) => `${c.method} ${c.path}${c.query}`);
    const created = [...fake.images.keys()];
    assert.equal(created.length, 1);
    assert.notEqual(created[0], old);
    const at = (line: string) => lines.indexOf(line);
    assert.ok(at(`POST /_test/marker?image=${created[0]}`) > lines.findIndex((l) => l.endsWith("/actions/create_image")), "the new snapshot exists before what boots from it");
    assert.equal(lines.at(-1), `DELETE /v1/images/${old}`, "the old snapshot goes last, after what used it");
    assert.equal(fake.images.get(created[0]!)!.labels["talos-cluster/talos-version"], NEW);
    assert.ok(fs.readFileSync(disk).equals(rawImage(NEW)));
    assert.deepEqual([fake.servers.size, fake.sshKeys.size], [0, 0]);

    fake.calls.length = 0;
    await stack.destroy();
    assert.deepEqual(shape(fake), ["DELETE /v1/images/{id}"]);
    assert.equal(fake.images.size, 0);
  });

  it("a failed snapshot action: the snapshot, build server and key are deleted; a wrong token creates nothing", async () => {
    const { failed, afterFailure, unauthorized, afterUnauthorized } = await failures;
    assert.match(failed, /Talos snapshot oxide-talos-amd64: snapshot of oxide-talos-amd64-[0-9a-f]{6}: create_image failed \(action_failed, \d+\)/);
    // the snapshot the API made for the failed action is deleted too: it is in no state
    assert.deepEqual(afterFailure.calls.slice(-6), ["POST /v1/servers/{id}/actions/create_image", "poll", "DELETE /v1/images/{id}", "DELETE /v1/servers/{id}", "poll", "DELETE /v1/ssh_keys/{id}"]);
    assert.deepEqual(afterFailure.left, [0, 0, 0]);
    assert.match(unauthorized, /unable to authenticate \(unauthorized/);
    assert.deepEqual(afterUnauthorized.calls, ["POST /v1/ssh_keys"]);
    assert.deepEqual(afterUnauthorized.left, [0, 0, 0]);
  });
});
