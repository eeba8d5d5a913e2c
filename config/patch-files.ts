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

/** The documents of a patch file: `---`-separated YAML, each one parsed. Throws on invalid YAML. */
export function patchDocuments(content: string): unknown[] {
  const docs = YAML.parseAllDocuments(content);
  if (!Array.isArray(docs)) return [];
  for (const doc of docs) if (doc.errors.length) throw doc.errors[0];
  return docs.map((doc) => doc.toJS()).filter((doc) => doc !== null && doc !== undefined);
}

/**
 * Why a patch is unusable, or undefined: every document must be a YAML mapping. A file may hold
 * several documents: v1alpha1 parts (no `kind`) are merged as usual, documents of another kind
 * (UserVolumeConfig, TrustedRootsConfig, …) are added to the config by Talos's patcher.
 */
function patchProblem(content: string): string | undefined {
  try {
    const docs = patchDocuments(content);
    if (!docs.length) return "is not a YAML mapping";
    const bad = docs.findIndex((doc) => !doc || typeof doc !== "object" || Array.isArray(doc));
    if (bad < 0) return undefined;
    return docs.length > 1 ? `document ${bad + 1} is not a YAML mapping` : "is not a YAML mapping";
  } catch (err) {
    return `is not valid YAML (${(err as Error).message.split("\n")[0]})`;
  }
}

/** `Kind/name` of every named document of another kind than v1alpha1 in a patch (e.g. `UserVolumeConfig/local-storage`). */
export function documentKeys(content: string): string[] {
  return patchDocuments(content).flatMap((doc) => {
    const d = doc as { kind?: unknown; name?: unknown };
    return typeof d?.kind === "string" ? [`${d.kind}/${typeof d.name === "string" ? d.name : ""}`] : [];
  });
}

/**
 * The documents two of a node's patch files both add (same kind and name): Talos's patcher would
 * let the later one replace the earlier one silently, so the stack refuses it, naming both files.
 */
export function duplicateDocuments(files: readonly { file: string; content: string }[]): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const f of files) {
    let keys: string[];
    try {
      keys = documentKeys(f.content);
    } catch {
      continue; // reported by patchProblem
    }
    for (const key of keys) {
      const first = seen.get(key);
      if (first !== undefined && first !== f.file) problems.push(`${key} is in both ${first} and ${f.file}: a node's config holds one document of each kind and name; keep one`);
      else seen.set(key, f.file);
    }
  }
  return problems;
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
  const named = (...parts: string[]) => readPatchLayer(path.join(root, "patches", ...parts)).map((f) => ({ file: path.relative(root, f.file), content: f.content }));

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
  // Duplicate documents, per node, across every layer it gets (each pair reported once).
  for (const n of config.nodes) {
    const own = n.patches.filter((p) => fs.existsSync(path.join(root, p))).map((p) => ({ file: p, content: fs.readFileSync(path.join(root, p), "utf8") }));
    for (const problem of duplicateDocuments([...named("all"), ...named(n.role), ...named("platform", n.platform), ...own])) {
      if (!problems.includes(problem)) problems.push(problem);
    }
  }
  if (problems.length) throw new StackConfigError(problems);
  return files;
}
