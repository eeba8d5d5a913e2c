// Random single-field mutations of the committed stacks (wrong types, out-of-range numbers, empty
// strings, unknown keys, removed keys, swapped roles, values moved between fields). Each must end
// as a valid parse or a StackConfigError whose every line names a config path; the program must
// then register nothing for an invalid config and not crash on a valid one.
// MUTATION_SEED=<n> reproduces a run, MUTATION_COUNT=<n> changes its size (default 500).
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, projectConfig, StackConfigError } from "../../config/schema";
import { runProgram } from "../support/mocks";
import { committedStackConfig, TEST_HCLOUD_TOKEN } from "../support/stack-files";

const SEED = Number(process.env.MUTATION_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(process.env.MUTATION_COUNT ?? 500);
/**
 * Each program run reloads index.ts and its components under fresh mocks (~0.3 s), so the first
 * this-many refused and valid mutants of a run go through the whole program; every mutant goes
 * through the parse, which is the program's gate (index.ts registers nothing before it passed).
 */
const PROGRAM_RUNS = Number(process.env.MUTATION_PROGRAM_RUNS ?? 5);

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Step = string | number;

/** The committed stack as one object, structured values decoded (as Pulumi hands them over). */
function stackObject(stack: string): Record<string, Json> {
  const all = stack === "hetzner" ? { ...committedStackConfig(stack), "hcloud:token": TEST_HCLOUD_TOKEN } : committedStackConfig(stack);
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, /^\s*[[{]/.test(v) ? JSON.parse(v) : v]));
}

/** Back to Pulumi's flat map of strings. */
function flatConfig(obj: Record<string, Json>): Record<string, string> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

function allPaths(value: Json, prefix: Step[] = []): Step[][] {
  const out: Step[][] = prefix.length ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...allPaths(v, [...prefix, i])));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...allPaths(v, [...prefix, k]));
  return out;
}

function getAt(root: Json, path: Step[]): Json {
  return path.reduce<Json>((v, step) => (v as Record<string | number, Json>)[step]!, root);
}

function setAt(root: Json, path: Step[], value: Json | undefined) {
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = value;
}

const WRONG_TYPES: Json[] = [42, -1, 0, 1.5, true, false, null, "", " ", "x", "🙂", [], {}, ["x"], { x: 1 }, "10.0.1.50", "/dev/sda", "v1.10.6", "controlplane"];

/** One random single-field mutation; returns what it did, for the failure message. */
function mutate(config: Record<string, Json>, next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const paths = allPaths(config as Json);
  const path = pick(paths);
  const current = getAt(config as Json, path);
  const where = path.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("");
  const kinds = ["wrong type", "wrong type", "remove", "unknown key", "moved value"];
  if (typeof current === "number") kinds.push("out of range", "out of range");
  if (typeof current === "string") kinds.push("empty string", "edited string", current === "controlplane" || current === "worker" ? "swapped role" : "edited string");
  if (Array.isArray(current)) kinds.push("duplicate element", "empty array");
  const kind = pick(kinds);
  let value: Json | undefined;
  switch (kind) {
    case "wrong type":
      value = pick(WRONG_TYPES);
      break;
    case "remove":
      value = undefined;
      break;
    case "unknown key":
      if (current && typeof current === "object" && !Array.isArray(current)) value = { ...current, [pick(["bogus", "Name", "extra_key", "nodes"])]: pick(WRONG_TYPES) };
      else value = { bogus: current };
      break;
    case "moved value":
      value = structuredClone(getAt(config as Json, pick(paths)));
      break;
    case "out of range":
      value = pick([-(current as number), (current as number) * 1000, (current as number) + 0.5, 0, -1, 2 ** 31, Number.MAX_SAFE_INTEGER, 1e300]);
      break;
    case "empty string":
      value = "";
      break;
    case "edited string": {
      const s = current as string;
      value = pick([s.toUpperCase(), `${s}x`, s.slice(0, -1), ` ${s}`, `${s}${s}`, s.replace(/\d/, "9"), s.replace(/\./g, "")]);
      break;
    }
    case "swapped role":
      value = current === "controlplane" ? "worker" : "controlplane";
      break;
    case "duplicate element":
      value = [...(current as Json[]), ...(current as Json[]).slice(0, 1)];
      if ((current as Json[]).length === 0) value = [pick(WRONG_TYPES)];
      break;
    case "empty array":
      value = [];
      break;
  }
  if (path.length === 1) {
    // A top-level key: Pulumi delivers plain values as strings.
    if (value === undefined) delete config[path[0] as string];
    else config[path[0] as string] = value;
  } else setAt(config as Json, path, value);
  return `${kind} at ${where}: ${JSON.stringify(value) ?? "(removed)"}`.slice(0, 300);
}

