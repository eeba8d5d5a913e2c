// Patch files are data: read at the edge, in a stable order, and handed to the Talos
// provider's configPatches untouched so Talos's own merge applies them.
import fs from "node:fs";
import path from "node:path";

/** One patch file: where it came from (for error messages and tests) and its YAML text. */
export interface PatchFile {
  readonly file: string;
  readonly content: string;
}

/**
 * The `*.yaml` files of one patch layer (e.g. `patches/all`), ordered by name so the numeric
 * prefixes decide precedence. A missing folder is an empty layer.
 */
export function readPatchLayer(dir: string): PatchFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".yaml") || name.endsWith(".yml"))
    .sort()
    .map((name) => ({ file: path.join(dir, name), content: fs.readFileSync(path.join(dir, name), "utf8") }));
}
