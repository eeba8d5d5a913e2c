// TalosCluster under mocks (issue 18): the VIP patch on control planes only, every layer's kernel
// args in the nodes' upgrade targets, a bootstrap that never runs twice, a kubeconfig that follows
// its endpoint and node, and a restore step that lets the first control plane be replaced.
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { installMocks, Recorder, settle, valueOf } from "../support/mocks";
import { parseStackConfig, StackConfig } from "../../config/schema";

type Cluster = typeof import("../../components/talos/talos-cluster");
type Recovery = typeof import("../../components/talos/etcd-recovery");

const GET_CONFIGURATION = "talos:machine/getConfiguration:getConfiguration";
const args = (extraKernelArgs: string[]) => `machine:\n  install:\n    extraKernelArgs: [${extraKernelArgs.join(", ")}]\n`;

const cp = (n: number) => ({ name: `cp-${n}`, role: "controlplane", platform: "bare-metal", address: `10.0.1.${49 + n}` });
const worker = (n: number) => ({ name: `worker-${n}`, role: "worker", platform: "synology-vm", address: `10.0.1.${59 + n}` });

function stack(controlPlanes: number[], extra: Record<string, unknown> = {}): StackConfig {
  return parseStackConfig({
    cluster: { name: "tales", vip: { address: "10.0.1.40", interface: "eth0" }, ...extra },
    imageFactory: { extraKernelArgs: ["net.ifnames=0"] },
    nodes: [...controlPlanes.map(cp), worker(1), worker(2)],
  });
}

const patchFiles = {
  all: [args(["console=ttyS0"]), "machine:\n  sysctls:\n    vm.max_map_count: \"262144\"\n"],
  // a key beside the kernel args, so the file is still recognisable once they are lifted out
  controlplane: [`${args(["mitigations=auto", "console=ttyS0"])}  sysctls:\n    kernel.panic: "10"\n`],
  worker: [args(["mitigations=off"])],
  platform: { "synology-vm": [args(["console=tty0"])] },
  node: { "worker-2": [args(["vga=792", "net.ifnames=0"])] },
};

/** Builds a TalosCluster under fresh mocks and waits for every registration and render. */
async function build(config: StackConfig, options: { recoverFrom?: boolean } = {}) {
  const recorder: Recorder = installMocks();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TalosCluster } = require("../../components/talos/talos-cluster") as Cluster;
  const cluster = new TalosCluster("tales", {
    config,
    patchFiles,
    checkHealth: false,
    recoverFrom: options.recoverFrom ? { snapshotPath: "/backups/etcd.snapshot", sha256: "ab".repeat(32) } : undefined,
  });
  await Promise.all(Object.values(cluster.nodeConfigs).map(valueOf));
  await settle();
  return { recorder, cluster };
}

describe("TalosCluster: the VIP", () => {
  let recorder: Recorder;
  before(async () => ({ recorder } = await build(stack([1, 2, 3]))));

  it("is the endpoint of every config", () => {
    const calls = recorder.invokesOf(GET_CONFIGURATION);
    assert.ok(calls.length > 0);
    for (const c of calls) assert.equal(c.inputs.clusterEndpoint, "https://10.0.1.40:6443");
  });

  it("is patched into control planes only, after patches/all and before patches/controlplane, through configPatches", () => {
    const vip = { machine: { network: { interfaces: [{ interface: "eth0", dhcp: true, vip: { ip: "10.0.1.40" } }] } } };
    for (const c of recorder.invokesOf(GET_CONFIGURATION)) {
      const patches = (c.inputs.configPatches as string[]).map((p) => YAML.parse(p));
      const at = patches.findIndex((p) => JSON.stringify(p) === JSON.stringify(vip));
      if (c.inputs.machineType === "worker") {
        assert.equal(at, -1);
        assert.doesNotMatch(JSON.stringify(patches), /10\.0\.1\.40/);
      } else {
        // the file as Talos gets it: its kernel args are in the node's schematic (liftKernelArgs)
        const cpFile = patches.findIndex((p) => JSON.stringify(p) === JSON.stringify({ machine: { sysctls: { "kernel.panic": "10" } } }));
        const lastAll = patches.findIndex((p) => JSON.stringify(p) === JSON.stringify(YAML.parse(patchFiles.all[1]!)));
        assert.ok(lastAll < at && at < cpFile, `all at ${lastAll}, vip at ${at}, controlplane file at ${cpFile}`);
      }
    }
  });

  it("a selected link is patched as Talos's deviceSelector", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { vipPatch } = require("../../components/talos/patches") as typeof import("../../components/talos/patches");
    assert.deepEqual(vipPatch({ address: "10.0.1.40", deviceSelector: { hardwareAddr: "02:11:32:*", physical: true, driver: undefined } }), {
      machine: { network: { interfaces: [{ deviceSelector: { hardwareAddr: "02:11:32:*", physical: true }, dhcp: true, vip: { ip: "10.0.1.40" } }] } },
    });
  });
});

