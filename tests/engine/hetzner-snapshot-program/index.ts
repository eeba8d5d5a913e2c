// The Talos snapshots of a Hetzner stack config, exactly as the program builds them (same config
// parsing, same component), without the rest of the stack: the API is the fake Hetzner Cloud
// (tests/support/fake-hcloud.ts), the rescue system a real sshd on loopback, the Image Factory
// a loopback HTTP server. A command per snapshot stands in for what boots from it: it reports
// the image ID to the fake, so the test sees when the old snapshot is deleted relative to it.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { buildServerTypes, SnapshotBuilder, TalosSnapshots } from "./components/hetzner/talos-snapshots";
import { schematicId } from "./components/talos/image-schematic";
import { parseStackConfig, projectConfig, StackConfigError } from "./config/schema";

function load() {
  try {
    return parseStackConfig(projectConfig(pulumi.runtime.allConfig()));
  } catch (err) {
    if (err instanceof StackConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}
const config = load();
const hetzner = config.hetzner!;
const test = new pulumi.Config("snapshot-test");
const builder = test.requireObject<SnapshotBuilder>("builder");

const snapshots = new TalosSnapshots(`${config.cluster.name}-hetzner-talos`, {
  clusterName: config.cluster.name,
  token: pulumi.secret(config.hcloudToken!),
  factoryUrl: config.imageFactory.url,
  talosVersion: config.cluster.talosVersion,
  schematicId: schematicId({ extensions: config.imageFactory.extensions, extraKernelArgs: config.imageFactory.extraKernelArgs }),
  serverTypes: buildServerTypes(hetzner.pools),
  location: hetzner.location,
  builder,
});

for (const [arch, image] of Object.entries(snapshots.imageIds)) {
  new command.local.Command(`boots-${arch}`, {
    create: `curl -fsS -X POST "${test.require("marker")}?image=$IMAGE"`,
    environment: { IMAGE: image! },
    triggers: [image!],
  });
}

export const imageIds = snapshots.imageIds;
