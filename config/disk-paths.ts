import { Ctx, issue, list, record, str } from "./check-helpers";

// Device paths that can name a whole disk (install disk, data disks). Talos partitions the install
// disk itself (machine.install.disk) and Rook wants raw, unpartitioned disks, so a path must name a
// whole block device, and one that a node can have.

/** Whole-disk kernel names: SCSI/SATA/USB, virtio-blk, IDE, Xen, NVMe namespaces, MMC/SD. */
const WHOLE_DISK = /^\/dev\/((sd|vd|hd|xvd)[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;
/** The same families with a partition number. */
const PARTITION = /^\/dev\/((sd|vd|hd|xvd)[a-z]+\d+|(nvme\d+n\d+|mmcblk\d+)p\d+)$/;
/**
 * udev's /dev/disk links (systemd 60-persistent-storage.rules): by-id, by-path and by-diskseq name
 * disks (and, with a -partN suffix, partitions); the others name file systems or partitions.
 */
const DISK_LINKS = ["by-id", "by-path", "by-diskseq"];
const FILESYSTEM_LINKS: Record<string, string> = {
  "by-uuid": "a file system's UUID",
  "by-label": "a file system's label",
  "by-partuuid": "a partition's UUID",
  "by-partlabel": "a partition's label",
};
/** Block devices a node has that are not disks Talos or Rook can take. */
const NOT_A_DISK: [RegExp, string][] = [
  [/^\/dev\/nvme\d+$/, "an NVMe controller, not a disk; its disks are namespaces like $0n1"],
  [/^\/dev\/mmcblk\d+(boot\d+|rpmb)$/, "an eMMC boot or RPMB area, not the disk; use the disk itself, e.g. /dev/mmcblk0"],
  [/^\/dev\/(sr\d+|cdrom|dvd)$/, "an optical drive"],
  [/^\/dev\/(dm-\d+|mapper\/.*)$/, "a device-mapper volume, which exists only once an OS set it up; name the physical disk"],
  [/^\/dev\/md\d*(\/.*)?$/, "a software RAID array, which Talos does not assemble; name a physical disk"],
  [/^\/dev\/(loop|ram|zram|nbd)\d+$/, "a virtual block device with no disk behind it"],
];

/** Why a device path cannot name a whole disk, or undefined when it can. */
export function diskPathProblem(path: string): string | undefined {
  if (!/^\/dev\/[A-Za-z0-9/_.:-]+$/.test(path) || path.split("/").some((part) => part === "." || part === "..")) return "must be a device path like /dev/sda";
  const emptyLink = /^\/dev\/disk\/(by-id|by-path|by-diskseq)\/$/.exec(path);
  if (emptyLink) return `${path} names no disk: add the disk's id after ${emptyLink[1]}/ (talosctl get disks shows them)`;
  if (path.endsWith("/")) return `${path} ends with '/': a disk is a device, not a folder; remove the trailing '/'`;
  if (PARTITION.test(path)) return `${path} is a partition; name the whole disk (e.g. ${path.replace(/p?\d+$/, "")})`;
  if (WHOLE_DISK.test(path)) return undefined;
  const link = /^\/dev\/disk\/([^/]+)(?:\/(.*))?$/.exec(path);
  if (link) {
    const [, kind, id = ""] = link;
    if (FILESYSTEM_LINKS[kind!]) return `${path} names ${FILESYSTEM_LINKS[kind!]}, not a whole disk (and a new disk has none); use /dev/disk/by-id/… or a kernel name like /dev/sdb`;
    if (!DISK_LINKS.includes(kind!)) return `${path}: /dev/disk/${kind} is not a udev disk link; use /dev/disk/by-id/… or /dev/disk/by-path/…`;
    if (id === "") return `${path} names no disk: add the disk's id after ${kind}/ (talosctl get disks shows them)`;
    if (/-part\d+$/.test(id)) return `${path} is a partition; name the whole disk (e.g. ${path.replace(/-part\d+$/, "")})`;
    return undefined;
  }
  for (const [pattern, what] of NOT_A_DISK) {
    const m = pattern.exec(path);
    if (m) return `${path} is ${what.replace("$0", m[0])}`;
  }
  return `${path} does not name a disk: use a kernel name like /dev/sda, /dev/vda, /dev/nvme0n1 or /dev/mmcblk0, or /dev/disk/by-id/…`;
}

/**
 * A Synology guest made from a node's vm section has one virtual disk, its install disk
 * (toolchain/providers/synology creates exactly one), so a data disk on it names nothing.
 */
export function checkVmDataDisks(nodes: Record<string, unknown>[], ctx: Ctx): void {
  nodes.forEach((node, i) => {
    if (node.vm === undefined) return;
    list(node.dataDisks).forEach((d, j) => {
      const path = typeof d === "string" ? d : str(record(d).path);
      issue(
        ctx,
        ["nodes", i, "dataDisks", j],
        `${path ?? "this disk"} names no disk: the VMM guest made from nodes[${i}].vm has one virtual disk, its install disk; remove it, or attach the disk in VMM and drop the vm section`,
      );
    });
  });
}
