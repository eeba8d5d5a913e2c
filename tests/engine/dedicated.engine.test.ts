// A dedicated server from Robot to maintenance mode through the real engine: the program's
// DedicatedServers (tests/engine/dedicated-program) against the fake Robot webservice
// (tests/support/fake-robot.ts) and a REAL sshd on loopback as the rescue system
// (tests/support/openssh.ts), its disk a file, `dmidecode` and `reboot` recording stand-ins, the
// image from a loopback stand-in of the Image Factory. When the fake Robot resets the server into
// its rescue system, the keys of the rescue configuration become the sshd's only authorized keys,
// as Robot puts them into the rescue system: so the SSH steps get in only with the stack's own key.
//  1. up: Robot key, the server named after its node (its address checked), firewall, rescue +
//     hardware reset; then the UUID read, the image written to
//     the disk byte for byte, the reboot requested, in that order;
//  2. an up with no change: no Robot call, no SSH session;
//  3. destroy: Robot as before (no key, firewall cleared, rescue-free).
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { FakeRobot } from "../support/fake-robot";
import { OpenSshServer, startOpenSsh } from "../support/openssh";
import { engineProject, EngineProject } from "./harness";

const USER = "#ws+tales";
const PASSWORD = "robot webservice password";
const UUID = "4c4c4544-0042-3510-8052-b4c04f4e3432";

describe("a dedicated server from Robot to maintenance mode (fake Robot, real sshd)", function () {
  this.timeout(300_000);
  let robot: FakeRobot;
  let sshd: OpenSshServer;
  let bin: string;
  let factory: http.Server;
  let image: Buffer;
  let project: EngineProject;
  let stack: Stack;
  let disk: string;
  const home = (f: string) => path.join(sshd.home, f);
  const log = (f: string) => (fs.existsSync(home(f)) ? fs.readFileSync(home(f), "utf8") : "");

  before(async () => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), "dedicated-standins-"));
    fs.chmodSync(bin, 0o755);
    fs.writeFileSync(path.join(bin, "dmidecode"), '#!/bin/bash\necho "dmidecode $*" >> "$HOME/steps.log"\n[ "$*" = "-s system-uuid" ] && cat "$HOME/system-uuid"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "reboot"), '#!/bin/sh\necho "reboot $*" >> "$HOME/steps.log"\n', { mode: 0o755 });
    sshd = await startOpenSsh({ pathPrefix: [bin] });
    disk = home("disk.img");
    for (const [file, text] of [[disk, ""], [home("system-uuid"), `${UUID}\n`]] as const) {
      fs.writeFileSync(file, text);
      fs.chownSync(file, sshd.uid, sshd.gid);
    }
    // 3 MiB + 77 bytes of varied content, xz-compressed as the factory serves it.
    image = Buffer.alloc(3 * 1024 * 1024 + 77);
    for (let i = 0; i < image.length; i += 32) createHash("sha256").update(String(i)).digest().copy(image, i);
    const xz = execFileSync("xz", ["-c", "-T1", "-1"], { input: image, maxBuffer: 64 * 1024 * 1024 });
    factory = http.createServer((req, res) => {
      if (req.url !== "/image/s/v1.14.1/metal-amd64.raw.xz") return void res.writeHead(404).end();
      res.writeHead(200, { "content-length": xz.length }).end(xz);
    });
    await new Promise<void>((resolve) => factory.listen(0, "127.0.0.1", resolve));

    robot = await FakeRobot.start({ user: USER, password: PASSWORD, servers: [{ number: 3001, ip: "127.0.0.1" }] });
    robot.processReads = 0;
    // Robot writes the rescue configuration's keys into the rescue system: here, the sshd's only keys.
    const authorizedKeys = path.join(path.dirname(sshd.privateKeyPath), "authorized_keys");
    fs.writeFileSync(authorizedKeys, "");
    robot.onRescueBoot = (_server, keys) => fs.writeFileSync(authorizedKeys, keys.map((k) => `${k}\n`).join(""));

    project = engineProject("engine-test-passphrase", "tests/engine/dedicated-program");
    stack = await project.stack("dedicated", {
      "dedicated-test:robotUrl": robot.url,
      "dedicated-test:factoryUrl": `http://127.0.0.1:${(factory.address() as { port: number }).port}`,
      "dedicated-test:sshPort": String(sshd.port),
      "dedicated-test:sshUser": sshd.user,
      "dedicated-test:servers": [{ name: "metal-1", serverNumber: 3001, role: "worker", address: "127.0.0.1", installDisk: disk, architecture: "amd64", labels: {}, taints: {}, patches: [] }],
    });
    await stack.setConfig("dedicated-test:robotUser", { value: USER, secret: true });
    await stack.setConfig("talos-cluster:robotPassword", { value: PASSWORD, secret: true });
  });

  after(async () => {
    await sshd?.stop();
    factory?.close();
    await robot?.stop();
    project?.cleanup();
    if (bin) fs.rmSync(bin, { recursive: true, force: true });
  });

  it("sets up Robot, then over SSH checks the UUID, writes the image and reboots, in that order", async () => {
    const result = await stack.up();
    const server = robot.servers.get(3001)!;
    assert.equal(robot.keys.size, 1);
    assert.deepEqual([server.firewall.status, server.resets, server.inRescue, server.rescue.active], ["active", ["hw"], true, false]);
    assert.equal(result.outputs.uuids!.value["metal-1"], UUID);
    assert.deepEqual(result.outputs.ready!.value, { "metal-1": 1 });
    assert.equal(log("steps.log"), "dmidecode -s system-uuid\nreboot \n");
    assert.ok(fs.readFileSync(disk).equals(image), "the disk holds the image byte for byte");
    // Robot saw the firewall before the rescue and the rescue before the reset.
    const calls = robot.lines().map((l) => l.split(" ").slice(0, 2).join(" "));
    assert.ok(calls.indexOf("POST /server/3001") < calls.indexOf("POST /boot/3001/rescue"));
    assert.ok(calls.indexOf("POST /firewall/3001") < calls.indexOf("POST /boot/3001/rescue"));
    assert.ok(calls.indexOf("POST /boot/3001/rescue") < calls.indexOf("POST /reset/3001"));
    assert.equal(robot.servers.get(3001)!.name, "metal-1");
  });

  it("changes nothing on the next up: no Robot call, no SSH session", async () => {
    const from = robot.calls.length;
    const sessions = log("steps.log");
    const result = await stack.up();
    assert.deepEqual(result.summary.resourceChanges, { same: 11 });
    assert.deepEqual(robot.lines(from), []);
    assert.equal(log("steps.log"), sessions);
  });

  it("destroy leaves Robot as it was", async () => {
    await stack.destroy();
    const server = robot.servers.get(3001)!;
    assert.deepEqual([robot.keys.size, server.firewall.status, server.firewall.input, server.rescue.active], [0, "disabled", [], false]);
  });
});
