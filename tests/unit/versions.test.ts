// The Talos/Kubernetes support table (config/versions.ts) against Talos's own compatibility
// data, asked from the validator built from the pinned machinery, at every boundary.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import pins from "../../toolchain/versions.json";
import { creationContract, GENERATOR_MACHINERY, KUBERNETES_SUPPORT, TALOS_MINORS, versionPairProblems } from "../../config/versions";

interface Verdict {
  talos: string;
  kubernetes: string;
  supported: boolean;
  message?: string;
}

function talosSays(pairs: { talos: string; kubernetes: string }[]): Verdict[] {
  return JSON.parse(execFileSync("talos-config-check", ["support"], { input: JSON.stringify(pairs), encoding: "utf8" }));
}

describe("versions: Talos/Kubernetes pairs (config/versions.ts)", () => {
  it("the validator is the pinned machinery", () => {
    const reported = JSON.parse(execFileSync("talos-config-check", ["version"], { encoding: "utf8" }));
    assert.deepEqual(reported, { machinery: `v${pins.tools.talosConfigCheck.version}` });
  });

  it("accepts Talos 1.10 to 1.14, the versions the generator and the validator know", () => {
    assert.deepEqual(TALOS_MINORS, ["1.10", "1.11", "1.12", "1.13", "1.14"]);
    assert.equal(TALOS_MINORS.at(-1), pins.tools.talosConfigCheck.version.split(".").slice(0, 2).join("."));
    for (const talos of ["v1.9.5", "v1.15.0", "v2.0.0"]) {
      assert.deepEqual(versionPairProblems(talos, "1.33.0"), [
        { field: "talosVersion", message: `${talos} is not supported: this program accepts Talos v1.10.0 to v1.14.x (the versions its config generator and validator know)` },
      ]);
    }
  });

  it("agrees with Talos's compatibility package on every boundary of every accepted minor", () => {
    const pairs: { talos: string; kubernetes: string }[] = [];
    for (const minor of TALOS_MINORS) {
      for (let k = 24; k <= 40; k++) for (const patch of [0, 5, 98, 99]) pairs.push({ talos: `v${minor}.3`, kubernetes: `1.${k}.${patch}` });
    }
    const verdicts = talosSays(pairs);
    assert.equal(verdicts.length, pairs.length);
    let supported = 0;
    for (const v of verdicts) {
      const ours = versionPairProblems(v.talos, v.kubernetes);
      assert.equal(ours.length === 0, v.supported, `${v.talos} + ${v.kubernetes}: Talos says ${v.supported ? "supported" : v.message}, we say ${JSON.stringify(ours)}`);
      if (v.supported) supported++;
    }
    // 5 Talos minors x 6 Kubernetes minors x 4 patches, less the newest minor's x.y.99
    // (machinery's exclusive bound)
    assert.equal(supported, 5 * (6 * 4 - 1));
  });

  it("the default pair is supported, and Kubernetes is Talos's own default for that minor", () => {
    assert.deepEqual(versionPairProblems(pins.cluster.talosVersion, pins.cluster.kubernetesVersion), []);
    assert.deepEqual(talosSays([{ talos: pins.cluster.talosVersion, kubernetes: pins.cluster.kubernetesVersion }])[0]!.supported, true);
    assert.deepEqual(KUBERNETES_SUPPORT["1.14"], { min: "1.32.0", below: "1.37.99" });
  });

  it("states the supported range when it refuses a pair", () => {
    assert.deepEqual(versionPairProblems("v1.10.6", "1.34.0"), [
      { field: "kubernetesVersion", message: "1.34.0 is too new for Talos v1.10.6: Talos 1.10 supports Kubernetes 1.28.0 to 1.33.x" },
    ]);
    assert.deepEqual(versionPairProblems("v1.12.0", "1.29.9"), [
      { field: "kubernetesVersion", message: "1.29.9 is too old for Talos v1.12.0: Talos 1.12 supports Kubernetes 1.30.0 to 1.35.x" },
    ]);
  });
});

describe("versions: the contract a new cluster stores (config/versions.ts creationContract)", () => {
  it("is the generator's machinery, the oldest accepted minor", () => {
    assert.equal(GENERATOR_MACHINERY, "v1.10.0");
    assert.equal(`v${TALOS_MINORS[0]}.0`, GENERATOR_MACHINERY);
  });

  it("caps the Talos version at it: what the generator really produces", () => {
    assert.deepEqual(["v1.14.1", "v1.12.0", "v1.11.6", "v1.10.9", "v1.10.0"].map(creationContract), ["v1.10.0", "v1.10.0", "v1.10.0", "v1.10.9", "v1.10.0"]);
  });
});