/** A line names a path: `talos-cluster:<key>…: <message>`, `hcloud:token: …`, or a patch file's path. */
const NAMED = /^(talos-cluster:[A-Za-z][^\s:]*(\.[^:]+)?|hcloud:token|patches\/\S+\.ya?ml): \S/;

describe(`stack config mutations (MUTATION_SEED=${SEED} MUTATION_COUNT=${COUNT})`, function () {
  this.timeout(300_000);

  it("ends every mutant as a valid parse or a StackConfigError naming a path, and registers nothing for an invalid one", async () => {
    console.log(`      mutation seed ${SEED}: rerun with MUTATION_SEED=${SEED}`);
    const next = rng(SEED);
    const stacks = ["homelab", "deepthought", "hetzner", "hybrid"].map((name) => ({ name, config: stackObject(name) }));
    let valid = 0;
    let invalid = 0;
    let lines = 0;
    let validRuns = 0;
    let invalidRuns = 0;
    for (let n = 0; n < COUNT; n++) {
      const { name, config } = stacks[n % stacks.length]!;
      const mutant = structuredClone(config);
      const what = `mutation ${n} of ${name} (MUTATION_SEED=${SEED}): ${mutate(mutant, next)}`;
      const flat = flatConfig(mutant);
      let error: unknown;
      try {
        parseStackConfig(projectConfig(flat));
      } catch (err) {
        error = err;
      }
      if (error === undefined) {
        valid++;
        if (validRuns++ < PROGRAM_RUNS) {
          const run = await runProgram(flat, "mutant");
          const ok = run.error === undefined || (run.error instanceof pulumi.RunError && run.error.message.split("\n").slice(1).every((l) => NAMED.test(l.replace(/^ {2}- /, ""))));
          assert.ok(ok, `${what}\n  parsed, but the program failed: ${String(run.error)}`);
        }
        continue;
      }
      assert.ok(error instanceof StackConfigError, `${what}\n  crashed instead of a StackConfigError: ${(error as Error)?.stack ?? String(error)}`);
      assert.ok(error.issues.length > 0, `${what}\n  a StackConfigError without lines`);
      for (const line of error.issues) assert.match(line, NAMED, `${what}\n  a line that names no path: ${line}`);
      invalid++;
      lines += error.issues.length;
      if (invalidRuns++ >= PROGRAM_RUNS) continue;
      const run = await runProgram(flat, "mutant");
      assert.ok(run.error instanceof pulumi.RunError, `${what}\n  the program did not stop with the config error: ${String(run.error)}`);
      assert.deepEqual(run.recorder.resources, [], `${what}\n  registered resources for an invalid config`);
      assert.deepEqual(run.recorder.invokes, [], `${what}\n  called invokes for an invalid config`);
    }
    console.log(
      `      ${COUNT} mutants: ${valid} valid, ${invalid} refused with ${lines} error lines, 0 crashes; ` +
        `${Math.min(validRuns, PROGRAM_RUNS) + Math.min(invalidRuns, PROGRAM_RUNS)} of them run through the whole program`,
    );
    assert.equal(valid + invalid, COUNT);
    assert.ok(invalid > COUNT / 2, `only ${invalid} of ${COUNT} mutants were refused: the mutations are too gentle`);
  });
});
