// What Pulumi runs (Pulumi.yaml `main`, plain JavaScript): index.ts and everything it imports,
// transpiled without type-checking, with the start-up savings of runtime-loader.js.
"use strict";
const { deferUnusedModules, installTranspiler } = require("./runtime-loader");

installTranspiler(__dirname);
deferUnusedModules();
module.exports = require("./index.ts");
