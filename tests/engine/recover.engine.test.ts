// The restore path through the real engine and the real command plugin: a talosctl stand-in
// records every call, insists on private files, reads the snapshot it is given and remembers
// (in a state folder) that etcd now runs on the node.
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { engineProject, EngineProject } from "./harness";

const NODE = "127.0.0.21";
const CONTENT = "fake etcd snapshot ETCD-SNAPSHOT-CONTENT-5e1b";

function standIn(log: string, node: string): string {
  return `#!/bin/sh
printf '%s\\n' "talosctl $*" >> ${JSON.stringify(log)}
[ -f "$TALOSCONFIG" ] && [ "$(stat -c %a "$TALOSCONFIG")" = 600 ] || { echo "talosctl: TALOSCONFIG is not a private file" >&2; exit 2; }
grep -q SECRET-7f3a "$TALOSCONFIG" || { echo "talosctl: not the stack's talosconfig" >&2; exit 2; }
case "$*" in
  *" version") exit 0;;
  *"etcd status") [ -f ${JSON.stringify(node)}/etcd-running ] && exit 0; echo "etcd is not running" >&2; exit 1;;
  *"bootstrap --recover-from="*)
    file="\${*##*--recover-from=}"
    [ "$(stat -c %a "$file")" = 600 ] || { echo "talosctl: the snapshot is not a private file" >&2; exit 2; }
    [ -f ${JSON.stringify(node)}/etcd-running ] && { echo "talosctl stand-in: bootstrap is not available yet (already bootstrapped)" >&2; exit 1; }
    cp "$file" ${JSON.stringify(node)}/restored
    touch ${JSON.stringify(node)}/etcd-running
    exit 0;;
esac
echo "talosctl stand-in: unexpected call" >&2
exit 3
`;
}

describe("engine: cluster.recoverFrom restores a snapshot through the real command plugin", function () {
  this.timeout(600_000);
  let project: EngineProject;
  let dir: string;
  let log: string;
  let node: string;
  let snapshot: string;
  let other: string;
  const stacks: Stack[] = [];

  const ran = () => {
    const lines = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
    fs.rmSync(log, { force: true });
    return lines;
  };
  const withStack = async (name: string, snapshotPath: string) => {
    const stack = await project.stack(name, { "lab:snapshot": snapshotPath });
    stacks.push(stack);
    return stack;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-recover-"));
    log = path.join(dir, "calls.log");
    node = path.join(dir, "node");
    fs.mkdirSync(node);
    snapshot = path.join(dir, "etcd-old-cluster.snapshot");
    fs.writeFileSync(snapshot, `${CONTENT}\n`, { mode: 0o600 });
    other = path.join(dir, "etcd-other.snapshot");
    fs.writeFileSync(other, "another snapshot\n", { mode: 0o600 });
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin", "talosctl"), standIn(log, node), { mode: 0o755 });
    project = engineProject(undefined, "tests/engine/recover-program", { PATH: path.join(dir, "bin") });
  });

  after(async () => {
    for (const stack of stacks) await stack.destroy({ color: "never" }).catch(() => undefined);
    project?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  let stack: Stack;
  it("a fresh control plane is bootstrapped from the snapshot: wait for its API, check etcd, bootstrap --recover-from", async () => {
    stack = await withStack("restore", snapshot);
    const result = await stack.up({ color: "never" });
    const calls = ran();
    console.log(`      restore dry run, the recorded talosctl calls:\n${calls.map((c) => `        ${c}`).join("\n")}`);
    assert.equal(calls.length, 3);
    assert.deepEqual(calls.slice(0, 2), [`talosctl -n ${NODE} version`, `talosctl -n ${NODE} etcd status`]);
    const copy = /^talosctl -n 127\.0\.0\.21 bootstrap --recover-from=(\/\S+\/etcd\.snapshot)$/.exec(calls[2]!);
    assert.ok(copy, calls[2]);
    assert.notEqual(copy[1], snapshot, "talosctl gets a private copy, not the user's file");
    assert.equal(fs.existsSync(copy[1]!), false, "the private copy is gone after the step");
    assert.equal(fs.readFileSync(path.join(node, "restored"), "utf8"), `${CONTENT}\n`, "the node received exactly the snapshot");
    assert.equal(result.summary.resourceChanges?.create, 3); // stack, component, restore step
  });

  it("a second up runs nothing", async () => {
    const result = await stack.up({ color: "never" });
    assert.deepEqual(ran(), []);
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
  });

  it("a different snapshot on the restored stack is refused, and nothing reaches the node", async () => {
    await stack.setConfig("lab:snapshot", { value: other });
    await assert.rejects(stack.up({ color: "never" }), /refused: this stack already bootstrapped its cluster from a snapshot/);
    assert.deepEqual(ran(), []);
    assert.equal(fs.readFileSync(path.join(node, "restored"), "utf8"), `${CONTENT}\n`);
    // and stays refused: the failed update kept the old inputs
    await assert.rejects(stack.up({ color: "never" }), /refused: this stack already bootstrapped/);
    await stack.setConfig("lab:snapshot", { value: snapshot });
    const back = await stack.up({ color: "never" });
    assert.deepEqual(Object.keys(back.summary.resourceChanges ?? {}), ["same"]);
  });

  it("a new first control plane on the restored stack changes nothing: no update, no refusal, no call", async () => {
    await stack.setConfig("lab:node", { value: "127.0.0.22" });
    const result = await stack.up({ color: "never" });
    assert.deepEqual(ran(), []);
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
    // a different snapshot is still refused with the new node in place
    await stack.setConfig("lab:snapshot", { value: other });
    await assert.rejects(stack.up({ color: "never" }), /refused: this stack already bootstrapped its cluster from a snapshot/);
    assert.deepEqual(ran(), []);
    await stack.setConfig("lab:snapshot", { value: snapshot });
  });

  it("a new stack whose control plane already runs etcd is refused before the bootstrap", async () => {
    const second = await withStack("restore-again", other);
    await assert.rejects(second.up({ color: "never" }), /refused: 127\.0\.0\.21 already runs etcd, so this cluster is bootstrapped/);
    assert.deepEqual(ran(), [`talosctl -n ${NODE} version`, `talosctl -n ${NODE} etcd status`]);
    assert.equal(fs.readFileSync(path.join(node, "restored"), "utf8"), `${CONTENT}\n`);
  });

  it("never puts the snapshot or the talosconfig on a command line or unencrypted in state", () => {
    for (const name of ["restore", "restore-again"]) assert.doesNotMatch(project.stateFile(name), /ETCD-SNAPSHOT-CONTENT|SECRET-7f3a/, name);
    // what state does hold for the restored stack: the snapshot's digest, checked before use
    assert.match(project.stateFile("restore"), new RegExp(createHash("sha256").update(fs.readFileSync(snapshot)).digest("hex")));
    const lines = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
    assert.doesNotMatch(lines, /ETCD-SNAPSHOT-CONTENT|SECRET-7f3a/);
  });
});
