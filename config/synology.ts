// Synology VMs from the stack (`talos-cluster:synology`, and a `vm:` section per node): where DSM
// is, which VMM storage and network the guests use, and each guest's size and MAC address.
import { z } from "zod";
import { Ctx, issue, list, record, str } from "./check-helpers";

/**
 * Talos's minimum system requirements (Talos docs, "System Requirements"): a control plane needs
 * 2 GiB of memory and 2 cores, a worker 1 GiB and 1 core; the install disk at least 10 GiB.
 * Seed 001 saw a control plane with 1G of memory fail to come up.
 */
export const VM_MINIMUM = {
  controlplane: { vcpus: 2, memoryMiB: 2048 },
  worker: { vcpus: 1, memoryMiB: 1024 },
  diskGiB: 10,
} as const;

/** A MAC address written aa:bb:cc:dd:ee:ff; unicast (first octet even), not all zero. */
export const macAddress = z
  .string()
  .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, "must be a MAC address like 02:11:32:aa:bb:01 (lowercase, colon-separated)")
  .refine((mac) => (parseInt(mac.slice(0, 2), 16) & 1) === 0, { message: "is a multicast MAC address (odd first octet); a NIC needs a unicast one, e.g. 02:11:32:…" })
  .refine((mac) => mac !== "00:00:00:00:00:00", { message: "must not be all zero" });

/** A node's Synology VMM guest. */
export const vmSchema = z.strictObject({
  /** Virtual CPUs. A change powers the guest off and on, one node at a time. Required. */
  vcpus: z.number().int("must be a whole number").min(1, "must be at least 1").max(64, "must be at most 64"),
  /** Memory in MiB. A change powers the guest off and on, one node at a time. Required. */
  memoryMiB: z.number().int("must be a whole number of MiB").min(512, "must be at least 512").max(1048576, "must be at most 1048576 (1 TiB)"),
  /** Size of the guest's one virtual disk (Talos's install disk) in GiB; seed 001 uses 100. Changing it makes a new guest. Default: 100. */
  diskGiB: z.number().int("must be a whole number of GiB").min(VM_MINIMUM.diskGiB, `must be at least ${VM_MINIMUM.diskGiB} (Talos's minimum install disk)`).max(65536, "must be at most 65536").default(100),
  /** The NIC's MAC address: give it a DHCP reservation for the node's address, or use the node's static `network`. Required. */
  mac: macAddress,
});

/** A DSM folder path like /vmm-images or /homes/pulumi/iso. */
const dsmFolder = z
  .string()
  .regex(/^(\/[^/\0]+)+$/, "must be a DSM folder path like /vmm-images (a shared folder, then subfolders)")
  .refine((p) => !p.split("/").some((part) => part === "." || part === ".."), { message: "must name the folder directly: '.' and '..' name no DSM shared folder; remove them" });

/**
 * Where DSM is and what the guests use there. The password is the encrypted
 * talos-cluster:synologyPassword. With cluster.applyNodes: false (render only) no VM is made.
 */
export const synologySchema = z.strictObject({
  /** DSM's address, https://<host>:<port>. https only: the password goes with the login. Required. */
  url: z.url({ protocol: /^https$/, message: "must be an https URL like https://nas.lan:5001 (DSM's HTTPS port; the password goes with every login)" }),
  /** A DSM administrator account without 2-step verification (API logins cannot answer it). Required. */
  user: z.string().min(1, "must not be empty").max(64, "must be at most 64 characters"),
  /** VMM storage (Virtual Machine Manager > Storage) for the disks and the image. Required. */
  storage: z.string().min(1, "must name a VMM storage, e.g. volume1"),
  /** VMM network (Virtual Machine Manager > Network) of every guest's NIC. Default: "Default VM Network" (seed 001). */
  network: z.string().min(1, "must name a VMM network").default("Default VM Network"),
  /** DSM folder the Talos ISO is uploaded to before VMM registers it. Its shared folder must exist. Default: /vmm-images. */
  imageFolder: dsmFolder.default("/vmm-images"),
  /** PEM of the CA that signed DSM's certificate, when it is not publicly trusted (self-signed). Default: system roots only. */
  caCert: z.string().regex(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, "must be a PEM certificate (-----BEGIN CERTIFICATE----- …)").optional(),
});

export type SynologySettings = z.infer<typeof synologySchema>;
export type VmSettings = z.infer<typeof vmSchema>;

/** The Synology section against the nodes' vm sections, the password and the platforms. */
export function checkSynology(root: Record<string, unknown>, ctx: Ctx): void {
  const nodes = list(root.nodes).map(record);
  const withVm = nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.vm !== undefined);
  nodes.forEach((n, i) => {
    if (n.vm !== undefined && n.platform !== undefined && n.platform !== "synology-vm") {
      issue(ctx, ["nodes", i, "vm"], `is only for platform synology-vm nodes (this one is ${String(n.platform)}); remove it`);
    }
    // One size per node: the guest is made with the vm section's.
    if (n.vm !== undefined && n.capacity !== undefined) {
      issue(ctx, ["nodes", i, "capacity"], "is for machines this program does not create; the vm section already gives the guest's vcpus and memoryMiB: remove capacity");
    }
    const vm = record(n.vm);
    const role = n.role === "controlplane" || n.role === "worker" ? n.role : undefined;
    if (role === undefined) return;
    const min = VM_MINIMUM[role];
    if (typeof vm.vcpus === "number" && vm.vcpus < min.vcpus) {
      issue(ctx, ["nodes", i, "vm", "vcpus"], `is ${vm.vcpus}, below Talos's minimum of ${min.vcpus} for a ${role}`);
    }
    if (typeof vm.memoryMiB === "number" && vm.memoryMiB < min.memoryMiB) {
      issue(ctx, ["nodes", i, "vm", "memoryMiB"], `is ${vm.memoryMiB}, below Talos's minimum of ${min.memoryMiB} MiB for a ${role} (seed 001: a 1G control plane did not come up)`);
    }
  });
  const macs = new Map<string, number>();
  for (const { n, i } of withVm) {
    const mac = str(record(n.vm).mac);
    if (mac === undefined) continue;
    const first = macs.get(mac);
    if (first === undefined) macs.set(mac, i);
    else issue(ctx, ["nodes", i, "vm", "mac"], `duplicate MAC address "${mac}", already used by nodes[${first}]`);
  }
  const hasSection = root.synology !== undefined;
  if (withVm.length > 0 && !hasSection) {
    issue(ctx, ["synology"], `required: nodes[${withVm[0]!.i}] has a vm section, so the stack needs DSM's url, user and VMM storage`);
  }
  if (hasSection && withVm.length === 0) {
    issue(ctx, ["synology"], "is set but no node has a vm section: add vm: to the synology-vm nodes this stack should create, or remove it");
  }
  if (hasSection && root.synologyPassword === undefined) {
    issue(ctx, ["synologyPassword"], "required with talos-cluster:synology: bash scripts/stack.sh secret <stack> talos-cluster:synologyPassword < password-file (refused while the stack is on the demo passphrase)");
  }
  if (!hasSection && root.synologyPassword !== undefined) {
    issue(ctx, ["synologyPassword"], "is set but the stack has no talos-cluster:synology section");
  }
}
