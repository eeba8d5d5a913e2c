// The Synology VMs of a stack config, exactly as the program builds them (same config parsing,
// same component), without the Talos resources: no node is dialled and no factory is called.
// The ISO URL points at the fake DSM, which also stands in for the Image Factory's download.
import * as pulumi from "@pulumi/pulumi";
import { imageName, SynologyVms } from "./components/synology/synology-vms";
import { isoUrl, schematicId } from "./components/talos/image-schematic";
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
const id = schematicId({ extensions: config.imageFactory.extensions, extraKernelArgs: config.imageFactory.extraKernelArgs });
const vms = new SynologyVms(`${config.cluster.name}-synology`, {
  settings: config.synology!,
  password: pulumi.secret(config.synologyPassword!),
  isoUrl: isoUrl(config.imageFactory.url, id, config.cluster.talosVersion),
  imageName: imageName(config.cluster.talosVersion, id),
  nodes: config.nodes.flatMap((n) => ("vm" in n && n.vm ? [{ name: n.name, role: n.role, address: n.address, vm: n.vm }] : [])),
  maxUnavailableWorkers: config.cluster.rollout.maxUnavailableWorkers,
  timeout: "30s",
  // Stand-ins for the nodes' Talos API port (the test listens there).
  readyPort: Number(new pulumi.Config("synology-test").require("readyPort")),
});

export const guestIds = Object.fromEntries(Object.entries(vms.guests).map(([n, g]) => [n, g.guestId]));
export const imageId = vms.image.imageId;
