// The Synology VMs of a stack config, exactly as the program builds them (same config parsing,
// same component), without the Talos resources: no node is dialled and no factory is called.
// The ISO URL points at the fake DSM, which also stands in for the Image Factory's download.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as synology from "@talos-cluster/synology";
import { SynologyBootFromDisk } from "./components/synology/boot-from-disk";
import { guestInputs, imageInputs, imageName, SynologyVms } from "./components/synology/synology-vms";
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
const iso = isoUrl(config.imageFactory.url, id, config.cluster.talosVersion);
const image = imageName(config.cluster.talosVersion, id);
const settings = config.synology!;

// synology-test:refusals: instead of the VMs, one provider and resource per DSM that must refuse
// (unreachable, bad password, full volume: an image; a disk larger than the storage's free
// space: a guest of the first node), so one `up` shows every refusal.
interface Refusal {
  name: string;
  url: string;
  password: string;
  imageFolder?: string;
  guestDiskGiB?: number;
  /** A guest of the first node's shape under this name (which DSM already has). */
  guestName?: string;
}
const refusals = new pulumi.Config("synology-test").getObject<Refusal[]>("refusals") ?? [];
for (const r of refusals) {
  const provider = new synology.Provider(`refusal-${r.name}`, { url: r.url, user: settings.user, password: pulumi.secret(r.password), caCert: settings.caCert });
  const node = config.nodes[0]!;
  if ((r.guestDiskGiB !== undefined || r.guestName !== undefined) && "vm" in node && node.vm) {
    const vmNode = { name: r.guestName ?? node.name, role: node.role, address: node.address, vm: { ...node.vm, diskGiB: r.guestDiskGiB ?? node.vm.diskGiB } };
    new synology.vmm.Guest(`refusal-${r.name}`, guestInputs(vmNode, settings, image, { port: 50000, timeout: "1s" }), { provider });
  } else {
    new synology.vmm.Image(`refusal-${r.name}`, imageInputs({ ...settings, imageFolder: r.imageFolder ?? settings.imageFolder }, image, iso), { provider });
  }
}

const vms =
  refusals.length === 0
    ? new SynologyVms(`${config.cluster.name}-synology`, {
        settings,
        password: pulumi.secret(config.synologyPassword!),
        isoUrl: iso,
        imageName: image,
        nodes: config.nodes.flatMap((n) => ("vm" in n && n.vm ? [{ name: n.name, role: n.role, address: n.address, vm: n.vm }] : [])),
        maxUnavailableWorkers: config.cluster.rollout.maxUnavailableWorkers,
        timeout: "30s",
        // Stand-ins for the nodes' Talos API port (the test listens there).
        readyPort: Number(new pulumi.Config("synology-test").require("readyPort")),
      })
    : undefined;

// The stand-in for each node's config apply (the install): it tells the test's loopback listener
// (synology-test:installUrl) that the node is installed, so the test sees when the ISO slots are
// emptied relative to the install. Then the program's own SynologyBootFromDisk, as index.ts wires it.
const installUrl = new pulumi.Config("synology-test").get("installUrl");
const installed =
  vms &&
  installUrl &&
  Object.fromEntries(
    Object.entries(vms.guests).map(([node, guest]) => [
      node,
      [
        new command.local.Command(
          `${node}-apply-stand-in`,
          { create: `node -e 'require("http").get(process.argv[1], (r) => r.resume().on("end", () => process.exit(r.statusCode === 200 ? 0 : 1)))' ${installUrl}/${node}` },
          { dependsOn: [guest] },
        ),
      ],
    ]),
  );
const boot = vms && installed && new SynologyBootFromDisk(`${config.cluster.name}-synology-boot`, { provider: vms.provider, guests: vms.guests, installed });

export const bootSwitches = boot && Object.keys(boot.switches);
export const guestIds = vms && Object.fromEntries(Object.entries(vms.guests).map(([n, g]) => [n, g.guestId]));
export const imageId = vms?.image.imageId;
