// Runs the real program through the real pulumi (Automation API) in a throwaway copy of the
// project, with a temporary local file backend and passphrase secrets. Nothing touches the
// project's own .state, stack files or the user's ~/.pulumi.
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";

export const projectRoot = path.resolve(__dirname, "..", "..");

/** Pulumi's plugin cache that setup installs the built plugins into (scripts/env.sh's PULUMI_HOME). */
export const pluginCache = path.join(process.env.PULUMI_HOME || path.join(projectRoot, ".pulumi-home"), "plugins");

/** Where setup installed a provider plugin's binary: Pulumi's plugin cache, at its exact version. */
export function installedPlugin(spec: { plugin: string; version: string; binary: string }): string {
  return path.join(pluginCache, `resource-${spec.plugin}-v${spec.version}`, spec.binary);
}

/**
 * One PulumiCommand for every workspace of this process. Without it each workspace the Automation
 * API creates runs `pulumi version` first (PulumiCommand.get in @pulumi/pulumi 3.248.0
 * automation/cmd.js; ≈ 0.3–0.5 s CPU each), once per stack here. Every stack runs the same
 * `pulumi`: the first on PATH.
 */
let pulumiCommand: Promise<PulumiCommand> | undefined;
const sharedPulumiCommand = () => (pulumiCommand ??= PulumiCommand.get());

/** Files and folders that make up the program; node_modules and the generated SDKs are linked. */
const PROGRAM = ["Pulumi.yaml", "package.json", "tsconfig.json", "program.js", "runtime-loader.js", "index.ts", "components", "config", "patches", "toolchain/versions.json"];
const LINKED = ["node_modules", "sdks"];

export interface EngineProject {
  readonly dir: string;
  readonly backendDir: string;
  readonly env: Record<string, string>;
  /** Creates a stack whose Pulumi.<stack>.yaml holds `config` (structured values allowed). */
  stack(name: string, config: Record<string, unknown>): Promise<Stack>;
  /** Creates a stack from a committed Pulumi.<stack>.yaml, as it is in the repository. */
  committedStack(name: string): Promise<Stack>;
  /** A stack this project created, by name. */
  stackOf(name: string): Stack | undefined;
  /** The raw state file of a stack, as the file backend stores it. */
  stateFile(stackName: string): string;
  /** The stack's settings file, Pulumi.<stack>.yaml. */
  stackFile(stackName: string): string;
  cleanup(): void;
}

/**
 * A throwaway copy of the project. `program` names a folder whose index.ts and Pulumi.yaml
 * replace the project's own (a test program built from the same components).
 */
export function engineProject(
  passphrase = "engine-test-passphrase",
  program?: string,
  extraEnv: Record<string, string> = {},
  /** Tools of .tools/bin the engine must not find (e.g. the real talosctl behind stand-ins). */
  hideTools: readonly string[] = [],
): EngineProject {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-engine-"));
  const toolsBin = path.join(projectRoot, ".tools", "bin");
  let tools = toolsBin;
  if (hideTools.length) {
    tools = path.join(dir, ".tools-bin");
    fs.mkdirSync(tools);
    for (const tool of fs.readdirSync(toolsBin).filter((t) => !hideTools.includes(t))) fs.symlinkSync(path.join(toolsBin, tool), path.join(tools, tool));
  }
  const outerPath = (process.env.PATH ?? "").split(path.delimiter).filter((d) => !hideTools.length || path.resolve(d) !== toolsBin);
  for (const entry of PROGRAM) {
    fs.mkdirSync(path.dirname(path.join(dir, entry)), { recursive: true });
    fs.cpSync(path.join(projectRoot, entry), path.join(dir, entry), { recursive: true });
  }
  if (program) {
    for (const file of ["index.ts", "Pulumi.yaml"]) fs.copyFileSync(path.join(projectRoot, program, file), path.join(dir, file));
  }
  for (const entry of LINKED) fs.symlinkSync(path.join(projectRoot, entry), path.join(dir, entry));
  // The engine finds the installed plugins in its own home's plugin cache.
  fs.mkdirSync(path.join(dir, ".pulumi-home"));
  fs.symlinkSync(pluginCache, path.join(dir, ".pulumi-home", "plugins"));
  const backendDir = path.join(dir, ".state");
  fs.mkdirSync(backendDir);
  const env: Record<string, string> = {
    ...extraEnv,
    PATH: [...(extraEnv.PATH ? [extraEnv.PATH] : []), tools, ...outerPath].join(path.delimiter),
    PULUMI_HOME: path.join(dir, ".pulumi-home"),
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  const stacks = new Map<string, Stack>();
  return {
    dir,
    backendDir,
    env,
    async stack(name, config) {
      fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), YAML.stringify({ config }));
      const stack = await LocalWorkspace.createStack({ stackName: name, workDir: dir }, { envVars: env, pulumiCommand: await sharedPulumiCommand() });
      stacks.set(name, stack);
      return stack;
    },
    async committedStack(name) {
      fs.copyFileSync(path.join(projectRoot, `Pulumi.${name}.yaml`), path.join(dir, `Pulumi.${name}.yaml`));
      const stack = await LocalWorkspace.createStack({ stackName: name, workDir: dir }, { envVars: env, pulumiCommand: await sharedPulumiCommand() });
      stacks.set(name, stack);
      return stack;
    },
    stackOf: (name) => stacks.get(name),
    stackFile: (name) => fs.readFileSync(path.join(dir, `Pulumi.${name}.yaml`), "utf8"),
    stateFile(stackName) {
      return fs.readFileSync(path.join(backendDir, ".pulumi", "stacks", "talos-cluster", `${stackName}.json`), "utf8");
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs at most `concurrency` of the given jobs at once (two render `up`s keep both cores busy). */
export function limiter(concurrency: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    while (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await job();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
