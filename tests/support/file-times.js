// Root hooks (.mocharc.json `require`) that record how long each test file runs, for the
// summary reporter's per-file table. In parallel mode every file runs in a worker as its own
// root suite, so the root beforeAll/afterAll pair spans exactly that file's hooks and tests
// (loading the file comes before it). Each pair appends one JSON line to the file the reporter
// named in TALOS_CLUSTER_FILE_TIMES; without it (a run without the reporter) nothing is written.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
let started = 0;

/** The spec files of the root suite the hook runs in, relative to the project. */
function filesOf(hook) {
  const files = new Set((hook?.parent?.suites ?? []).map((s) => s.file).filter(Boolean));
  return [...files].map((f) => path.relative(root, f)).sort();
}

exports.mochaHooks = {
  beforeAll() {
    started = Date.now();
  },
  afterAll() {
    const out = process.env.TALOS_CLUSTER_FILE_TIMES;
    if (!out) return;
    const files = filesOf(this.test);
    const line = { file: files.length === 1 ? files[0] : `${files.length} files`, worker: process.env.MOCHA_WORKER_ID ?? "main", start: started, end: Date.now() };
    fs.appendFileSync(out, `${JSON.stringify(line)}\n`);
  },
};
