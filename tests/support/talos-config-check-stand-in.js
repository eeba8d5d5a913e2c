#!/usr/bin/env node
// Stand-in for talos-config-check in the unit tests, whose Pulumi mocks render placeholder
// configs ("rendered worker config (5 patches)") that no Talos validator could read.
// `check` accepts a placeholder unless it contains "INVALID" (tests of the gate's wiring);
// every other command is Talos's real one (patch files are real files).
const { execFileSync } = require("node:child_process");
const command = process.argv[2];
const input = require("node:fs").readFileSync(0, "utf8");
if (command !== "check") {
  process.stdout.write(execFileSync("talos-config-check", [command], { input, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }));
  process.exit(0);
}
const results = JSON.parse(input).items.map((item) =>
  item.config.includes("INVALID")
    ? { name: item.name, valid: false, source: item.patches?.at(-1)?.source, message: "stand-in: placeholder marked INVALID" }
    : { name: item.name, valid: true },
);
process.stdout.write(JSON.stringify(results));
