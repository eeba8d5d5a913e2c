// The test-only binaries (toolchain/versions.json testTools): the control plane the tests run is
// the Kubernetes version new stacks get. (That only `setup --test-tools` builds them is not run
// here: even `setup --check` relinks .tools/bin, which the engine tests running beside this one use.)
import assert from "node:assert/strict";
import pins from "../../toolchain/versions.json";

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
});
