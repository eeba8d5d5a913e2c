// Writes a stack's talosconfig and kubeconfig where talosctl and kubectl look for them
// (~/.talos/config, ~/.kube/config; TALOSCONFIG and KUBECONFIG win), merging, not clobbering.
// Usage (through scripts/write-configs.sh): ts-node ops/write-configs.ts <stack outputs JSON file>
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { mergeKubeconfig, mergeTalosconfig } from "./merge-configs";

function writePrivate(file: string, text: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

function merge(file: string, incoming: string | undefined, mergeFn: (existing: string | undefined, incoming: string) => string, what: string) {
  if (!incoming) {
    console.log(`${what}: not in the stack outputs yet (is the cluster bootstrapped?), ${file} left alone`);
    return;
  }
  const existing = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  writePrivate(file, mergeFn(existing, incoming));
  console.log(`${what}: merged into ${file}`);
}

const outputs = JSON.parse(fs.readFileSync(process.argv[2]!, "utf8")) as Record<string, string | undefined>;
const home = os.homedir();
merge(process.env.TALOSCONFIG ?? path.join(home, ".talos", "config"), outputs.talosconfig, mergeTalosconfig, "talosconfig");
merge((process.env.KUBECONFIG ?? path.join(home, ".kube", "config")).split(path.delimiter)[0]!, outputs.kubeconfig, mergeKubeconfig, "kubeconfig");
