// The opt-in patch files of seed 002 (patches/examples/): each says why and when, and each passes
// Talos's own validation on top of the layers the program renders (talos-config-check, the
// machinery v1.14.1 rules the program's validation gate uses).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import YAML from "yaml";
import pins from "../../toolchain/versions.json";
import { clusterPatches, kernelArgsOf, nodePatch, toYaml } from "../../components/talos/patches";
import { documentKeys, duplicateDocuments, patchDocuments, readPatchLayer } from "../../config/patch-files";

const root = path.resolve(__dirname, "..", "..");
const rel = (file: string) => path.relative(root, file);
const examples = readPatchLayer(path.join(root, "patches", "examples"));

/** The layers every bare-metal node gets from the program before its own `patches:` files. */
function programLayers(): { source: string; content: string }[] {
  const cluster = clusterPatches({
    cni: "cilium",
    podCidr: "10.244.0.0/16",
    serviceCidr: "10.96.0.0/12",
    allowSchedulingOnControlPlanes: false,
    installerImage: `factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:${pins.cluster.talosVersion}`,
    kubeletReservations: { systemMemory: "512Mi", kubeMemory: "512Mi", evictionMemory: "256Mi" },
  });
  return [
    ...cluster.map((p, i) => ({ source: `cluster patch ${i + 1}`, content: toYaml(p) })),
    ...readPatchLayer(path.join(root, "patches", "all")).map((f) => ({ source: rel(f.file), content: f.content })),
    ...readPatchLayer(path.join(root, "patches", "platform", "bare-metal")).map((f) => ({ source: rel(f.file), content: f.content })),
    { source: "node patch", content: toYaml(nodePatch({ name: "node-1", role: "worker", installDisk: "/dev/sda", labels: {}, taints: {} })) },
  ];
}

describe("patches/examples (seed 002's recommended settings, opt-in)", () => {
  it("holds the six settings of seed 002 and the two Talos-document examples, each saying why and when to use it", () => {
    assert.deepEqual(
      examples.map((f) => rel(f.file)),
      [
        "patches/examples/10-cpu-governor-performance.yaml",
        "patches/examples/20-kubespan.yaml",
        "patches/examples/30-registry-auth.yaml",
        "patches/examples/40-local-storage-mount.yaml",
        "patches/examples/50-local-storage-user-volume.yaml",
        "patches/examples/60-trusted-roots.yaml",
        "patches/examples/70-disk-encryption.yaml",
        "patches/examples/80-vswitch-vlan.yaml",
      ],
    );
    const notSeed002 = ["patches/examples/50-local-storage-user-volume.yaml", "patches/examples/60-trusted-roots.yaml"];
    for (const f of examples) {
      assert.match(f.content, notSeed002.includes(rel(f.file)) ? /^# Opt-in: / : /^# Opt-in \(seed 002, "[^"]+"\)/, rel(f.file));
      assert.match(f.content, /^# Why: /m, rel(f.file));
      assert.match(f.content, /^# When: /m, rel(f.file));
    }
  });

  it("the user-volume example is two documents (a v1alpha1 part and a UserVolumeConfig); the trusted roots one a TrustedRootsConfig", () => {
    assert.deepEqual(documentKeys(examples[4]!.content), ["UserVolumeConfig/local-storage"]);
    assert.equal(patchDocuments(examples[4]!.content).length, 2);
    assert.deepEqual(documentKeys(examples[5]!.content), ["TrustedRootsConfig/internal-ca"]);
    // no kernel args in either, and the v1alpha1 part is read past the separator
    assert.deepEqual(kernelArgsOf([examples[4]!.content]), []);
    assert.deepEqual(kernelArgsOf([`apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: x\n---\nmachine:\n  install:\n    extraKernelArgs: [vga=792]\n`]), ["vga=792"]);
  });

  it("a document of the same kind and name in two of a node's files is refused, naming both", () => {
    const uv = (name: string) => `apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: ${name}\n`;
    assert.deepEqual(
      duplicateDocuments([
        { file: "patches/all/50-a.yaml", content: `machine: {}\n---\n${uv("local-storage")}` },
        { file: "patches/worker/50-b.yaml", content: uv("other") },
        { file: "extra/c.yaml", content: uv("local-storage") },
      ]),
      ["UserVolumeConfig/local-storage is in both patches/all/50-a.yaml and extra/c.yaml: a node's config holds one document of each kind and name; keep one"],
    );
    assert.deepEqual(duplicateDocuments([{ file: "a.yaml", content: uv("x") }, { file: "b.yaml", content: uv("y") }]), []);
  });

  it("the vSwitch VLAN is at the vSwitch's MTU, 1400, and KubeSpan 80 below it", () => {
    const vlan = YAML.parse(examples[7]!.content).machine.network.interfaces[0].vlans[0];
    assert.equal(vlan.mtu, 1400);
    assert.equal(YAML.parse(examples[1]!.content).machine.network.kubespan.mtu, vlan.mtu - 80);
  });

  it("the CPU governor reaches the node's upgrade target as a kernel argument", () => {
    assert.deepEqual(kernelArgsOf([examples[0]!.content]), ["cpufreq.default_governor=performance"]);
  });

  it("each passes Talos's strict validation as a control plane and as a worker; a broken one does not", () => {
    const layers = programLayers();
    const kubespan = examples[1]!.content;
    const items = [
      ...examples.flatMap((f) =>
        (["controlplane", "worker"] as const).map((role) => ({ name: `${rel(f.file)} (${role})`, mode: "metal", role, patches: [...layers, { source: rel(f.file), content: f.content }] })),
      ),
      // The control: KubeSpan without cluster discovery, which Talos refuses.
      { name: "kubespan without discovery", mode: "metal", role: "worker", patches: [...layers, { source: "broken", content: kubespan.replace(/(discovery:[\s\S]*enabled:) true/, "$1 false") }] },
      // The control for the second document of a multi-document file: Talos validates it too.
      { name: "user volume smaller than its minimum", mode: "metal", role: "worker", patches: [...layers, { source: "broken", content: examples[4]!.content.replace("minSize: 20GB", "minSize: 20GB\n  maxSize: 10GB") }] },
    ];
    const request = {
      // The program's generator (Terraform Talos provider v0.8.0, machinery v1.10) writes
      // v1alpha1-only configs for every contract (README, "Known limits"): so does a v1.10 contract here.
      generate: { clusterName: "tales", endpoint: "https://10.0.1.50:6443", talosVersion: "v1.10.6", kubernetesVersion: pins.cluster.kubernetesVersion },
      items,
    };
    const results = JSON.parse(execFileSync("talos-config-check", ["check"], { input: JSON.stringify(request), encoding: "utf8" })) as { name: string; valid: boolean; message?: string }[];
    assert.deepEqual(
      results.map((r) => ({ name: r.name, valid: r.valid, message: r.message })),
      [
        ...items.slice(0, -2).map((i) => ({ name: i.name, valid: true, message: undefined })),
        { name: "kubespan without discovery", valid: false, message: "1 error occurred:\n\t* KubeSpan requires cluster discovery to be enabled" },
        { name: "user volume smaller than its minimum", valid: false, message: "1 error occurred:\n\t* UserVolumeConfig/local-storage: min size is greater than max size" },
      ],
    );
  });
});
