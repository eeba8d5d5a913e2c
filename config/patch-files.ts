// Patch files are data: read at the edge, in a stable order, checked to be YAML mappings, and
// handed to the Talos provider's configPatches untouched so Talos's own merge applies them.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import type { PatchFiles } from "../components/talos/talos-cluster";
import { CONFIG_NAMESPACE, StackConfig, StackConfigError } from "./schema";

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

/** Why a patch is unusable, or undefined: it must parse as a YAML mapping. */
function patchProblem(content: string): string | undefined {
  try {
    const doc = YAML.parse(content);
    return doc && typeof doc === "object" && !Array.isArray(doc) ? undefined : "is not a YAML mapping";
  } catch (err) {
    return `is not valid YAML (${(err as Error).message.split("\n")[0]})`;
  }
}

/**
 * Every patch layer the config needs, from the project root: patches/all, patches/<role>,
 * patches/platform/<platform> and each node's own files. Problems are collected and thrown
 * together, before any resource exists.
 */
export function readPatchFiles(root: string, config: StackConfig): PatchFiles {
  const problems: string[] = [];
  const checked = (files: PatchFile[]) => {
    for (const f of files) {
      const problem = patchProblem(f.content);
      if (problem) problems.push(`${path.relative(root, f.file)}: ${problem}`);
    }
    return files.map((f) => f.content);
  };
  const layer = (...parts: string[]) => checked(readPatchLayer(path.join(root, "patches", ...parts)));

  const platforms = [...new Set(config.nodes.map((n) => n.platform))];
  const node: Record<string, string[]> = {};
  config.nodes.forEach((n, i) => {
    node[n.name] = n.patches.flatMap((relative, j) => {
      const file = path.join(root, relative);
      if (!fs.existsSync(file)) {
        problems.push(`${CONFIG_NAMESPACE}:nodes[${i}].patches[${j}]: file not found: ${relative}`);
        return [];
      }
      return checked([{ file, content: fs.readFileSync(file, "utf8") }]);
    });
  });
  const files: PatchFiles = {
    all: layer("all"),
    controlplane: layer("controlplane"),
    worker: layer("worker"),
    platform: Object.fromEntries(platforms.map((p) => [p, layer("platform", p)])),
    node,
  };
  if (problems.length) throw new StackConfigError(problems);
  return files;
}
