// The gate between rendering and applying (components/talos/config-validation.ts): what it hands
// Talos's rules, that configs pass through only after every verdict, and its report. Talos's
// real verdicts on real rendered configs are in tests/engine/talos-validation.engine.test.ts.
import assert from "node:assert/strict";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, valueOf } from "../support/mocks";
import { CheckItem, CheckResult, gateNodeConfigs, kernelArgProblems, patchFileProblems, rejectionReport, talosConfigCheck, TalosRules, validationMode } from "../../components/talos/config-validation";
import { patchSources } from "../../config/patch-sources";
import { parseStackConfig } from "../../config/schema";

const root = path.resolve(__dirname, "..", "..");

/** An output's value, or its rejection (valueOf would wait forever on a rejected output). */
const settled = <T>(o: pulumi.Output<T>): Promise<T> => (o as unknown as { promise(): Promise<T> }).promise();

function recordingRules(verdict: (item: CheckItem) => CheckResult): TalosRules & { calls: CheckItem[][] } {
  const calls: CheckItem[][] = [];
  return {
    calls,
    check: (items) => {
      calls.push([...items]);
      return items.map(verdict);
    },
    loadPatches: () => [],
  };
}

const nodes = [
  { name: "cp-1", role: "controlplane" as const, mode: "metal" as const, patches: [{ source: "patches/platform/bare-metal/10-disks.yaml", content: "a: 1\n" }] },
  { name: "w-1", role: "worker" as const, mode: "cloud" as const, patches: [{ source: "the node's derived patch", content: "b: 2\n" }] },
];
const baseSources = { controlplane: ["patches/all/10-sysctls.yaml"], worker: ["patches/all/10-sysctls.yaml"] };

describe("config validation gate", () => {
  before(() => installMocks());

  it("maps platforms to Talos's runtime modes", () => {
    assert.deepEqual(["bare-metal", "synology-vm", "hetzner-cloud"].map(validationMode), ["metal", "metal", "cloud"]);
  });

  it("hands every node's complete config, its role's base and its sourced layers to one check", async () => {
    const rules = recordingRules((i) => ({ name: i.name, valid: true }));
    const gate = gateNodeConfigs({
      rules,
      nodes,
      rendered: { "cp-1": pulumi.output("cp config"), "w-1": pulumi.output("worker config") },
      bases: { controlplane: pulumi.output("cp base"), worker: pulumi.output("worker base") },
      baseSources,
    });
    assert.equal(await valueOf(gate.configs["w-1"]!), "worker config");
    assert.equal(await valueOf(gate.validated), 2);
    assert.equal(rules.calls.length, 1);
    assert.deepEqual(rules.calls[0], [
      { name: "cp-1", mode: "metal", role: "controlplane", config: "cp config", base: "cp base", patches: nodes[0]!.patches },
      { name: "w-1", mode: "cloud", role: "worker", config: "worker config", base: "worker base", patches: nodes[1]!.patches },
    ]);
    assert.equal(await (gate.configs["cp-1"] as unknown as { isSecret: Promise<boolean> }).isSecret, true);
  });

  it("one rejected node holds back every node's config with Talos's report", async () => {
    const rules = recordingRules((i) =>
      i.name === "w-1" ? { name: i.name, valid: false, source: "the node's derived patch", message: "1 error occurred:\n\t* bad value\n\n" } : { name: i.name, valid: true },
    );
    const gate = gateNodeConfigs({
      rules,
      nodes,
      rendered: { "cp-1": pulumi.output("cp config"), "w-1": pulumi.output("worker config") },
      bases: { controlplane: pulumi.output("cp base"), worker: pulumi.output("worker base") },
      baseSources,
    });
    const report = "Talos's validation rejected 1 machine config; no node was touched:\n  - node w-1 (cloud): patch the node's derived patch: 1 error occurred: * bad value";
    for (const output of [gate.configs["cp-1"]!, gate.configs["w-1"]!, gate.validated]) {
      await assert.rejects(settled<unknown>(output), (err: Error) => err instanceof pulumi.RunError && err.message === report);
    }
  });

  it("names a role's layers when the base already fails", () => {
    assert.equal(
      rejectionReport([{ name: "cp-1", valid: false, source: "base", message: "x" }], nodes, baseSources),
      "Talos's validation rejected 1 machine config; no node was touched:\n  - node cp-1 (metal): its controlplane layers (patches/all/10-sysctls.yaml): x",
    );
  });

  it("every committed patch file loads with Talos's own loader; broken ones are named with their nodes", () => {
    const config = parseStackConfig({
      cluster: { name: "tales" },
      nodes: [
        { name: "cp-1", role: "controlplane", platform: "bare-metal", address: "10.0.1.50", patches: ["tests/fixtures/patches/unknown-key.yaml"] },
        { name: "w-1", role: "worker", platform: "synology-vm", address: "10.0.1.51", patches: ["tests/fixtures/patches/bad-address.yaml"] },
      ],
    });
    const sources = patchSources(root, config);
    assert.deepEqual(
      sources.files.map((f) => [f.source, f.nodes]),
      [
        ["patches/all/10-sysctls.yaml", ["cp-1", "w-1"]],
        ["patches/all/20-kubelet-eviction.yaml", ["cp-1", "w-1"]],
        ["patches/platform/bare-metal/10-disks.yaml", ["cp-1"]],
        ["tests/fixtures/patches/unknown-key.yaml", ["cp-1"]],
        ["patches/platform/synology-vm/10-console.yaml", ["w-1"]],
        ["tests/fixtures/patches/bad-address.yaml", ["w-1"]],
      ],
    );
    assert.deepEqual(sources.nodeLayers["w-1"], [
      "patches/platform/synology-vm/10-console.yaml",
      "the node's derived patch (talos-cluster:nodes[1])",
      "tests/fixtures/patches/bad-address.yaml",
      "the node's image patch (its installer and schematic kernel args, talos-cluster:imageFactory and every layer's machine.install.extraKernelArgs)",
    ]);
    // bad-address.yaml loads (right keys and types): only validation of the whole config refuses it.
    assert.deepEqual(patchFileProblems(talosConfigCheck(), sources.files), [
      'tests/fixtures/patches/unknown-key.yaml (node cp-1): Talos cannot load this patch: error decoding document /v1alpha1/ (line 2): unknown keys found during decoding: machine: kubelet: extraArgz: rotate-server-certificates: "true"',
    ]);
  });

  it("a missing validator binary says how to get it", () => {
    assert.throws(() => talosConfigCheck("/nonexistent/talos-config-check").loadPatches([{ source: "x", content: "a: 1" }]), /not found: run `node toolchain\/setup\.mjs`/);
  });

  it("refuses, naming file and nodes, a kernel arg in a patch that a schematic cannot carry unquoted", () => {
    const files = [
      { source: "patches/all/30-args.yaml", nodes: ["cp-1", "w-1"], content: "machine:\n  install:\n    extraKernelArgs: [console=tty0, 'splash=\"a b\"']\n" },
      { source: "patches/worker/10-ok.yaml", nodes: ["w-1"], content: "machine:\n  install:\n    extraKernelArgs: [vga=792, net.ifnames=0]\n" },
    ];
    assert.deepEqual(kernelArgProblems(files), [
      'patches/all/30-args.yaml (nodes cp-1, w-1): machine.install.extraKernelArgs "splash=\\"a b\\"" must be a plain kernel argument like vga=792 or net.ifnames=0 (no spaces or quotes): it goes into the node\'s Image Factory schematic',
    ]);
  });
});
