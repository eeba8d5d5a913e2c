// The contract matrix (issue 21): every committed stack rendered by the real generator (the Talos
// plugin, Terraform Talos provider v0.8.0) at every config contract the program accepts (the
// newest patch of each accepted Talos minor, set as cluster.configContract the way an existing
// cluster names its own), each node's complete config passing Talos v1.14.1's strict validation
// (the program's own gate, talos-config-check). Also: no layer's kernel args reach a config
// merged; each config names exactly its node's schematic args (patches.ts nodeImagePatch).
// Offline: render-only stacks touch no machine and register no schematic.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import type { UpResult } from "@pulumi/pulumi/automation";
import { TALOS_MINORS, TALOS_NEWEST_PATCH } from "../../config/versions";
import { committedStackConfig, hetznerStackConfig } from "../support/stack-files";
import { engineProject, EngineProject, projectRoot, limiter } from "./harness";

/** Every contract the program accepts: the newest patch of each accepted minor. */
const CONTRACTS = TALOS_MINORS.map((m) => TALOS_NEWEST_PATCH[m]!);
/** The committed stacks the main program renders (hetzner has its own render program). */
const STACKS = ["homelab", "deepthought", "e2e"];
/**
 * The contracts each stack renders at. The generator's machinery v1.10 switches every contract
 * feature on a comparison with a minor up to 1.10 (pkg/machinery@v1.10.0 config/contract.go), so
 * a contract past 1.10 renders what 1.10 does: homelab (platform layers, kernel args) and hetzner
 * (cloud mode) go through every accepted contract; deepthought and e2e, whose default contract is
 * validated by talos-validation.engine.test.ts, through the newest one (what stacks of the
 * previous release stored), which keeps the test command within its time budget.
 */
const CONTRACTS_OF: Record<string, readonly string[]> = {
  homelab: CONTRACTS,
  hetzner: CONTRACTS,
  deepthought: [CONTRACTS[CONTRACTS.length - 1]!],
  e2e: [CONTRACTS[CONTRACTS.length - 1]!],
};

/** A stack's config as objects, rendering only at `contract`. */
function renderAt(allConfig: Record<string, string>, contract: string): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(allConfig)) config[key] = /^\s*[[{]/.test(text) ? JSON.parse(text) : text;
  config["talos-cluster:cluster"] = { ...(config["talos-cluster:cluster"] as object), applyNodes: false, protectSecrets: false, configContract: contract };
  config["talos-cluster:imageFactory"] = { ...((config["talos-cluster:imageFactory"] as object) ?? {}), register: false };
  return config;
}

describe("engine: the contract matrix, the committed stacks at the accepted contracts", function () {
  this.timeout(1_800_000);
  let project: EngineProject;
  let hetzner: EngineProject;
  const renders = new Map<string, Promise<UpResult>>();
  const key = (stack: string, contract: string) => `${stack}@${contract}`;

  before(() => {
    project = engineProject();
    hetzner = engineProject(undefined, "tests/engine/hetzner-render-program");
    const run = limiter(2);
    for (const contract of CONTRACTS) {
      for (const stack of STACKS.filter((st) => CONTRACTS_OF[st]!.includes(contract))) {
        const config = renderAt(committedStackConfig(stack), contract);
        const name = `${stack}-${contract.replace(/\./g, "-")}`;
        const up = run(async () => (await project.stack(name, config)).up({ color: "never" }));
        up.catch(() => undefined);
        renders.set(key(stack, contract), up);
      }
      const config = renderAt(hetznerStackConfig(), contract);
      const up = run(async () => (await hetzner.stack(`hetzner-${contract.replace(/\./g, "-")}`, config)).up({ color: "never" }));
      up.catch(() => undefined);
      renders.set(key("hetzner", contract), up);
    }
  });
  after(() => {
    project?.cleanup();
    hetzner?.cleanup();
  });

  it("Talos 1.14's new-cluster defaults cannot be expressed: the generator's machinery v1.10 knows neither FilesystemTrimConfig nor SecurityProfileConfig", async () => {
    const defaults = engineProject();
    try {
      fs.cpSync(path.join(projectRoot, "tests", "fixtures", "patches"), path.join(defaults.dir, "tests", "fixtures", "patches"), { recursive: true });
      const config = renderAt(committedStackConfig("deepthought"), "v1.14.1");
      const nodes = config["talos-cluster:nodes"] as Record<string, unknown>[];
      nodes[0] = { ...nodes[0], patches: ["tests/fixtures/patches/talos-1.14-defaults.yaml"] };
      // Talos v1.14.1's own loader takes the file at parse time; the generator refuses it when it renders.
      await assert.rejects((await defaults.stack("defaults", config)).up({ color: "never" }), /"FilesystemTrimConfig" "v1alpha1": not registered/);
    } finally {
      defaults.cleanup();
    }
  });

  it("accepts the newest patch of each of Talos 1.10 to 1.14 as a contract", () => {
    assert.deepEqual(CONTRACTS, ["v1.10.9", "v1.11.6", "v1.12.11", "v1.13.9", "v1.14.1"]);
  });

  for (const contract of CONTRACTS) {
    for (const stack of STACKS.filter((st) => CONTRACTS_OF[st]!.includes(contract))) {
      it(`${stack} at contract ${contract}: every node's config passes strict validation and names exactly its schematic's kernel args`, async () => {
        const result = await renders.get(key(stack, contract))!;
        assert.equal(result.summary.result, "succeeded");
        assert.equal(result.outputs.configContract?.value, contract);
        const configs = result.outputs.nodeMachineConfigs!.value as Record<string, string>;
        const images = result.outputs.nodeImages!.value as Record<string, { kernelArgs: string[] }>;
        assert.equal(result.outputs.validatedMachineConfigs?.value, Object.keys(configs).length);
        // the Synology console's vga=792 (patches/platform/synology-vm) is in every homelab node's schematic
        if (stack === "homelab") assert.deepEqual(Object.values(images).map((i) => i.kernelArgs), [["vga=792"], ["vga=792"]]);
        for (const [node, text] of Object.entries(configs)) {
          const config = YAML.parse(text) as { machine: { install: { extraKernelArgs?: string[] } } };
          const args = images[node]!.kernelArgs;
          assert.deepEqual(config.machine.install.extraKernelArgs ?? [], args, node);
        }
        for (const role of ["controlplaneMachineConfig", "workerMachineConfig"]) {
          const base = YAML.parse(result.outputs[role]!.value as string) as { machine: { install: { extraKernelArgs?: string[] } } };
          assert.deepEqual(base.machine.install.extraKernelArgs ?? [], [], `${role} names no kernel args`);
        }
      });
    }
    it(`hetzner at contract ${contract}: every server's config passes strict validation in cloud mode`, async () => {
      const result = await renders.get(key("hetzner", contract))!;
      assert.equal(result.summary.result, "succeeded");
      assert.equal(result.outputs.validatedMachineConfigs?.value, (result.outputs.nodes!.value as string[]).length);
    });
  }
});