describe("TalosCluster: kernel args in the upgrade targets", () => {
  it("reads the image, patches/all, the role folder, the platform and the node's own files, in merge order, each once", async () => {
    const { cluster } = await build(stack([1]));
    assert.deepEqual(
      cluster.nodeTargets.map((t) => [t.name, t.kernelArgs]),
      [
        ["cp-1", ["net.ifnames=0", "console=ttyS0", "mitigations=auto"]],
        ["worker-1", ["net.ifnames=0", "console=ttyS0", "mitigations=off", "console=tty0"]],
        ["worker-2", ["net.ifnames=0", "console=ttyS0", "mitigations=off", "console=tty0", "vga=792"]],
      ],
    );
  });

  it("kernel args come from the schematic: no layer Talos merges names any, the node's image patch names exactly its schematic's", async () => {
    const { cluster, recorder } = await build(stack([1]));
    const schematics = recorder.ofType("talos:imageFactory/schematic:Schematic").map((r) => YAML.parse(r.inputs.schematic as string) as { customization: { extraKernelArgs?: string[] } });
    const kernelArgsIn = (patch: string) => YAML.parseAllDocuments(patch).map((d) => (d.toJS() as { machine?: { install?: { extraKernelArgs?: string[] } } } | null)?.machine?.install?.extraKernelArgs);
    const calls = recorder.invokesOf(GET_CONFIGURATION);
    // the two role bases and the three nodes
    assert.equal(calls.length, 5);
    for (const c of calls) {
      const patches = c.inputs.configPatches as string[];
      const named = patches.map((p, i) => [i, kernelArgsIn(p).find((a) => a !== undefined)] as const).filter(([, a]) => a !== undefined);
      const hostname = patches.map((p) => (YAML.parse(p) as { machine?: { network?: { hostname?: string } } })?.machine?.network?.hostname).find((h) => h !== undefined);
      if (hostname === undefined) {
        assert.deepEqual(named, [], "a role's base config names no kernel args");
        continue;
      }
      const target = cluster.nodeTargets.find((t) => t.name === hostname)!;
      assert.deepEqual(YAML.parse(patches[patches.length - 1]!), { machine: { install: { image: target.installerImage, extraKernelArgs: target.kernelArgs } } });
      assert.deepEqual(named, [[patches.length - 1, target.kernelArgs]], "only the last patch, the node's image patch, names kernel args");
      assert.ok(schematics.some((s) => JSON.stringify(s.customization.extraKernelArgs) === JSON.stringify(target.kernelArgs)), `a schematic carries ${target.kernelArgs.join(" ")}`);
    }
    // every node here has args beyond imageFactory's, so each has a schematic of its own, plus the cluster's
    assert.deepEqual(schematics.map((s) => s.customization.extraKernelArgs), [["net.ifnames=0"], ["net.ifnames=0", "console=ttyS0", "mitigations=auto"], ["net.ifnames=0", "console=ttyS0", "mitigations=off", "console=tty0"], ["net.ifnames=0", "console=ttyS0", "mitigations=off", "console=tty0", "vga=792"]]);
  });

  it("a patch file's kernel args are lifted out: the rest of it, comments included, reaches Talos as written", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { liftKernelArgs } = require("../../components/talos/patches") as typeof import("../../components/talos/patches");
    const text = "# why\nmachine:\n  install:\n    wipe: false\n    extraKernelArgs:\n      - vga=792 # console\n---\napiVersion: v1alpha1\nkind: UserVolumeConfig\nname: local\n";
    assert.deepEqual(liftKernelArgs(text), { patch: "# why\nmachine:\n  install:\n    wipe: false\n---\napiVersion: v1alpha1\nkind: UserVolumeConfig\nname: local\n", kernelArgs: ["vga=792"] });
    assert.deepEqual(liftKernelArgs("# Synology\nmachine:\n  install:\n    extraKernelArgs: [vga=792]\n"), { patch: "# Synology\nmachine: {}\n", kernelArgs: ["vga=792"] });
    const none = "machine:\n  sysctls: {a: '1'}   # kept byte for byte\n";
    assert.equal(liftKernelArgs(none).patch, none);
  });

  it("a layer computed during the run may not name kernel args: its schematic is built before it resolves", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { computedLayer } = require("../../components/talos/talos-cluster") as Cluster;
    assert.equal(computedLayer("machine:\n  network: {}\n"), "machine:\n  network: {}\n");
    assert.throws(() => computedLayer(args(["z=9"])), {
      message: "a patch computed during the run names kernel args (z=9): kernel args reach nodes only through their Image Factory schematic, which is built before it; set them in imageFactory.extraKernelArgs or a patch file",
    });
  });

  it("nodeKernelArgs skips layers that are still outputs and keeps the first place of each arg", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { nodeKernelArgs } = require("../../components/talos/talos-cluster") as Cluster;
    // An output (e.g. Hetzner's patch naming its load balancer) cannot be read when the targets are built.
    const output = pulumi.output(args(["z=9"]));
    assert.deepEqual(nodeKernelArgs(["a=1"], [args(["b=2", "a=1"]), output, args(["c=3"])], [args(["b=2", "d=4"])]), ["a=1", "b=2", "c=3", "d=4"]);
  });
});

