// Talos's own validator over real rendered configs: render-only `up`s of every committed
// bare-metal/Synology stack and every valid fixture (the real Talos plugin renders, the program
// runs talos-config-check on each node's complete config), and an invalid patch that stops
// `up` before any apply. Offline: render-only stacks touch no machine and register no schematic.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { committedStackConfig, readStackFile } from "../support/stack-files";
import { engineProject, EngineProject, projectRoot } from "./harness";

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

describe("engine: Talos validates every rendered machine config", function () {
  this.timeout(600_000);
  let project: EngineProject;
  let total = 0;
  const stacks: Stack[] = [];

  before(() => {
    project = engineProject();
    // Node patch files named by relative path live in the copied project, as in the repository.
    fs.cpSync(path.join(projectRoot, "tests", "fixtures", "patches"), path.join(project.dir, "tests", "fixtures", "patches"), { recursive: true });
  });
  after(async () => {
    for (const stack of stacks) await stack.destroy({ color: "never" }).catch(() => undefined);
    project?.cleanup();
    console.log(`      Talos validated ${total} rendered machine configs (${cases.map(([n]) => n).join(", ")}, hetzner)`);
  });

  for (const [name, allConfig] of cases) {
    it(`${name}: every node's rendered config passes strict validation`, async () => {
      const config = renderOnly(allConfig);
      const nodes = (config["talos-cluster:nodes"] as unknown[]).length;
      const stack = await project.stack(name, config);
      stacks.push(stack);
      const result = await stack.up({ color: "never" });
      assert.equal(result.summary.result, "succeeded");
      const validated = result.outputs.validatedMachineConfigs?.value;
      assert.equal(validated, nodes, `validated ${validated} of ${nodes} node configs`);
      total += validated as number;
    });
  }

  it("hetzner: every server's rendered config passes strict validation in cloud mode", async () => {
    const hetzner = engineProject(DEMO_PASSPHRASE, "tests/engine/hetzner-render-program");
    try {
      const stack = await hetzner.committedStack("hetzner");
      const result = await stack.up({ color: "never" });
      assert.equal(result.summary.result, "succeeded");
      const nodes = result.outputs.nodes!.value as string[];
      assert.equal(nodes.length, 5);
      assert.equal(result.outputs.validatedMachineConfigs?.value, nodes.length);
      total += nodes.length;
      await stack.destroy({ color: "never" });
    } finally {
      hetzner.cleanup();
    }
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
    stacks.push(stack);
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
