// What Pulumi runs (Pulumi.yaml `main`, plain JavaScript): index.ts and everything it imports,
// transpiled without type-checking. `tsc` in the test command type-checks everything; at run time
// only the transpiled code is needed. Each file's JavaScript is cached by its path in the
// program, content and compiler options in node_modules/.cache, so a preview loads the
// TypeScript compiler only when a source file changed.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const tsconfig = JSON.parse(fs.readFileSync(path.join(__dirname, "tsconfig.json"), "utf8"));
const optionsKey = JSON.stringify(tsconfig.compilerOptions);
const cacheDir = path.join(__dirname, "node_modules", ".cache", "talos-cluster-transpiled");
let compiler;

function transpile(source, filename) {
  if (!compiler) {
    const ts = require("typescript");
    const { options } = ts.convertCompilerOptionsFromJson(tsconfig.compilerOptions, __dirname);
    compiler = { ts, options: { ...options, noEmit: false, sourceMap: false, inlineSourceMap: false } };
  }
  return compiler.ts.transpileModule(source, { compilerOptions: compiler.options, fileName: filename }).outputText;
}

require.extensions[".ts"] = (module, filename) => {
  const source = fs.readFileSync(filename, "utf8");
  // Keyed by the path inside the program, so copies of the project (engine tests) share entries.
  const key = crypto.createHash("sha256").update(`${path.relative(__dirname, filename)}\0${optionsKey}\0${source}`).digest("hex");
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

module.exports = require("./index.ts");