describe("TalosCluster: bootstrap once, kubeconfig that follows", () => {
  let first: Recorder;
  let replaced: Recorder;
  before(async () => {
    first = (await build(stack([1, 2, 3]))).recorder;
    // cp-1 replaced by cp-4: cp-2 is now the first control plane.
    replaced = (await build(stack([2, 3, 4]))).recorder;
  });

  it("the bootstrap ignores a new first control plane, so it never runs again on a running cluster", () => {
    for (const r of [first, replaced]) assert.deepEqual(r.named("tales-cluster-bootstrap").ignoreChanges, ["node", "endpoint"]);
    assert.equal(first.named("tales-cluster-bootstrap").inputs.node, "10.0.1.50");
    assert.equal(replaced.named("tales-cluster-bootstrap").inputs.node, "10.0.1.51");
  });

  it("the kubeconfig is replaced when its node or Talos endpoint changes, and when the cluster endpoint changes", async () => {
    const kubeconfig = first.named("tales-cluster-kubeconfig");
    assert.deepEqual(kubeconfig.replaceOnChanges, ["node", "endpoint"]);
    assert.equal(kubeconfig.replacementTrigger, "https://10.0.1.40:6443");
    assert.deepEqual(kubeconfig.dependencies, [first.named("tales-cluster-bootstrap").urn, first.named("tales-config-secrets").urn].sort());
    // The node changed with the replacement (a replace), the endpoint did not (the VIP stays).
    assert.equal(replaced.named("tales-cluster-kubeconfig").inputs.node, "10.0.1.51");
    assert.equal(replaced.named("tales-cluster-kubeconfig").replacementTrigger, "https://10.0.1.40:6443");
    const moved = (await build(stack([1, 2, 3], { endpoint: "https://api.tales.lan:6443" }))).recorder;
    assert.equal(moved.named("tales-cluster-kubeconfig").replacementTrigger, "https://api.tales.lan:6443");
  });

  it("the configs keep their endpoint when the first control plane is replaced", () => {
    const endpoints = (r: Recorder) => [...new Set(r.invokesOf(GET_CONFIGURATION).map((c) => c.inputs.clusterEndpoint))];
    assert.deepEqual(endpoints(first), ["https://10.0.1.40:6443"]);
    assert.deepEqual(endpoints(replaced), ["https://10.0.1.40:6443"]);
  });
});

describe("TalosCluster: a restored stack whose first control plane is replaced", () => {
  it("the restore step's only non-ignored inputs stay the same, so nothing runs and nothing refuses", async () => {
    const before = (await build(stack([1, 2, 3]), { recoverFrom: true })).recorder.named("tales-cluster-recover-bootstrap");
    const after = (await build(stack([2, 3, 4]), { recoverFrom: true })).recorder.named("tales-cluster-recover-bootstrap");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { RECOVERED_ONCE } = require("../../components/talos/etcd-recovery") as Recovery;
    assert.deepEqual(after.ignoreChanges, [...RECOVERED_ONCE]);
    assert.deepEqual(RECOVERED_ONCE, ["create", "environment"]);
    assert.match(String(before.inputs.create), /-n 10\.0\.1\.50 bootstrap/);
    assert.match(String(after.inputs.create), /-n 10\.0\.1\.51 bootstrap/);
    const compared = (r: typeof before) => Object.fromEntries(Object.entries(r.inputs).filter(([k]) => !RECOVERED_ONCE.includes(k as never)));
    assert.deepEqual(compared(after), compared(before));
  });

  it("a changed snapshot still reaches the refusing update", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { recoverRefusal } = require("../../components/talos/recover-plan") as typeof import("../../components/talos/recover-plan");
    const a = recoverRefusal({ node: "10.0.1.50", sha256: "ab".repeat(32), timeout: "10m" });
    assert.equal(recoverRefusal({ node: "10.0.1.51", sha256: "ab".repeat(32), timeout: "15m" }), a);
    assert.notEqual(recoverRefusal({ node: "10.0.1.50", sha256: "cd".repeat(32), timeout: "10m" }), a);
    assert.match(a, /exit 1$/);
  });
});
