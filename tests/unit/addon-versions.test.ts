// The default Kubernetes version against every pinned add-on's documented Kubernetes range
// (toolchain/versions.json addons.compatibility): outside a range only with a recorded reason.
import assert from "node:assert/strict";
import pins from "../../toolchain/versions.json";
import { AddonCompatibility, addonSupportProblems } from "../../config/addon-support";

const compat = pins.addons.compatibility as AddonCompatibility;
const RANGES = { a: { min: "1.33", max: "1.36", source: "docs of a" }, b: { min: "1.31", max: "1.37", source: "docs of b" } };

describe("add-on Kubernetes support ranges", () => {
  it("holds for the default Kubernetes version: every add-on inside its range or excepted with a reason", () => {
    assert.deepEqual(addonSupportProblems(compat, pins.cluster.kubernetesVersion), []);
  });

  it("records a range for every chart or manifest add-on that documents one", () => {
    assert.deepEqual(Object.keys(compat.kubernetes).sort(), ["cilium", "contourGatewayProvisioner", "hcloudCloudControllerManager", "linkerdControlPlane", "rookCeph"]);
    for (const addon of Object.keys(compat.kubernetes)) assert.ok(addon in pins.addons, addon);
  });

  it("fails for a version outside a range with no exception, naming the add-on, range and source", () => {
    assert.deepEqual(addonSupportProblems({ kubernetes: RANGES, exceptions: [] }, "1.37.0"), [
      "a: Kubernetes 1.37 is outside its documented range 1.33-1.36 (docs of a) and no exception records why",
    ]);
    assert.deepEqual(addonSupportProblems({ kubernetes: RANGES, exceptions: [] }, "1.30.2"), [
      "a: Kubernetes 1.30 is outside its documented range 1.33-1.36 (docs of a) and no exception records why",
      "b: Kubernetes 1.30 is outside its documented range 1.31-1.37 (docs of b) and no exception records why",
    ]);
    assert.deepEqual(addonSupportProblems({ kubernetes: RANGES, exceptions: [] }, "1.36.4"), []);
  });

  it("fails for the committed ranges at a Kubernetes minor no exception names (1.38)", () => {
    assert.equal(addonSupportProblems(compat, "1.38.0").length, 5);
  });

  it("fails for an exception without a reason, one no longer needed, and one naming no add-on", () => {
    const exceptions = [
      { addon: "a", kubernetes: "1.37", reason: "" },
      { addon: "b", kubernetes: "1.37", reason: "b documents 1.37 now, so this is stale" },
      { addon: "c", kubernetes: "1.37", reason: "c has no range recorded at all here" },
    ];
    assert.deepEqual(addonSupportProblems({ kubernetes: RANGES, exceptions }, "1.37.0"), [
      "a: the exception for Kubernetes 1.37 gives no reason",
      "b: exception for Kubernetes 1.37 is not needed (documented range 1.31-1.37)",
      "exception for 'c' names no add-on with a recorded range",
    ]);
  });

  it("refuses a malformed version", () => {
    assert.throws(() => addonSupportProblems(compat, "latest"), { message: "not a Kubernetes version: 'latest'" });
  });
});
