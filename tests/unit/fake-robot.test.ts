// The fake Robot webservice refuses what Robot refuses, in Robot's error envelope: without basic
// auth, an unknown or missing parameter, an unknown server, a second rescue, a change while the
// firewall is in process. (What it accepts is what the robot plugin's engine tests send.)
import assert from "node:assert/strict";
import { FakeRobot } from "../support/fake-robot";

describe("fake Robot webservice: refusals", () => {
  let robot: FakeRobot;
  before(async () => {
    robot = await FakeRobot.start({ user: "u", password: "p", servers: [{ number: 7, ip: "203.0.113.7" }] });
  });
  after(() => robot.stop());

  const call = async (method: string, path: string, form?: Record<string, string>, auth = "u:p") => {
    const res = await fetch(`${robot.url}${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from(auth).toString("base64")}`, ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it("answers 401 UNAUTHORIZED without the right login", async () => {
    assert.deepEqual(await call("GET", "/firewall/7", undefined, "u:wrong"), { status: 401, body: { error: { status: 401, code: "UNAUTHORIZED", message: "Unable to authenticate" } } });
  });

  it("answers 400 INVALID_INPUT naming an unknown parameter, or a missing one", async () => {
    assert.deepEqual(await call("POST", "/reset/7", { type: "hw", force: "1" }), { status: 400, body: { error: { status: 400, code: "INVALID_INPUT", message: "invalid input", missing: null, invalid: ["force"] } } });
    assert.deepEqual(await call("POST", "/key", { name: "k" }), { status: 400, body: { error: { status: 400, code: "INVALID_INPUT", message: "invalid input", missing: ["data"], invalid: null } } });
  });

  it("answers 404 SERVER_NOT_FOUND for a server the account does not have", async () => {
    assert.deepEqual((await call("GET", "/boot/8/rescue")).body.error.code, "SERVER_NOT_FOUND");
  });

  it("answers 409 BOOT_ALREADY_ENABLED for a second rescue, and FIREWALL_IN_PROCESS while a change is applied", async () => {
    assert.equal((await call("POST", "/boot/7/rescue", { os: "linux" })).status, 200);
    assert.deepEqual((await call("POST", "/boot/7/rescue", { os: "linux" })).body.error, { status: 409, code: "BOOT_ALREADY_ENABLED", message: "The boot option is already active" });
    assert.equal((await call("POST", "/firewall/7", { status: "active" })).body.firewall.status, "in process");
    assert.deepEqual((await call("POST", "/firewall/7", { status: "active" })).body.error.code, "FIREWALL_IN_PROCESS");
    // Read once more than processReads: applied.
    await call("GET", "/firewall/7");
    assert.equal((await call("GET", "/firewall/7")).body.firewall.status, "active");
    assert.deepEqual(robot.lines().slice(-2), ["GET /firewall/7 200", "GET /firewall/7 200"]);
  });
});
