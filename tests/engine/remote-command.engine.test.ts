// command:remote:Command of our command plugin (toolchain/providers/command/remote) through the real
// engine and the published @pulumi/command SDK, against a real sshd on loopback
// (tests/support/openssh.ts). tests/engine/remote-command-program is the program.
//  1. create: stdout/stderr captured, stdin fed, environment passed (AcceptEnv lists it);
//  2. an input change other than triggers: `update` runs, with the previous stdout offered;
//  3. a trigger change replaces: `create` for the new one, then `delete` for the old one;
//  4. destroy runs `delete`; the connection (private key) is a secret in the state throughout;
//  5. one up with a failing command (its exit status and stderr in the message), an environment
//     variable the server refuses, and a closed 127.0.0.x port given up after dialErrorLimit.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { engineProject, EngineProject } from "./harness";
import { OpenSshServer, startOpenSsh } from "../support/openssh";

/** A port nothing listens on at `host`. */
async function closedPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("engine: command:remote:Command against a real sshd", function () {
  this.timeout(180_000);
  let server: OpenSshServer;
  let project: EngineProject;
  before(async () => {
    server = await startOpenSsh({ acceptEnv: ["LANG", "LC_*", "TALOS_TEST_*", "PULUMI_COMMAND_*"] });
    project = engineProject(undefined, "tests/engine/remote-command-program");
  });
  after(async () => {
    project?.cleanup();
    await server?.stop();
  });

  const connection = () => ({
    "rt:host": server.host,
    "rt:port": server.port,
    "rt:user": server.user,
    "rt:hostKey": server.hostPublicKey,
  });
  const opsLog = () => fs.readFileSync(path.join(server.home, "ops.log"), "utf8");
  const keyBody = () => server.privateKey.split("\n")[1]!;

  it("create, update, replace on a trigger, delete on destroy; the connection stays secret", async () => {
    const stack = await project.stack("lifecycle", { ...connection(), "rt:scenario": "lifecycle", "rt:trigger": "a", "rt:value": "one" });
    await stack.setConfig("rt:privateKey", { value: server.privateKey, secret: true });

    const first = await stack.up();
    assert.deepEqual(first.summary.resourceChanges, { create: 2 });
    assert.equal(first.outputs.stdout!.value, "created from stdin one");
    assert.equal(first.outputs.stderr!.value, "to stderr");
    assert.equal(opsLog(), "create one\n");

    await stack.setConfig("rt:value", { value: "two" });
    const second = await stack.up();
    assert.deepEqual(second.summary.resourceChanges, { update: 1, same: 1 });
    assert.equal(second.outputs.stdout!.value, "updated two");
    assert.equal(opsLog(), "create one\nupdate two previous=created from stdin one\n");

    await stack.setConfig("rt:trigger", { value: "b" });
    const third = await stack.up();
    assert.deepEqual(third.summary.resourceChanges, { replace: 1, same: 1 });
    assert.equal(third.outputs.stdout!.value, "created from stdin two");
    assert.equal(opsLog(), "create one\nupdate two previous=created from stdin one\ncreate two\ndelete previous=updated two\n");

    const state = JSON.parse(project.stateFile("lifecycle"));
    const probe = state.checkpoint.latest.resources.find((r: { type: string }) => r.type === "command:remote:Command");
    for (const side of ["inputs", "outputs"]) {
      assert.deepEqual(Object.keys(probe[side].connection).sort(), ["4dabf18193072939515e22adb298388d", "ciphertext"], `${side}.connection is a secret`);
    }
    assert.ok(!project.stateFile("lifecycle").includes(keyBody()), "no line of the private key in the state");

    await stack.destroy();
    assert.equal(opsLog(), "create one\nupdate two previous=created from stdin one\ncreate two\ndelete previous=updated two\ndelete previous=created from stdin two\n");
  });

  it("a failing command, a refused environment variable and a closed port each fail the up with their reason", async () => {
    const closedHost = "127.0.0.2";
    const port = await closedPort(closedHost);
    const stack = await project.stack("failures", { ...connection(), "rt:scenario": "failures", "rt:closedHost": closedHost, "rt:closedPort": port });
    await stack.setConfig("rt:privateKey", { value: server.privateKey, secret: true });
    let output = "";
    await assert.rejects(stack.up({ onOutput: (o) => (output += o) }));
    const errors = output.split("\n").map((l) => l.trim());
    const endpoint = `${server.host}:${server.port}`;
    assert.ok(errors.includes(`error: Process exited with status 7: running "echo partial output; echo something broke >&2; exit 7" on ${endpoint}:`), output);
    assert.ok(errors.includes("partial output") && errors.includes("something broke"), output);
    assert.ok(errors.includes("error: the SSH server refused environment variable NOT_ACCEPTED (ssh: setenv failed): it passes only what sshd_config AcceptEnv lists; alternatively put `NOT_ACCEPTED=...` in front of the command"), output);
    assert.ok(errors.includes(`error: dial ${closedHost}:${port}: gave up after 3 failed attempts (dialErrorLimit 2): dial tcp ${closedHost}:${port}: connect: connection refused`), output);
    assert.ok(!output.includes(keyBody()), "no line of the private key in the output");
    await stack.destroy();
  });
});
