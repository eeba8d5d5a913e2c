// Talos's own rules over every machine config, before anything is touched.
//
// The rules run in talos-config-check, a small Go program on Talos machinery that setup builds
// (toolchain/talos-config-check). Two gates use it:
//   - at the edge, every patch file is loaded with Talos's patch loader (unknown keys, wrong
//     types), in preview and up, before any resource exists;
//   - each node's complete rendered config is validated (strict; metal, or cloud on Hetzner)
//     before its apply runs or its server is created. Every node waits for every node's
//     verdict, so one invalid config stops them all and nothing is applied.
import { execFileSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { HETZNER_PLATFORM } from "../../config/hetzner";
import { PLAIN_KERNEL_ARG } from "../../config/fields";
import { kernelArgsOf } from "./patches";

/** Talos's runtime mode for validation: installed from ISO/PXE (metal) or booted from a cloud image. */
export type ValidationMode = "metal" | "cloud";

/** Bare metal and Synology VMs install to disk (metal); Hetzner servers boot a Talos image (cloud). */
export function validationMode(platform: string): ValidationMode {
  return platform === HETZNER_PLATFORM ? "cloud" : "metal";
}

/** One patch with where it came from: a file path relative to the project, or a derived layer's name. */
export interface SourcedPatch {
  readonly source: string;
  readonly content: string;
}

export interface CheckItem {
  readonly name: string;
  readonly mode: ValidationMode;
  readonly role: "controlplane" | "worker";
  /** The complete config to validate. */
  readonly config: string;
  /** The config the patches were applied to; lets the checker name the patch that broke it. */
  readonly base?: string;
  readonly patches?: readonly SourcedPatch[];
}

export interface CheckResult {
  readonly name: string;
  readonly valid: boolean;
  /** The patch after which the config stopped validating, or "base". */
  readonly source?: string;
  /** Talos's own message. */
  readonly message?: string;
  readonly warnings?: readonly string[];
}

export interface PatchLoadResult {
  readonly source: string;
  readonly valid: boolean;
  readonly message?: string;
}

/** Talos's rules as the program and the tests call them. */
export interface TalosRules {
  check(items: readonly CheckItem[]): CheckResult[];
  loadPatches(patches: readonly SourcedPatch[]): PatchLoadResult[];
}

/** The rules of the talos-config-check binary (found on PATH unless a path is given). */
export function talosConfigCheck(binary = "talos-config-check"): TalosRules {
  const call = <T>(command: string, input: unknown): T => {
    try {
      return JSON.parse(execFileSync(binary, [command], { input: JSON.stringify(input), encoding: "utf8", maxBuffer: 256 * 1024 * 1024 })) as T;
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === "ENOENT") throw new Error(`${binary} not found: run \`node toolchain/setup.mjs\` (it builds Talos's config validator into .tools/bin)`);
      throw new Error(`${binary} ${command} failed: ${e.stderr?.trim() || e.message}`);
    }
  };
  return {
    check: (items) => call<CheckResult[]>("check", { items }),
    loadPatches: (patches) => call<PatchLoadResult[]>("patches", patches),
  };
}

/** Talos's multi-line messages on one line, so each problem stays one line of the report. */
export function oneLine(message: string): string {
  return message.replace(/\s+/g, " ").trim();
}

/** Where a role's base config came from, for messages when it is the base that fails. */
export interface NodeToCheck {
  readonly name: string;
  readonly role: "controlplane" | "worker";
  readonly mode: ValidationMode;
  /** The node's own layers on top of its role's config, in order, with their sources. */
  readonly patches: readonly SourcedPatch[];
}

