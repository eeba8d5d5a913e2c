// The pull-request workflow: valid for GitHub Actions (actionlint, built by setup), covering
// every committed stack, with secrets only from the repository's secrets.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { parseStackConfig, projectConfig } from "../../config/schema";
import { committedStackConfig, TEST_HCLOUD_TOKEN } from "../support/stack-files";

const root = path.resolve(__dirname, "..", "..");
const file = path.join(root, ".github", "workflows", "pulumi.yml");
const committed = fs.readdirSync(root).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();
/** A committed stack's settings as the program parses them. */
const parsed = (s: string) => parseStackConfig(projectConfig({ ...committedStackConfig(s), ...(s === "hetzner" ? { "hcloud:token": TEST_HCLOUD_TOKEN } : {}) }));
// The e2e stack belongs to the end-to-end workflow (QEMU nodes), not to pull requests and main:
// its stack file says so (talos-cluster:ci.enabled: false).
const stacks = committed.filter((s) => parsed(s).ci.enabled);

function actionlint(workflowFile: string) {
  return spawnSync(path.join(root, ".tools", "bin", "actionlint"), ["-color=false", workflowFile], { encoding: "utf8" });
}

describe("GitHub Actions workflow", () => {
  const workflow = YAML.parse(fs.readFileSync(file, "utf8"));

  it("passes actionlint", () => {
    const res = spawnSync(path.join(root, ".tools", "bin", "actionlint"), ["-color=false", file], { encoding: "utf8" });
    assert.equal(res.error, undefined, "actionlint is built by toolchain/setup.mjs");
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
  });

  it("actionlint does catch a broken workflow", () => {
    const broken = path.join(root, "node_modules", ".broken-workflow.yml");
    fs.writeFileSync(broken, "on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope.nope }}\n");
    try {
      const res = spawnSync(path.join(root, ".tools", "bin", "actionlint"), ["-color=false", broken], { encoding: "utf8" });
      assert.equal(res.status, 1);
      assert.match(res.stdout, /nope/);
    } finally {
      fs.rmSync(broken);
    }
  });

  it("runs each stack where its stack file says (talos-cluster:ci.runsOn)", () => {
    const read = workflow.jobs.stacks.steps.find((s: { id?: string }) => s.id === "read").run as string;
    assert.match(read, /for file in Pulumi\.\*\.yaml; do/);
    assert.match(read, /yq -o=json -I=0 '\.config\["talos-cluster:ci"\]\.runsOn \/\/ "ubuntu-latest"' "\$file"/);
    assert.match(read, /if \[ "\$\(yq '\.config\["talos-cluster:ci"\]\.enabled' "\$file"\)" = "false" \]; then continue; fi/);
    assert.deepEqual(committed.filter((s) => !parsed(s).ci.enabled), ["e2e"]);
    for (const job of ["preview", "up"]) {
      assert.deepEqual(workflow.jobs[job].needs, "stacks");
      assert.equal(workflow.jobs[job]["runs-on"], "${{ matrix.runsOn }}");
      assert.equal(workflow.jobs[job].strategy.matrix, "${{ fromJSON(needs.stacks.outputs.matrix) }}");
    }
    // what the committed stacks say, through the same schema the program parses them with
    const runsOn = Object.fromEntries(stacks.map((s) => [s, parsed(s).ci.runsOn]));
    assert.deepEqual(runsOn, { deepthought: ["self-hosted", "lan"], hetzner: "ubuntu-latest", homelab: ["self-hosted", "lan"], hybrid: ["self-hosted", "lan"] });
  });

  it("previews every committed stack on pull requests and comments the plan", () => {
    assert.equal(workflow.jobs.preview.if, "github.event_name == 'pull_request'");
    const steps = workflow.jobs.preview.steps.map((s: { run?: string; uses?: string }) => s.run ?? s.uses);
    assert.ok(steps.some((s: string) => s.includes("node toolchain/setup.mjs")));
    assert.ok(steps.some((s: string) => /pulumi preview --non-interactive/.test(s)));
    assert.ok(steps.some((s: string) => s.startsWith("actions/github-script")));
  });

  it("updates only from main or a manual run, behind the approved environment", () => {
    assert.equal(workflow.jobs.up.if, "github.event_name != 'pull_request'");
    assert.equal(workflow.jobs.up.environment, "production");
    assert.deepEqual(workflow.on.push.branches, ["main"]);
    assert.deepEqual([...workflow.on.workflow_dispatch.inputs.stack.options].sort(), stacks);
  });

  it("confirms the update with an explicit --yes, since CI has no terminal to ask on", () => {
    const runs = workflow.jobs.up.steps.map((s: { run?: string }) => s.run ?? "").filter((r: string) => r.includes("scripts/stack.sh"));
    assert.deepEqual(runs, ['bash scripts/stack.sh up "${{ matrix.stack }}" --yes']);
  });

  it("takes every secret from the repository's secrets", () => {
    for (const name of ["PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL", "PULUMI_ACCESS_TOKEN"]) {
      assert.equal(workflow.env[name], `\${{ secrets.${name} }}`);
    }
  });
});

describe("GitHub Actions end-to-end workflow (QEMU nodes)", () => {
  const e2eFile = path.join(root, ".github", "workflows", "e2e.yml");
  const text = fs.readFileSync(e2eFile, "utf8");
  const e2e = YAML.parse(text);
  const runs: string[] = e2e.jobs.e2e.steps.map((s: { run?: string }) => s.run ?? "");

  it("passes actionlint", () => {
    const res = actionlint(e2eFile);
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
  });

  it("downloads nothing from GitHub releases; talosctl is the one setup built", () => {
    assert.doesNotMatch(text, /releases\/download|github\.com\/[^ ]*\/releases/);
    assert.ok(runs.some((r) => r.includes("node toolchain/setup.mjs")));
    assert.ok(runs.some((r) => r.includes('"$PWD/.tools/bin/talosctl" cluster create dev')));
    assert.ok(runs.some((r) => r.includes('--cni-bundle-url ""')));
  });

  it("boots maintenance-mode nodes, runs up of the e2e stack, waits for Cilium, upgrades Talos, destroys", () => {
    const order = [/--skip-injecting-config/, /pulumi up --yes/, /rollout status daemonset\/cilium/, /talosVersion' "\$UPGRADE_TO"/, /pulumi destroy --yes/];
    const at = order.map((re) => runs.findIndex((r) => re.test(r)));
    assert.ok(at.every((i) => i >= 0), `steps found at ${at}`);
    assert.deepEqual([...at].sort((a, b) => a - b), at, "steps in this order");
    assert.equal(e2e.env.STACK, "e2e");
    assert.ok(committed.includes("e2e"));
    assert.equal(e2e.jobs.e2e.steps.at(-1).if, "always()");
  });
});
