// How program.js loads the TypeScript program fast: plain JavaScript, so it runs before any
// TypeScript tooling. Used only at run time; `tsc` in the test command type-checks everything.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

/**
 * Loads `.ts` files transpiled by TypeScript without type-checking. Each file's JavaScript is
 * cached by its path inside `root`, its content and the compiler options in
 * node_modules/.cache, so a run loads the TypeScript compiler only when a source file changed.
 * The output carries an inline source map and Node's own source-map support is turned on, so
 * stack traces name the `.ts` lines.
 */
function installTranspiler(root) {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.json"), "utf8"));
  // What transpiling changes from tsconfig.json: output in memory beside the source (no outDir,
  // so the source map names the .ts file itself), the map inline.
  const overrides = { noEmit: false, outDir: undefined, rootDir: undefined, sourceMap: false, inlineSourceMap: true, inlineSources: false };
  const optionsKey = JSON.stringify([tsconfig.compilerOptions, overrides]);
  const cacheDir = path.join(root, "node_modules", ".cache", "talos-cluster-transpiled");
  let compiler;
  const transpile = (source, filename) => {
    if (!compiler) {
      const ts = require("typescript");
      const { options } = ts.convertCompilerOptionsFromJson(tsconfig.compilerOptions, root);
      compiler = { ts, options: { ...options, ...overrides } };
    }
    return compiler.ts.transpileModule(source, { compilerOptions: compiler.options, fileName: filename }).outputText;
  };
  require.extensions[".ts"] = (module, filename) => {
    const source = fs.readFileSync(filename, "utf8");
    // Keyed by the path inside the program, so copies of the project (engine tests) share entries.
    const key = crypto.createHash("sha256").update(`${path.relative(root, filename)}\0${optionsKey}\0${source}`).digest("hex");
    const cached = path.join(cacheDir, `${key}.js`);
    let js;
    try {
      js = fs.readFileSync(cached, "utf8");
    } catch {
      js = transpile(source, filename);
      fs.mkdirSync(cacheDir, { recursive: true });
      const partial = `${cached}.${process.pid}`;
      fs.writeFileSync(partial, js);
      fs.renameSync(partial, cached); // a concurrent run never reads a half-written file
    }
    module._compile(js, filename);
  };
  // Node's source maps in place of the source-map-support hook Pulumi's runner installs: that hook
  // maps every frame of every stack trace eagerly, and Pulumi takes a trace for each resource and
  // output (≈ 0.2 s a preview here); Node's maps cost about half as much and name the same lines.
  Error.prepareStackTrace = undefined;
  process.setSourceMapsEnabled(true);
}

/**
 * Modules @pulumi/pulumi loads when it is imported but uses only to serialise JavaScript
 * functions into closures, which this program never does: npm's Arborist (with pacote, sigstore,
 * cacache...) and the TypeScript compiler, about a second of module loading between them.
 */
const DEFERRED = ["@npmcli/arborist", "@pulumi/pulumi/typescript-shim"];

/**
 * Puts a stand-in for each DEFERRED module in the module cache that loads the real module the
 * first time anything is read from it, so a closure serialisation still works unchanged.
 * Returns the modules it deferred (none already loaded, none missing).
 */
function deferUnusedModules() {
  const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi"));
  const deferred = [];
  for (const name of DEFERRED) {
    let resolved;
    try {
      resolved = require.resolve(name, { paths: [pulumiDir] });
    } catch {
      continue; // not installed where @pulumi/pulumi looks: nothing to defer
    }
    if (require.cache[resolved]) continue; // already loaded: nothing left to save
    let real;
    const load = () => {
      if (!real) {
        delete require.cache[resolved]; // let the real module take its own place
        real = require(resolved);
      }
      return real;
    };
    const stand = new Module(resolved, module);
    stand.filename = resolved;
    stand.loaded = true;
    // `__esModule` keeps TypeScript's import helper from copying (and so loading) every export.
    stand.exports = new Proxy({}, {
      get: (_, key) => (key === "__esModule" ? true : load()[key]),
      has: (_, key) => key in load(),
    });
    require.cache[resolved] = stand;
    deferred.push(name);
  }
  return deferred;
}

module.exports = { installTranspiler, deferUnusedModules };