/** The report when Talos rejects rendered configs: one line per node, with the patch and Talos's message. */
export function rejectionReport(results: readonly CheckResult[], nodes: readonly NodeToCheck[], baseSources: Readonly<Record<string, readonly string[]>>): string {
  const bad = results.filter((r) => !r.valid);
  const lines = bad.map((r) => {
    const node = nodes.find((n) => n.name === r.name);
    const where =
      r.source === "base"
        ? `its ${node?.role} layers (${(baseSources[node?.role ?? ""] ?? []).join(", ")})`
        : r.source
          ? `patch ${r.source}`
          : "its complete config";
    return `  - node ${r.name} (${node?.mode}): ${where}: ${oneLine(r.message ?? "")}`;
  });
  return `Talos's validation rejected ${bad.length} machine config${bad.length === 1 ? "" : "s"}; no node was touched:\n${lines.join("\n")}`;
}

export interface ConfigGateArgs {
  readonly rules: TalosRules;
  readonly nodes: readonly NodeToCheck[];
  /** Each node's complete rendered config, by node name. Secret. */
  readonly rendered: Readonly<Record<string, pulumi.Output<string>>>;
  /** Each role's config before the node layers (the base the node patches apply to). Secret. */
  readonly bases: Readonly<Record<"controlplane" | "worker", pulumi.Output<string>>>;
  /** The patch sources inside each role's base, for messages. */
  readonly baseSources: Readonly<Record<string, readonly string[]>>;
}

export interface ConfigGate {
  /** Each node's config, known only once every node's config passed Talos's validation. Secret. */
  readonly configs: Record<string, pulumi.Output<string>>;
  /** How many configs Talos validated. */
  readonly validated: pulumi.Output<number>;
}

/** Validates all rendered configs in one run of the rules; any rejection fails the program before any use. */
export function gateNodeConfigs(args: ConfigGateArgs): ConfigGate {
  const validated = pulumi.all([pulumi.all(args.rendered), pulumi.all(args.bases)]).apply(([configs, bases]) => {
    const items: CheckItem[] = args.nodes.map((n) => ({ name: n.name, mode: n.mode, role: n.role, config: configs[n.name]!, base: bases[n.role], patches: n.patches }));
    const results = args.rules.check(items);
    if (results.length !== items.length || results.some((r) => !r.valid)) {
      throw new pulumi.RunError(rejectionReport(results, args.nodes, args.baseSources));
    }
    return results.length;
  });
  const configs = Object.fromEntries(
    Object.entries(args.rendered).map(([name, config]) => [name, pulumi.secret(pulumi.all([validated, config]).apply(([, c]) => c))]),
  );
  // A count reveals nothing of the (secret) configs it was computed from.
  return { configs, validated: pulumi.unsecret(validated) };
}

/**
 * Loads every patch file with Talos's patch loader. Returns one problem line per rejected file,
 * naming the nodes it applies to and Talos's message.
 */
export function patchFileProblems(rules: TalosRules, files: readonly (SourcedPatch & { readonly nodes: readonly string[] })[]): string[] {
  if (files.length === 0) return [];
  const results = rules.loadPatches(files.map(({ source, content }) => ({ source, content })));
  return results.flatMap((r, i) =>
    r.valid ? [] : [`${r.source} (node${files[i]!.nodes.length === 1 ? "" : "s"} ${files[i]!.nodes.join(", ")}): Talos cannot load this patch: ${oneLine(r.message ?? "")}`],
  );
}

/**
 * Kernel args in patch files that a schematic cannot carry: every node's args go into an Image
 * Factory schematic of its own (talos-cluster.ts ownSchematicSpec), whose ID this program computes
 * from YAML it writes unquoted, so an arg with spaces or quotes would name an image that does not
 * exist. One line per file and arg, naming the nodes.
 */
export function kernelArgProblems(files: readonly (SourcedPatch & { readonly nodes: readonly string[] })[]): string[] {
  return files.flatMap((f) => {
    const args = kernelArgsOf([f.content]);
    return args
      .filter((a) => !PLAIN_KERNEL_ARG.test(a))
      .map((a) => `${f.source} (node${f.nodes.length === 1 ? "" : "s"} ${f.nodes.join(", ")}): machine.install.extraKernelArgs ${JSON.stringify(a)} must be a plain kernel argument like vga=792 or net.ifnames=0 (no spaces or quotes): it goes into the node's Image Factory schematic`);
  });
}
