// The robot plugin through the real engine against the fake Robot webservice
// (tests/support/fake-robot.ts, written from Hetzner's documentation as the public clients use it,
// not from the plugin). tests/engine/robot-program makes the Robot resources of two dedicated
// servers as components/hetzner/dedicated-servers.ts does, without the SSH steps:
//  1. refusals, nothing made: a bad password (401 UNAUTHORIZED), an unknown server
//     (404 SERVER_NOT_FOUND), more rules than Robot takes (FIREWALL_RULE_LIMIT_EXCEEDED), a rescue
//     with a key Robot does not have (400 INVALID_INPUT naming authorized_key), a server whose
//     main address is not the stack's (ours: the SSH steps would reach another machine);
//  2. the first up: the key, both servers named after their nodes, both firewalls (one still "in process" from an earlier change: waited
//     out), the vSwitch memberships, server 1's rescue + hardware reset; server 2's reset refused
//     with 403 RATE_LIMIT_EXCEEDED, surfaced with Robot's code;
//  3. the next up finishes server 2 (its rescue still active: BOOT_ALREADY_ENABLED, replaced);
//     an up after that calls Robot not once;
//  4. a new admin network changes the firewalls only, no second rescue;
//  5. destroy leaves Robot as it was: no key, firewalls back to Robot's default, rescue-free, no
//     vSwitch member, cp-1's earlier name back (worker-1 had none: it keeps the node's).
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { FakeRobot, keyFingerprint } from "../support/fake-robot";
import { engineProject, EngineProject } from "./harness";
import { robotFirewallRules } from "../../components/hetzner/robot-firewall";

const USER = "#ws+tales";
const PASSWORD = "robot webservice password";
const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHVeDU0mQJ5c2v3w3qV1QG8tHcQe2mM4m9o9yq3P7ZtA tales";
const SERVERS = [
  { name: "cp-1", serverNumber: 1001, ip: "203.0.113.11", robotName: "EX44 #1001" },
  { name: "worker-1", serverNumber: 1002, ip: "203.0.113.12", robotName: "" },
];
const programServers = () => JSON.stringify(SERVERS.map(({ name, serverNumber, ip }) => ({ name, serverNumber, address: ip })));
const VSWITCH = { id: 77, vlan: 4000, subnet: "10.0.2.0/24" };

/** The rules as the fake stores them: Robot's field names, empty fields left out. */
const stored = (adminCidrs: string[]) =>
  robotFirewallRules(adminCidrs, VSWITCH.subnet).map((r) =>
    Object.fromEntries(
      Object.entries({ name: r.name, ip_version: r.ipVersion, src_ip: r.srcIp, dst_port: r.dstPort, protocol: r.protocol, tcp_flags: r.tcpFlags, action: r.action }).filter(([, v]) => v !== undefined),
    ),
  );

