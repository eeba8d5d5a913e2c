// `npm run etcd-snapshot`'s worker (ops/etcd-snapshot.ts) with a recording talosctl stand-in.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { snapshotArgs, takeSnapshot } from "../../ops/etcd-snapshot";

const OUTPUTS = {
  talosconfig: "talosconfig-SECRET-41ab",
  nodes: [
    { name: "worker-1", role: "worker", address: "10.0.1.60" },
    { name: "cp-1", role: "controlplane", address: "10.0.1.50" },
    { name: "cp-2", role: "controlplane", address: "10.0.1.51" },
  ],
};

describe("etcd-snapshot: a snapshot now, through talosctl and the stack's talosconfig", () => {
  let dir: string;
  let log: string;
  const env = () => ({ ...process.env, PATH: `${path.join(dir, "bin")}${path.delimiter}${process.env.PATH}` });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-snapshot-test-"));
    log = path.join(dir, "calls.log");
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(
      path.join(dir, "bin", "talosctl"),
      `#!/bin/sh
printf '%s\\n' "talosctl $*" >> ${JSON.stringify(log)}
[ "$(stat -c %a "$TALOSCONFIG")" = 600 ] && [ "$(cat "$TALOSCONFIG")" = talosconfig-SECRET-41ab ] || { echo "talosctl: no private talosconfig" >&2; exit 2; }
for last; do :; done
printf 'snapshot bytes' > "$last"
`,
      { mode: 0o755 },
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("asks the first control plane", () => {
    assert.deepEqual(snapshotArgs(OUTPUTS, "/tmp/x.snapshot"), ["-n", "10.0.1.50", "etcd", "snapshot", "/tmp/x.snapshot"]);
  });

  it("writes the snapshot, private, with the talosconfig only in a private temporary file", () => {
    const file = path.join(dir, "out", "etcd.snapshot");
    assert.equal(takeSnapshot(OUTPUTS, file, env()), 0);
    assert.equal(fs.readFileSync(file, "utf8"), "snapshot bytes");
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readFileSync(log, "utf8").split("\n").filter(Boolean), [`talosctl -n 10.0.1.50 etcd snapshot ${file}`]);
  });

  it("says what is missing when the stack has no cluster yet", () => {
    assert.throws(() => takeSnapshot({ nodes: OUTPUTS.nodes }, "/tmp/x", env()), /the stack outputs have no talosconfig \(has `pulumi up` run for this stack\?\)/);
    assert.throws(() => snapshotArgs({ nodes: [] }, "/tmp/x"), /the stack outputs list no control plane/);
  });
});
