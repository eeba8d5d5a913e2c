// The test-only binaries (toolchain/versions.json testTools): the control plane the tests run is
// the Kubernetes version new stacks get, and the main command's setup never builds them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import pins from "../../toolchain/versions.json";

const root = path.resolve(__dirname, "..", "..");

describe("toolchain: test-only binaries", () => {
  it("build Kubernetes at cluster.kubernetesVersion, staging modules and version variables at that release", () => {
    const k8s = pins.cluster.kubernetesVersion;
    const [major, minor, patch] = k8s.split(".");
    const wrapper = pins.testTools.wrappers.kubernetes;
    assert.equal(wrapper.requires["k8s.io/kubernetes"], `v${k8s}`);
    assert.equal(wrapper.stagingVersion, `v0.${minor}.${patch}`);
    for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
      const values = wrapper.versionVarValues as Record<string, string>;
      assert.equal(values[`${pkg}.gitVersion`], `v${k8s}`);
      assert.equal(values[`${pkg}.gitMajor`], major);
      assert.equal(values[`${pkg}.gitMinor`], minor);
    }
    const fromKubernetes = Object.values(pins.testTools.binaries).filter((b) => b.package.startsWith("k8s.io/kubernetes/"));
    assert.deepEqual(fromKubernetes.map((b) => b.binary).sort(), ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"]);
    for (const b of fromKubernetes) assert.equal(b.version, k8s, b.binary);
    assert.equal(pins.testTools.binaries.kwok.wrapper, "kubernetes", "kwok shares the Kubernetes modules");
  });

  it("are steps of `setup --test-tools` only, not of the main command's setup", function () {
    this.timeout(60_000);
    const check = (args: string[]) => {
      const res = spawnSync(process.execPath, ["toolchain/setup.mjs", "--check", ...args], { cwd: root, encoding: "utf8" });
      const output = `${res.stdout}${res.stderr}`;
      return { status: res.status, output, testSteps: [...output.matchAll(/^setup: (\S+) \(tests only\)/gm)].map((m) => m[1]) };
    };
    // The tests run after `setup --test-tools` (scripts/test.sh): every check passes.
    const main = check([]);
    assert.equal(main.status, 0, main.output);
    assert.match(main.output, /setup: pulumi /);
    assert.deepEqual(main.testSteps, []);
    const tools = check(["--test-tools-only"]);
    assert.equal(tools.status, 0, tools.output);
    assert.deepEqual(tools.testSteps, Object.values(pins.testTools.binaries).map((b) => b.binary));
    assert.doesNotMatch(tools.output, /setup: pulumi /);
  });
});
