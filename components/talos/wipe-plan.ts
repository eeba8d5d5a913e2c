// Wiping a data disk once before Rook first uses it (seed 003: "make sure the appropriate disks
// (not the OS disks) are clean" with `talosctl wipe disk`), as shell scripts. Pure: tests compare
// the exact command lines. Ceph refuses a disk that carries old partitions or signatures, so a
// reused disk would silently get no OSD.
import { prelude, q } from "../day2/upgrade-plan";
import { durationSeconds } from "./recover-plan";

export interface DiskWipe {
  /** The node's name (for messages and the step's name). */
  readonly node: string;
  /** Its Talos API address. */
  readonly address: string;
  /** The data disk as the stack config names it: /dev/sdb, /dev/nvme1n1 or /dev/disk/by-id/…. */
  readonly disk: string;
  /** The node's install disk, which is never wiped. */
  readonly installDisk: string;
  /** How long the node may take to answer after its apply (install and reboot), e.g. 10m. */
  readonly timeout: string;
}

/** The step's name part for a disk: its path without /dev/, every other character a '-'. */
export function diskSlug(disk: string): string {
  return disk.replace(/^\/dev\//, "").replace(/[^A-Za-z0-9]+/g, "-");
}

/**
 * A shell function printing Talos's device name (e.g. sdb) of a disk path: its dev_path or one of
 * its symlinks (/dev/disk/by-id/…) in `talosctl get disks` (Disk resources list both since Talos
 * 1.10). `talosctl wipe disk` takes only device names.
 */
function deviceLookup(address: string): string {
  return `device_of() { talosctl -n ${address} get disks -o yaml | awk -v p="$1" '$1 == "id:" { id = $2 } ($1 == "dev_path:" || $1 == "-") && $2 == p { print id; exit }'; }`;
}

/** The Talos commands of one wipe, in order. */
export function wipeCommands(w: DiskWipe): string[] {
  const n = w.address;
  return [
    // A node enrolled in this run installs and reboots after its apply: wait until its API answers.
    `deadline=$(( $(date +%s) + ${durationSeconds(w.timeout)} ))`,
    `until talosctl -n ${n} version >/dev/null 2>&1; do [ "$(date +%s)" -lt "$deadline" ] || { echo ${q(`${w.node} (${n}) did not answer the Talos API within ${w.timeout}`)} >&2; exit 1; }; sleep 5; done`,
    deviceLookup(n),
    `device="$(device_of ${q(w.disk)})"`,
    `[ -n "$device" ] || { echo ${q(`${w.node} has no disk ${w.disk} (talosctl -n ${n} get disks); fix its dataDisks entry`)} >&2; exit 1; }`,
    // The config check refuses a data disk equal to the install disk by name; this also catches
    // two names of one disk (e.g. /dev/sda and its /dev/disk/by-id/… link).
    `[ "$device" != "$(device_of ${q(w.installDisk)})" ] || { echo ${q(`refused: ${w.disk} is ${w.node}'s install disk ${w.installDisk}; it is never wiped`)} >&2; exit 1; }`,
    // A stack that existed before wipes did gets this step too, on disks that already hold this
    // cluster's OSDs. Talos reports a Ceph OSD's disk as a bluestore volume; while Rook runs an OSD
    // on the node, such a disk is live data and is left alone. A stale OSD disk (a reinstalled node,
    // or Rook not running here yet) is still wiped, which is what the seed's wipe is for.
    `if [ "$(talosctl -n ${n} get discoveredvolumes "$device" -o 'jsonpath={.spec.name}' 2>/dev/null)" = bluestore ] && talosctl -n ${n} containers --kubernetes 2>/dev/null | grep -q 'rook-ceph/rook-ceph-osd-'; then`,
    `  echo "${w.node}: ${w.disk} ($device) holds a Ceph OSD and Rook runs OSDs on this node: not wiped. If it is a stale disk, wipe it by hand: talosctl -n ${n} wipe disk $device"`,
    `  exit 0`,
    `fi`,
    // FAST: partition tables and filesystem signatures, what keeps Ceph from using the disk; ZEROES
    // would write every byte (hours on a large HDD) for nothing Rook needs.
    `talosctl -n ${n} wipe disk "$device" --method FAST`,
    `echo "${w.node}: ${w.disk} ($device) wiped for Rook"`,
  ];
}

/** The step's create: runs once, when the disk is new to the stack (node enrolled or disk added). */
export function wipeScript(w: DiskWipe): string {
  return [prelude(["talosctl"]), ...wipeCommands(w)].join("\n");
}

/**
 * The step's update: never wipes. A disk is wiped only when its step is created; a later change
 * (the timeout, the node's address) must not destroy what Rook has written since.
 */
export function wipeDone(w: DiskWipe): string {
  return `echo ${q(`${w.node}: ${w.disk} was wiped when it joined the stack; never wiped again`)}`;
}
