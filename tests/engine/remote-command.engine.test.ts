// command:remote:Command of our command plugin (toolchain/providers/command/remote) through the real
// engine and the published @pulumi/command SDK, against a real sshd on loopback
// (tests/support/openssh.ts). tests/engine/remote-command-program is the program.
//  1. create: stdout/stderr captured, stdin fed, environment passed (AcceptEnv lists it);
//  2. one up changes an input of two commands and the trigger of one: the other runs `update`
//     with the previous stdout offered; the triggered one is replaced (`create` for the new one,
//     then `delete` for the old one), as upstream's replaceOnChanges on triggers does;
//  3. destroy runs `delete`; the connection (private key) is a secret in the state;
//  4. one up with a failing command (its exit status and stderr in the message), an environment
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
  let failures: Promise<{ output: string; rejected: boolean; closedHost: string; port: number }>;
  before(async () => {
    server = await startOpenSsh({ acceptEnv: ["LANG", "LC_*", "TALOS_TEST_*", "PULUMI_COMMAND_*"] });
    project = engineProject(undefined, "tests/engine/remote-command-program");
    // The failures stack's up runs beside the lifecycle test (the second test reads its result):
    // the two ups wait on node start-up and the engine more than they use the cores.
    failures = (async () => {
      const closedHost = "127.0.0.2";
      const port = await closedPort(closedHost);
      const stack = await project.stack("failures", { ...connection(), "rt:scenario": "failures", "rt:closedHost": closedHost, "rt:closedPort": port });
      await stack.setConfig("rt:privateKey", { value: server.privateKey, secret: true });
      let output = "";
      const rejected = await stack.up({ onOutput: (o) => (output += o) }).then(() => false, () => true);
      return { output, rejected, closedHost, port };
    })();
    failures.catch(() => undefined); // read (and its failure reported) by the second test
  });
  after(async () => {
    await failures?.catch(() => undefined);
    project?.cleanup();
    await server?.stop();
  });

  const connection = () => ({
    "rt:host": server.host,
    "rt:port": server.port,
    "rt:user": server.user,
    "rt:hostKey": server.hostPublicKey,
  });
  const log = (name: string) => fs.readFileSync(path.join(server.home, `${name}.log`), "utf8");
  const keyBody = () => server.privateKey.split("\n")[1]!;

  it("create; an input change runs update, a trigger change replaces; destroy deletes; the connection stays secret", async () => {
    const stack = await project.stack("lifecycle", { ...connection(), "rt:scenario": "lifecycle", "rt:trigger": "a", "rt:value": "one" });
    await stack.setConfig("rt:privateKey", { value: server.privateKey, secret: true });

    const first = await stack.up();
    assert.deepEqual(first.summary.resourceChanges, { create: 3 });
    const outputs = (r: typeof first) => Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value]));
    assert.deepEqual(outputs(first), {
      updatedStdout: "created from stdin one", updatedStderr: "to stderr",
      replacedStdout: "created from stdin one", replacedStderr: "to stderr",
    });
    assert.deepEqual([log("updated"), log("replaced")], ["create one\n", "create one\n"]);

    // `value` changes both; `trigger` only the triggers of "replaced".
    await stack.setConfig("rt:value", { value: "two" });
    await stack.setConfig("rt:trigger", { value: "b" });
    const second = await stack.up();
    assert.deepEqual(second.summary.resourceChanges, { update: 1, replace: 1, same: 1 });
    assert.deepEqual(outputs(second), {
      updatedStdout: "updated two", updatedStderr: "",
      replacedStdout: "created from stdin two", replacedStderr: "to stderr",
    });
    assert.deepEqual([log("updated"), log("replaced")], [
      "create one\nupdate two previous=created from stdin one\n",
      // create-before-delete: the new one's create, then the old one's delete with its own stdout.
      "create one\ncreate two\ndelete previous=created from stdin one\n",
    ]);

    const stateText = project.stateFile("lifecycle");
    const commands = JSON.parse(stateText).checkpoint.latest.resources.filter((r: { type: string }) => r.type === "command:remote:Command");
    assert.equal(commands.length, 2);
    for (const r of commands) {
      for (const side of ["inputs", "outputs"]) {
        assert.deepEqual(Object.keys(r[side].connection).sort(), ["4dabf18193072939515e22adb298388d", "ciphertext"], `${r.urn} ${side}.connection is a secret`);
      }
    }
    assert.ok(!stateText.includes(keyBody()), "no line of the private key in the state");

    await stack.destroy();
    assert.deepEqual([log("updated"), log("replaced")], [
      "create one\nupdate two previous=created from stdin one\ndelete previous=updated two\n",
      "create one\ncreate two\ndelete previous=created from stdin one\ndelete previous=created from stdin two\n",
    ]);
  });

  it("a failing command, a refused environment variable and a closed port each fail the up with their reason", async () => {
    const { output, rejected, closedHost, port } = await failures;
    assert.ok(rejected, "the up fails");
    const errors = output.split("\n").map((l) => l.trim());
    const endpoint = `${server.host}:${server.port}`;
    assert.ok(errors.includes(`error: Process exited with status 7: running "echo partial output; echo something broke >&2; exit 7" on ${endpoint}:`), output);
    assert.ok(errors.includes("partial output") && errors.includes("something broke"), output);
    assert.ok(errors.includes("error: the SSH server refused environment variable NOT_ACCEPTED (ssh: setenv failed): it passes only what sshd_config AcceptEnv lists; alternatively put `NOT_ACCEPTED=...` in front of the command"), output);
    assert.ok(errors.includes(`error: dial ${closedHost}:${port}: gave up after 3 failed attempts (dialErrorLimit 2): dial tcp ${closedHost}:${port}: connect: connection refused`), output);
    assert.ok(!output.includes(keyBody()), "no line of the private key in the output");
  });
});
