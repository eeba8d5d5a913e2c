// Mocha's loader for the TypeScript tests (.mocharc.json `require`): the program's own
// transpiler (runtime-loader.js installTranspiler), which transpiles without type-checking, as
// ts-node's transpileOnly did, but caches each file's output by its path, content and compiler
// options in node_modules/.cache. `tsc --noEmit` in scripts/test.sh type-checks everything first.
// Why not ts-node: it keeps no output, and the unit tests run the whole program under mocks
// again and again with the program's modules dropped from the require cache in between
// (tests/support/mocks.ts runProgram), so ts-node transpiled index.ts and every component anew
// for each run; measured on tests/unit/config.test.ts (120 tests) at load ≈ 11–14: 124 s CPU
// with ts-node, 15 s with this loader.
"use strict";
const path = require("node:path");
const { installTranspiler } = require("../../runtime-loader");

installTranspiler(path.resolve(__dirname, "..", ".."));
