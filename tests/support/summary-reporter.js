// Mocha's spec reporter plus one closing line in the plain form CI reads:
// "N passed, N failed, N skipped", and before it each test file's wall time (from its first
// hook to its last, recorded by tests/support/file-times.js in the worker that ran it), in the
// order the files started, so a slow or badly scheduled file shows in every run's output.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const Mocha = require("mocha");

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    // Set before the workers start: they inherit the environment when they are created.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-file-times-"));
    const times = path.join(dir, "times.jsonl");
    process.env.TALOS_CLUSTER_FILE_TIMES = times;
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      process.stdout.write(fileTable(times));
      fs.rmSync(dir, { recursive: true, force: true });
      process.stdout.write(`\n${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

/** "file times" lines: start offset, wall seconds, worker, file; empty when nothing was recorded. */
function fileTable(file) {
  let rows;
  try {
    rows = fs.readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return "";
  }
  if (!rows.length) return "";
  rows.sort((a, b) => a.start - b.start);
  const t0 = rows[0].start;
  const s = (ms) => (ms / 1000).toFixed(1).padStart(6);
  const lines = rows.map((r) => `  +${s(r.start - t0)} s ${s(r.end - r.start)} s  worker ${r.worker}  ${r.file}`);
  return `\nfile times (start, wall, worker, file):\n${lines.join("\n")}\n`;
}

module.exports = SummaryReporter;
