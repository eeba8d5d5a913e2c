// Takes an etcd snapshot now (`talosctl etcd snapshot`) from a stack's first control plane, with
// the stack's talosconfig written to a private temporary file, and leaves the snapshot private.
// Usage (through scripts/etcd-snapshot.sh): ts-node ops/etcd-snapshot.ts <stack outputs JSON file> <snapshot file>
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

interface Outputs {
  readonly talosconfig?: string;
  readonly nodes?: readonly { readonly name: string; readonly role: string; readonly address: string }[];
}

/** The talosctl arguments: the first control plane (it runs etcd), then the target file. */
export function snapshotArgs(outputs: Outputs, file: string): string[] {
  const cp = outputs.nodes?.find((n) => n.role === "controlplane");
  if (!cp) throw new Error("the stack outputs list no control plane (has `pulumi up` run for this stack?)");
  return ["-n", cp.address, "etcd", "snapshot", file];
}

/** Runs talosctl with the stack's talosconfig; returns its exit code. The snapshot ends up 0600. */
export function takeSnapshot(outputs: Outputs, file: string, env: NodeJS.ProcessEnv = process.env): number {
  if (!outputs.talosconfig) throw new Error("the stack outputs have no talosconfig (has `pulumi up` run for this stack?)");
  const args = snapshotArgs(outputs, file);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-snapshot-"));
  try {
    const talosconfig = path.join(work, "talosconfig");
    fs.writeFileSync(talosconfig, outputs.talosconfig, { mode: 0o600 });
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const result = spawnSync("talosctl", args, { stdio: "inherit", env: { ...env, TALOSCONFIG: talosconfig } });
    if (result.error) throw new Error(`talosctl could not run (${result.error.message}): install talosctl (https://www.talos.dev/latest/talos-guides/install/talosctl/)`);
    // A snapshot holds every Kubernetes Secret of the cluster.
    if (result.status === 0) fs.chmodSync(file, 0o600);
    return result.status ?? 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [outputsFile, file] = process.argv.slice(2);
  if (!outputsFile || !file) {
    console.error("usage: ts-node ops/etcd-snapshot.ts <stack outputs JSON file> <snapshot file>");
    process.exit(2);
  }
  const status = takeSnapshot(JSON.parse(fs.readFileSync(outputsFile, "utf8")) as Outputs, file);
  if (status === 0) console.log(`etcd snapshot written to ${file} (mode 0600; it holds every Secret of the cluster: keep it encrypted)`);
  process.exit(status);
}
