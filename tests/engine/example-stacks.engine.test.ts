// `pulumi preview` of the committed example stacks through the real engine, offline: a preview
// of a new cluster never dials a node (configs are unknown until the secrets exist, and the
// health check waits for the kubeconfig), so no traffic leaves the machine.
import assert from "node:assert/strict";
import { engineProject, EngineProject } from "./harness";

// The committed stacks' encryption salt belongs to the demo passphrase of scripts/env.sh.
const DEMO_PASSPHRASE = "talos-cluster-local-default";

describe("engine: preview of the committed example stacks", function () {
  this.timeout(300_000);
  let project: EngineProject;

  before(() => {
    project = engineProject(DEMO_PASSPHRASE);
  });
  after(() => project?.cleanup());

  for (const [name, creates] of [
    ["homelab", 14],
    ["deepthought", 16],
  ] as const) {
    it(`previews ${name} offline with every resource to create`, async () => {
      const stack = await project.committedStack(name);
      const preview = await stack.preview({ color: "never" });
      assert.deepEqual(preview.changeSummary, { create: creates });
      for (const type of ["talos:machine:Secrets", "talos:imageFactory:Schematic", "talos:machine:ConfigurationApply", "talos:machine:Bootstrap", "talos:cluster:Kubeconfig"]) {
        assert.match(preview.stdout, new RegExp(`\\+ +${type} `), `${type} missing from the ${name} preview`);
      }
    });
  }
});
