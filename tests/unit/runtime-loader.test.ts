// How the program starts at run time (runtime-loader.js and the language-host options shim).
// Each case runs in a child process: the loader replaces require hooks of the process it is in.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pins from "../../toolchain/versions.json";

const root = path.resolve(__dirname, "..", "..");
const loader = path.join(root, "runtime-loader.js");

function node(script: string, cwd = root): string {
  return execFileSync(process.execPath, ["-e", script], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } });
}

describe("runtime loader", () => {
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), "loader-")); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("runs TypeScript without type-checking, and stack traces name the .ts lines", () => {
    fs.copyFileSync(path.join(root, "tsconfig.json"), path.join(tmp, "tsconfig.json"));
    fs.symlinkSync(path.join(root, "node_modules"), path.join(tmp, "node_modules"));
    // Type-only lines that transpiling removes, then a type error ts-node would refuse.
    fs.writeFileSync(path.join(tmp, "thrower.ts"), [
      "interface Unused {", "  readonly a: string;", "}", "", "type Alias = Unused;", "",
      "export function boom(): Alias {", '  const n: number = "not a number";', "  throw new Error(`boom ${n}`);", "}", "",
    ].join("\n"));
    const out = node(`
      require(${JSON.stringify(loader)}).installTranspiler(${JSON.stringify(tmp)});
      try { require("./thrower.ts").boom(); } catch (e) { console.log(e.stack.split("\\n").slice(0, 2).join("\\n")); }
    `, tmp);
    assert.equal(out.trim(), `Error: boom not a number\n    at Object.boom (${path.join(tmp, "thrower.ts")}:9:9)`);
    const cached = fs.readdirSync(path.join(tmp, "node_modules", ".cache", "talos-cluster-transpiled"));
    assert.ok(cached.some((f) => f.endsWith(".js")), "the transpiled file is cached");
  });

  it("defers Arborist and the TypeScript compiler until @pulumi/pulumi uses them, then hands over the real modules", () => {
    const out = node(`
      const loaded = (name) => Object.keys(require.cache).some((f) => f.includes("/node_modules/" + name + "/"));
      const deferred = require(${JSON.stringify(loader)}).deferUnusedModules();
      const pulumi = require("@pulumi/pulumi");
      const before = ["@npmcli/arborist/lib/arborist", "pacote", "typescript/lib"].filter(loaded);
      (async () => {
        // A closure serialisation parses the function with the TypeScript compiler ...
        const closure = await pulumi.runtime.serializeFunction(() => 40 + 2);
        const { Arborist } = require(require.resolve("@npmcli/arborist", { paths: [require.resolve("@pulumi/pulumi")] }));
        // ... and packaging its code walks the dependency tree with Arborist.
        const real = typeof Arborist === "function" && new Arborist({ path: "." }) instanceof Arborist;
        const after = ["@npmcli/arborist/lib/arborist", "pacote", "typescript/lib"].filter(loaded);
        console.log(JSON.stringify({ deferred, before, after, real, serialised: closure.text.includes("40 + 2") }));
      })();
    `);
    assert.deepEqual(JSON.parse(out), {
      deferred: ["@npmcli/arborist", "@pulumi/pulumi/typescript-shim"],
      before: [],
      after: ["@npmcli/arborist/lib/arborist", "pacote", "typescript/lib"],
      real: true,
      serialised: true,
    });
  });
});

describe("language host options shim", () => {
  const shimSpec = pins.pulumi.languageHostOptions;
  const shim = fs.realpathSync(path.join(root, ".tools", "bin", "pulumi"));
  const built = path.join(path.dirname(shim), pins.pulumi.languageHost.binary);
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), "shim-")); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Runs the shim as the CLI would (from its own directory) in `project`, with a host that prints its arguments. */
  function runShim(pulumiYaml: string | undefined, args: string[]): { status: number | null; out: string } {
    const bin = fs.mkdtempSync(path.join(tmp, "bin-"));
    const project = path.join(tmp, "project", "sub");
    fs.mkdirSync(project, { recursive: true });
    fs.symlinkSync(fs.realpathSync(built), path.join(bin, "pulumi-language-nodejs"));
    fs.writeFileSync(path.join(bin, "pulumi-language-nodejs-host"), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', { mode: 0o755 });
    fs.rmSync(path.join(tmp, "project", "Pulumi.yaml"), { force: true });
    if (pulumiYaml !== undefined) fs.writeFileSync(path.join(tmp, "project", "Pulumi.yaml"), pulumiYaml);
    const res = spawnSync(path.join(bin, "pulumi-language-nodejs"), args, { cwd: project, encoding: "utf8" });
    return { status: res.status, out: `${res.stdout}${res.stderr}`.trim() };
  }

  it("is what setup put beside the built CLI, with the real host beside it", () => {
    assert.match(fs.realpathSync(built), new RegExp(`/${shimSpec.binary}$`));
    assert.match(fs.realpathSync(`${built}-host`), new RegExp(`/${pins.pulumi.languageHost.binary}-${pins.pulumi.languageHost.version}-[^/]+/${pins.pulumi.languageHost.binary}$`));
  });

  it("passes the project's runtime options to the host as the flags it reads, before the CLI's arguments", () => {
    const yaml = "name: p\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: --max-old-space-size=4096 --trace-warnings\n";
    assert.deepEqual(runShim(yaml, ["-tracing", "", "127.0.0.1:1234"]), {
      status: 0,
      out: ["-typescript=false", "-nodeargs=--max-old-space-size=4096 --trace-warnings", "-tracing", "", "127.0.0.1:1234"].join("\n"),
    });
  });

  it("passes nothing extra for `runtime: nodejs` or without a project file", () => {
    assert.deepEqual(runShim("name: p\nruntime: nodejs\n", ["127.0.0.1:1"]), { status: 0, out: "127.0.0.1:1" });
    assert.deepEqual(runShim(undefined, ["127.0.0.1:1"]), { status: 0, out: "127.0.0.1:1" });
  });

  it("refuses an option of the wrong type, naming the file and the option", () => {
    const res = runShim("name: p\nruntime:\n  name: nodejs\n  options:\n    typescript: maybe\n", ["127.0.0.1:1"]);
    assert.equal(res.status, 1);
    assert.equal(res.out, `pulumi-language-nodejs (options shim): ${path.join(tmp, "project", "Pulumi.yaml")}: runtime.options.typescript must be true or false, not maybe`);
  });
});
