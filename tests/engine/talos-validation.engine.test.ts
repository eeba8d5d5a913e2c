// Talos's own validator over real rendered configs: render-only `up`s of every committed
// bare-metal/Synology stack and every valid fixture (the real Talos plugin renders, the program
// runs talos-config-check on each node's complete config), and an invalid patch that stops
// `up` before any apply. Offline: render-only stacks touch no machine and register no schematic.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { UpResult } from "@pulumi/pulumi/automation";
import { committedStackConfig, readStackFile } from "../support/stack-files";
import { engineProject, EngineProject, projectRoot, limiter } from "./harness";

/** A stack file's config as objects, rendering only (no node applied, no factory call). */
function renderOnly(allConfig: Record<string, string>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(allConfig)) config[key] = /^\s*[[{]/.test(text) ? JSON.parse(text) : text;
  config["talos-cluster:cluster"] = { ...(config["talos-cluster:cluster"] as object), applyNodes: false, protectSecrets: false };
  config["talos-cluster:imageFactory"] = { ...((config["talos-cluster:imageFactory"] as object) ?? {}), register: false };
  return config;
}

// The committed stacks' encryption salt belongs to the demo passphrase of scripts/env.sh.
const DEMO_PASSPHRASE = "talos-cluster-local-default";
const VALID_FIXTURES = path.join(projectRoot, "tests", "fixtures", "valid");
const cases: [string, Record<string, string>][] = [
  ["homelab", committedStackConfig("homelab")],
  ["deepthought", committedStackConfig("deepthought")],
  ...fs.readdirSync(VALID_FIXTURES).sort().map((f): [string, Record<string, string>] => [`fixture-${path.basename(f, ".yaml")}`, readStackFile(path.join(VALID_FIXTURES, f)).allConfig]),
];

/** A promise a test awaits later; marked handled now so a failure is reported by its test, not as unhandled. */
function later<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

describe("engine: Talos validates every rendered machine config", function () {
  this.timeout(600_000);
  let project: EngineProject;
  let hetzner: EngineProject;
  let total = 0;
  // Every render starts in `before`, two at a time; each test awaits its own. The throwaway
  // backends go with their projects: render-only stacks hold nothing outside them.
  const renders = new Map<string, Promise<{ nodes: number; result: UpResult }>>();
  let hetznerRender: Promise<UpResult>;
  let hybridRender: Promise<UpResult>;

  before(() => {
    project = engineProject();
    hetzner = engineProject(DEMO_PASSPHRASE, "tests/engine/hetzner-render-program");
    // Node patch files named by relative path live in the copied project, as in the repository.
    fs.cpSync(path.join(projectRoot, "tests", "fixtures", "patches"), path.join(project.dir, "tests", "fixtures", "patches"), { recursive: true });
    const run = limiter(2);
    for (const [name, allConfig] of cases) {
      const config = renderOnly(allConfig);
      const nodes = (config["talos-cluster:nodes"] as unknown[]).length;
      renders.set(name, later(run(async () => ({ nodes, result: await (await project.stack(name, config)).up({ color: "never" }) }))));
    }
    hetznerRender = later(run(async () => (await hetzner.committedStack("hetzner")).up({ color: "never" })));
    hybridRender = later(run(async () => (await hetzner.committedStack("hybrid")).up({ color: "never" })));
  });
  after(() => {
    project?.cleanup();
    hetzner?.cleanup();
    console.log(`      Talos validated ${total} rendered machine configs (${cases.map(([n]) => n).join(", ")}, hetzner, hybrid)`);
  });

  for (const [name] of cases) {
    it(`${name}: every node's rendered config passes strict validation`, async () => {
      const { nodes, result } = await renders.get(name)!;
      assert.equal(result.summary.result, "succeeded");
      const validated = result.outputs.validatedMachineConfigs?.value;
      assert.equal(validated, nodes, `validated ${validated} of ${nodes} node configs`);
      total += validated as number;
    });
  }

  it("hetzner: every server's rendered config passes strict validation in cloud mode", async () => {
    const result = await hetznerRender;
    assert.equal(result.summary.result, "succeeded");
    const nodes = result.outputs.nodes!.value as string[];
    assert.equal(nodes.length, 5);
    assert.equal(result.outputs.validatedMachineConfigs?.value, nodes.length);
    total += nodes.length;
  });

  it("hybrid: the cloud servers' configs pass in cloud mode, the dedicated server's and the LAN nodes' in metal mode", async () => {
    const result = await hybridRender;
    assert.equal(result.summary.result, "succeeded");
    const nodes = result.outputs.nodes!.value as string[];
    assert.deepEqual(nodes, ["hybrid-cp-fsn1-1", "hybrid-cp-nbg1-1", "hybrid-worker-1", "hybrid-worker-2", "metal-worker-1", "lan-cp-1", "lan-worker-1"]);
    assert.equal(result.outputs.validatedMachineConfigs?.value, nodes.length);
    total += nodes.length;
  });

  it("a patch whose value Talos rejects fails `up` naming node, patch file and Talos's message; nothing applied", async () => {
    const stack = await project.stack("bad-patch", {
      "talos-cluster:cluster": { name: "tales", protectSecrets: false, cni: "flannel", talosApiTimeout: "5s", allowLoopbackAddresses: true },
      "talos-cluster:addons": { cilium: { enabled: false }, prometheusOperatorCrds: { enabled: false } },
      "talos-cluster:imageFactory": { register: false },
      "talos-cluster:nodes": [
        // Closed loopback ports: an apply that ran would be refused, never reach a machine.
        { name: "cp-1", role: "controlplane", platform: "bare-metal", address: "127.0.0.11" },
        { name: "worker-1", role: "worker", platform: "bare-metal", address: "127.0.0.12", patches: ["tests/fixtures/patches/bad-address.yaml"] },
      ],
    });
    await assert.rejects(stack.up({ color: "never" }), (err: Error) => {
      assert.match(err.message, /Talos's validation rejected 1 machine config; no node was touched/);
      assert.match(err.message, /node worker-1 \(metal\): patch tests\/fixtures\/patches\/bad-address\.yaml: .*\[networking\.os\.device\.addresses\] "eth0": invalid CIDR address: 999\.1\.1\.1\/24/);
      return true;
    });
    const state = await stack.exportStack();
    const types = ((state.deployment.resources ?? []) as { type: string }[]).map((r) => r.type);
    assert.deepEqual(types.filter((t) => t.startsWith("talos:machine/configurationApply") || t.startsWith("talos:machine/bootstrap")), []);
  });
});