describe("Robot resources through the engine against a fake Robot webservice", function () {
  this.timeout(300_000);
  let fake: FakeRobot;
  let project: EngineProject;
  let stack: Stack;

  before(async () => {
    fake = await FakeRobot.start({ user: USER, password: PASSWORD, servers: SERVERS.map((s) => ({ number: s.serverNumber, ip: s.ip, name: s.robotName })), vswitches: [{ id: VSWITCH.id, vlan: VSWITCH.vlan, name: "tales" }] });
    project = engineProject("engine-test-passphrase", "tests/engine/robot-program");
    stack = await project.stack("robot", {
      "robot-test:url": fake.url,
      "robot-test:servers": JSON.parse(programServers()),
      "robot-test:adminCidrs": ["198.51.100.0/24"],
      "robot-test:vswitch": { id: VSWITCH.id, subnet: VSWITCH.subnet },
      "robot-test:publicKey": PUBLIC_KEY,
    });
    await stack.setConfig("robot-test:user", { value: USER, secret: true });
    await stack.setConfig("talos-cluster:robotPassword", { value: PASSWORD, secret: true });
  });

  after(async () => {
    await fake?.stop();
    project?.cleanup();
  });

  const failedLine = (err: Error, name: string) => err.message.split("\n").find((l) => l.includes(`${name} **creating failed**`))?.replace(/^.*?error: /, "") ?? `(no line for ${name})`;
  const upError = (s: Stack) => s.up({ continueOnError: true }).then(() => undefined, (e: unknown) => e as Error);

  it("refuses a bad password, an unknown server, too many rules and an unknown key with Robot's codes, making nothing", async () => {
    await stack.setConfig("robot-test:servers", { value: "[]" });
    await stack.setConfig("robot-test:refusals", {
      value: JSON.stringify([
        { name: "bad-password", password: "wrong", serverNumber: 1001 },
        { name: "unknown-server", serverNumber: 999 },
        { name: "too-many-rules", serverNumber: 1001, adminNetworks: 3 },
        { name: "unknown-key", serverNumber: 1001, rescueKey: "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff" },
        { name: "wrong-address", serverNumber: 1002, address: "203.0.113.11" },
      ]),
    });
    const err = await upError(stack).finally(() => stack.removeConfig("robot-test:refusals"));
    assert.ok(err, "up should have failed");
    assert.equal(
      failedLine(err, "refusal-bad-password"),
      "firewall of server 1001: Robot POST /firewall/1001: 401 UNAUTHORIZED (Unable to authenticate): check the encrypted stack secrets talos-cluster:robotUser and talos-cluster:robotPassword (a Robot webservice user, robot.hetzner.com > Settings > Webservice and app settings)",
    );
    assert.equal(
      failedLine(err, "refusal-unknown-server"),
      "firewall of server 999: Robot POST /firewall/999: 404 SERVER_NOT_FOUND (Server not found): check talos-cluster:hetzner.dedicated[].serverNumber: the Robot account has no server with this number",
    );
    assert.equal(
      failedLine(err, "refusal-too-many-rules"),
      "firewall of server 1001: Robot POST /firewall/1001: 409 FIREWALL_RULE_LIMIT_EXCEEDED (at most 10 input rules): the Robot firewall takes at most 10 input rules: list fewer hetzner.adminCidrs",
    );
    assert.equal(
      failedLine(err, "refusal-unknown-key"),
      "rescue system of server 1001: Robot POST /boot/1001/rescue: 400 INVALID_INPUT (invalid input); invalid: authorized_key",
    );
    assert.equal(
      failedLine(err, "refusal-wrong-address"),
      "server 1002: Robot reports its main address as 203.0.113.12, the stack says 203.0.113.11 (talos-cluster:hetzner.dedicated[].address): the SSH steps would reach another machine; correct the address or the server number",
    );
    assert.equal(fake.keys.size, 0);
    assert.deepEqual(SERVERS.map((s) => fake.servers.get(s.serverNumber)!.name), ["EX44 #1001", ""], "no server renamed");
    assert.deepEqual(SERVERS.map((s) => fake.servers.get(s.serverNumber)!.firewall.status), ["disabled", "disabled"], "no firewall changed");
    assert.deepEqual(SERVERS.map((s) => [fake.servers.get(s.serverNumber)!.rescue.active, fake.servers.get(s.serverNumber)!.resets]), [[false, []], [false, []]], "no rescue, no reset");
    await stack.setConfig("robot-test:servers", { value: programServers() });
  });

  it("makes key, firewalls, vSwitch memberships and the rescue boot; a rate limit surfaces with Robot's code", async () => {
    // An earlier change to cp-1's firewall is still being applied: Robot refuses ours until it is done.
    const cp = fake.servers.get(1001)!;
    Object.assign(cp.firewall, { status: "in process", pendingReads: 2, next: { status: "active", input: [], output: [], whitelistHos: true } });
    fake.rateLimit("POST", /^\/reset\/1002$/);
    const from = fake.calls.length;
    const err = await upError(stack);
    assert.ok(err, "up should have failed on worker-1's reset");
    assert.equal(failedLine(err, "worker-1-rescue"), "reset of server 1002 into the rescue system: Robot POST /reset/1002: 403 RATE_LIMIT_EXCEEDED (Rate limit exceeded): Robot allows 200 such requests per 3600 s; run up again once the interval has passed");
    const fp = keyFingerprint(PUBLIC_KEY);
    assert.deepEqual([...fake.keys], [[fp, { name: "tales-rescue", data: PUBLIC_KEY.split(" ").slice(0, 2).join(" ") }]]);
    for (const s of SERVERS) {
      const f = fake.servers.get(s.serverNumber)!.firewall;
      assert.deepEqual({ status: f.status, input: f.input, output: f.output, whitelistHos: f.whitelistHos }, { status: "active", input: stored(["198.51.100.0/24"]), output: [{ name: "allow all out", action: "accept" }], whitelistHos: true });
    }
    assert.ok(fake.lines(from).some((l) => l.startsWith("POST /firewall/1001 409")), "the first firewall POST met FIREWALL_IN_PROCESS");
    assert.deepEqual(SERVERS.map((s) => fake.servers.get(s.serverNumber)!.name), ["cp-1", "worker-1"], "each server named after its node");
    assert.deepEqual([...fake.vswitches.get(VSWITCH.id)!.members.keys()].sort(), [1001, 1002]);
    assert.deepEqual([cp.resets, cp.inRescue, cp.rescue.active], [["hw"], true, false], "cp-1 reset into its rescue system (which Robot then ends)");
    const worker = fake.servers.get(1002)!;
    assert.deepEqual([worker.resets, worker.rescue.active, worker.rescue.keys], [[], true, [fp]], "worker-1's rescue is active, its reset refused");
    // The rescue came only after the firewall was active and the server in the vSwitch.
    const order = fake.lines(from).map((l) => l.split(" ").slice(0, 3).join(" "));
    const at = (line: string) => order.indexOf(line);
    assert.ok(at("POST /boot/1001/rescue 200") > order.lastIndexOf("GET /firewall/1001 200"));
    assert.ok(at("POST /boot/1001/rescue 200") > at("POST /vswitch/77/server 201"));
    assert.ok(at("POST /boot/1001/rescue 200") > at("POST /server/1001 200"), "the address was checked and the server named before its rescue");
  });

  it("finishes worker-1 on the next up (its active rescue replaced), then calls Robot not once", async () => {
    await stack.up();
    const worker = fake.servers.get(1002)!;
    assert.deepEqual([worker.resets, worker.inRescue], [["hw"], true]);
    assert.ok(fake.lines().some((l) => l.startsWith("POST /boot/1002/rescue 409")), "BOOT_ALREADY_ENABLED met and handled");
    const from = fake.calls.length;
    // The stack, the provider, the key and per server its name, firewall, vSwitch membership and rescue.
    const again = await stack.up();
    assert.deepEqual(again.summary.resourceChanges, { same: 11 });
    assert.deepEqual(fake.lines(from), []);
  });

  it("changes only the firewalls when an admin network is added, never a second rescue", async () => {
    await stack.setConfig("robot-test:adminCidrs", { value: JSON.stringify(["198.51.100.0/24", "192.0.2.0/28"]) });
    const from = fake.calls.length;
    const result = await stack.up();
    assert.deepEqual(result.summary.resourceChanges, { same: 9, update: 2 });
    for (const s of SERVERS) assert.deepEqual(fake.servers.get(s.serverNumber)!.firewall.input, stored(["198.51.100.0/24", "192.0.2.0/28"]));
    assert.deepEqual([...new Set(fake.lines(from).map((l) => l.split(" ").slice(0, 2).join(" ")))].sort(), ["GET /firewall/1001", "GET /firewall/1002", "POST /firewall/1001", "POST /firewall/1002"]);
    assert.deepEqual(SERVERS.map((s) => fake.servers.get(s.serverNumber)!.resets), [["hw"], ["hw"]]);
  });

  it("destroy leaves Robot as it was", async () => {
    const worker = fake.servers.get(1002)!;
    worker.rescue.active = true; // as if the server never booted it: destroy must end it
    await stack.destroy();
    assert.equal(fake.keys.size, 0);
    for (const s of SERVERS) {
      const server = fake.servers.get(s.serverNumber)!;
      assert.deepEqual([server.firewall.status, server.firewall.input, server.rescue.active], ["disabled", [], false]);
    }
    assert.equal(fake.vswitches.get(VSWITCH.id)!.members.size, 0);
    assert.deepEqual(SERVERS.map((s) => fake.servers.get(s.serverNumber)!.name), ["EX44 #1001", "worker-1"], "cp-1's earlier name back; worker-1 had none to restore");
  });
});
