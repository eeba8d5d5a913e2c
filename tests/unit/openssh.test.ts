// The OpenSSH harness (tests/support/openssh.ts) is a real sshd: the system's OpenSSH client logs in
// with the throwaway key, checks the pinned host key, runs commands with stdin, and sees the PATH
// prefix and only the environment the server accepts.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { OpenSshServer, startOpenSsh } from "../support/openssh";

/** Runs `ssh ... <command>` with stdin; resolves with exit code, stdout, stderr. */
function ssh(server: OpenSshServer, command: string, stdin = "", env: Record<string, string> = {}, extra: string[] = [], args = server.sshArgs) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn("ssh", [...extra, ...args, command], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe("OpenSSH harness (real sshd on loopback)", function () {
  this.timeout(30000);
  let server: OpenSshServer;
  let bin: string;
  before(async () => {
    bin = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "ssh-standins-"));
    fs.chmodSync(bin, 0o755);
    fs.writeFileSync(path.join(bin, "reboot"), "#!/bin/sh\necho \"reboot $*\" >> \"$HOME/reboot.log\"\n", { mode: 0o755 });
    server = await startOpenSsh({ pathPrefix: [bin], acceptEnv: ["LANG", "LC_*", "TALOS_TEST_*"] });
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it("logs in as the configured user with the client key, runs a command fed from stdin", async () => {
    const res = await ssh(server, "echo \"user=$USER home=$HOME pwd=$(pwd)\"; tr a-z A-Z", "hello rescue\n");
    assert.deepEqual(res, { code: 0, stdout: `user=root home=${server.home} pwd=${server.home}\nHELLO RESCUE\n`, stderr: "" });
    assert.equal(server.user, "root");
    // The PEM label of the key ssh-keygen made at run time (the label only: no key material is tracked).
    assert.match(server.privateKey, new RegExp(`^-----BEGIN OPENSSH ${"PRIVATE"} KEY-----\n`));
    assert.match(server.hostPublicKey, /^ssh-ed25519 AAAA\S+ talos-cluster-test-host$/);
    assert.match(fs.readFileSync(server.logPath, "utf8"), /Accepted publickey for root from 127\.0\.0\.1 port \d+ ssh2: ED25519 SHA256:/);
  });

  it("puts the PATH prefix first: a recording stand-in runs instead of the system's command", async () => {
    const res = await ssh(server, "echo \"$PATH\"; reboot now; cat \"$HOME/reboot.log\"");
    assert.deepEqual(res, { code: 0, stdout: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nreboot now\n`, stderr: "" });
  });

  it("passes the exit code and stderr through", async () => {
    assert.deepEqual(await ssh(server, "echo oops >&2; exit 3"), { code: 3, stdout: "", stderr: "oops\n" });
  });

  it("accepts only the environment AcceptEnv lists", async () => {
    const res = await ssh(server, "echo \"a=${TALOS_TEST_A:-unset} b=${OTHER_B:-unset}\"", "", { TALOS_TEST_A: "1", OTHER_B: "2" },
      ["-o", "SendEnv=TALOS_TEST_A", "-o", "SendEnv=OTHER_B"]);
    assert.deepEqual(res, { code: 0, stdout: "a=1 b=unset\n", stderr: "" });
  });

  it("refuses a client key it does not know and a host key that is not the pinned one", async () => {
    const other = path.join(path.dirname(server.privateKeyPath), "other_key");
    await promisify(execFile)("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const args = server.sshArgs.map((a) => (a === server.privateKeyPath ? other : a));
    const wrongKey = await ssh(server, "true", "", {}, [], args);
    assert.equal(wrongKey.code, 255);
    assert.match(wrongKey.stderr, /Permission denied \(publickey\)\./);
    const knownHosts = server.sshArgs.find((a) => a.startsWith("UserKnownHostsFile="))!.slice("UserKnownHostsFile=".length);
    const pinned = fs.readFileSync(knownHosts, "utf8");
    fs.writeFileSync(knownHosts, pinned.replace(/ssh-ed25519 \S+/, `ssh-ed25519 ${fs.readFileSync(`${other}.pub`, "utf8").split(" ")[1]}`));
    const res = await ssh(server, "true");
    fs.writeFileSync(knownHosts, pinned);
    assert.equal(res.code, 255);
    assert.match(res.stderr, /Host key verification failed\./);
  });

  it("stop() ends sshd: the port refuses connections", async () => {
    const probe = await startOpenSsh();
    await probe.stop();
    const res = await ssh(probe, "true");
    assert.equal(res.code, 255);
    assert.match(res.stderr, /Connection refused/);
  });
});
