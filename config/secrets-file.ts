// Imported Talos secrets reach the provider as a file path (the import ID), so the edge writes
// the encrypted stack secret to a private file for the duration of the run.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Writes `secretsYaml` to a 0600 file whose path depends only on the content: the import ID
 * stays the same on every run, so Pulumi imports once and never again. Removed at exit.
 */
export function writeSecretsImportFile(secretsYaml: string, dir = os.tmpdir()): string {
  const digest = createHash("sha256").update(secretsYaml).digest("hex").slice(0, 16);
  const file = path.join(dir, `talos-cluster-secrets-${digest}.yaml`);
  fs.writeFileSync(file, secretsYaml, { mode: 0o600 });
  process.once("exit", () => fs.rmSync(file, { force: true }));
  return file;
}
