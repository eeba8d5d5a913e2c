import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

// Ordering comes from dependencies only: no component may wait on a timer.
describe("ordering", () => {
  it("no program code sleeps or polls on a timer", () => {
    const root = path.resolve(__dirname, "..", "..");
    const files = ["index.ts", ...["components", "config"].flatMap((d) => fs.readdirSync(path.join(root, d), { recursive: true }).map((f) => path.join(d, String(f))))]
      .filter((f) => f.endsWith(".ts"));
    assert.ok(files.length > 10);
    for (const file of files) {
      assert.doesNotMatch(fs.readFileSync(path.join(root, file), "utf8"), /setTimeout|setInterval|sleep\(/, file);
    }
  });
});
