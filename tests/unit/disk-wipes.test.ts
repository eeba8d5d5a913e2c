// Data disks wiped once before Rook first uses them (seed 003, `talosctl wipe disk`): the exact
// commands, the script against a recording talosctl stand-in, and the steps' place in the program.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { diskSlug, DiskWipe, wipeCommands, wipeDone, wipeScript } from "../../components/talos/wipe-plan";
import { runValidProgram } from "../support/mocks";

const COMMAND = "command:local:Command";

const wipe: DiskWipe = { node: "deepthought-worker-1", address: "192.168.1.24", disk: "/dev/sdb", installDisk: "/dev/nvme0n1", timeout: "10m" };

describe("data disk wipe plan", () => {
  it("waits for the node, resolves the disk to Talos's device name, refuses the install disk, wipes FAST", () => {
    assert.deepEqual(wipeCommands(wipe), [
      "deadline=$(( $(date +%s) + 600 ))",
      `until talosctl -n 192.168.1.24 version >/dev/null 2>&1; do [ "$(date +%s)" -lt "$deadline" ] || { echo 'deepthought-worker-1 (192.168.1.24) did not answer the Talos API within 10m' >&2; exit 1; }; sleep 5; done`,
      `device_of() { talosctl -n 192.168.1.24 get disks -o yaml | awk -v p="$1" '$1 == "id:" { id = $2 } ($1 == "dev_path:" || $1 == "-") && $2 == p { print id; exit }'; }`,
      `device="$(device_of '/dev/sdb')"`,
      `[ -n "$device" ] || { echo 'deepthought-worker-1 has no disk /dev/sdb (talosctl -n 192.168.1.24 get disks); fix its dataDisks entry' >&2; exit 1; }`,
      `[ "$device" != "$(device_of '/dev/nvme0n1')" ] || { echo 'refused: /dev/sdb is deepthought-worker-1'\\''s install disk /dev/nvme0n1; it is never wiped' >&2; exit 1; }`,
      `if [ "$(talosctl -n 192.168.1.24 get discoveredvolumes "$device" -o 'jsonpath={.spec.name}' 2>/dev/null)" = bluestore ] && talosctl -n 192.168.1.24 containers --kubernetes 2>/dev/null | grep -q 'rook-ceph/rook-ceph-osd-'; then`,
      `  echo "deepthought-worker-1: /dev/sdb ($device) holds a Ceph OSD and Rook runs OSDs on this node: not wiped. If it is a stale disk, wipe it by hand: talosctl -n 192.168.1.24 wipe disk $device"`,
      "  exit 0",
      "fi",
      `talosctl -n 192.168.1.24 wipe disk "$device" --method FAST`,
      `echo "deepthought-worker-1: /dev/sdb ($device) wiped for Rook"`,
    ]);
    assert.equal(wipeDone(wipe), "echo 'deepthought-worker-1: /dev/sdb was wiped when it joined the stack; never wiped again'");
    assert.deepEqual(["/dev/sdb", "/dev/nvme1n1", "/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-1"].map(diskSlug), ["sdb", "nvme1n1", "disk-by-id-ata-WDC-WD40EFRX-68N32N0-WD-1"]);
  });

  describe("against a recording talosctl stand-in", () => {
    let dir: string;
    // What `talosctl get disks -o yaml` prints (talosctl's YAML writer: node line, then the
    // resource's metadata and spec; Disk specs carry dev_path and symlinks since Talos 1.10).
    const disks = [
      ["nvme0n1", "/dev/nvme0n1", "/dev/disk/by-id/nvme-Samsung_SSD_980_S1"],
      ["sda", "/dev/sda", "/dev/disk/by-id/ata-WDC_WD40EFRX_WD-A"],
      ["sdb", "/dev/sdb", "/dev/disk/by-id/ata-WDC_WD40EFRX_WD-B"],
    ]
      .map(
        ([id, dev, link]) =>
          `node: 192.168.1.24\nmetadata:\n    namespace: runtime\n    type: Disks.block.talos.dev\n    id: ${id}\n    version: 1\n    owner: block.DisksController\n    phase: running\nspec:\n    dev_path: ${dev}\n    size: 4000787030016\n    symlinks:\n        - ${link}\n        - /dev/disk/by-path/pci-0000:00:17.0-ata-${id}\n`,
      )
      .join("---\n");

    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "wipe-"));
      fs.writeFileSync(path.join(dir, "disks.yaml"), disks);
      // Records every call; answers `version` and `get disks`, and refuses nothing else.
      fs.writeFileSync(
        path.join(dir, "talosctl"),
        [
          "#!/bin/sh",
          `echo "$*" >> "${dir}/calls"`,
          "case \"$*\" in",
          `  *" get disks -o yaml") cat "${dir}/disks.yaml";;`,
          // the volume's filesystem as Talos discovered it, and the node's Kubernetes containers
          `  *" get discoveredvolumes "*) cat "${dir}/volume" 2>/dev/null;;`,
          `  *" containers --kubernetes") cat "${dir}/containers" 2>/dev/null;;`,
          "esac",
          "exit 0",
          "",
        ].join("\n"),
        { mode: 0o755 },
      );
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const run = (w: DiskWipe, node: { volume?: string; containers?: string } = {}) => {
      fs.rmSync(path.join(dir, "calls"), { force: true });
      for (const f of ["volume", "containers"] as const) {
        fs.rmSync(path.join(dir, f), { force: true });
        if (node[f] !== undefined) fs.writeFileSync(path.join(dir, f), node[f]!);
      }
      const result = spawnSync("/bin/sh", ["-c", wipeScript(w)], {
        encoding: "utf8",
        env: { PATH: `${dir}:${process.env.PATH}`, TALOS_CLUSTER_TALOSCONFIG: "talosconfig", TALOS_CLUSTER_KUBECONFIG: "" },
      });
      const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") : [];
      return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim(), calls };
    };

    it("wipes the device a /dev path names, once", () => {
      const r = run(wipe);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "deepthought-worker-1: /dev/sdb (sdb) wiped for Rook");
      assert.deepEqual(r.calls, [
        "-n 192.168.1.24 version",
        "-n 192.168.1.24 get disks -o yaml",
        "-n 192.168.1.24 get disks -o yaml",
        "-n 192.168.1.24 get discoveredvolumes sdb -o jsonpath={.spec.name}",
        "-n 192.168.1.24 wipe disk sdb --method FAST",
      ]);
    });

    // What `talosctl containers --kubernetes` lists on a node running a Rook OSD (pod/container IDs).
    const osdRunning = "NODE           NAMESPACE   ID                                              IMAGE   PID   STATUS\n192.168.1.24   k8s.io      rook-ceph/rook-ceph-osd-0-6c9f7b8d5-x2x4k:osd   quay.io/ceph/ceph:v19   4242  CONTAINER_RUNNING\n";

    it("leaves a disk holding a Ceph OSD alone while Rook runs OSDs on the node (a stack older than wipes)", () => {
      const r = run(wipe, { volume: "bluestore", containers: osdRunning });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "deepthought-worker-1: /dev/sdb (sdb) holds a Ceph OSD and Rook runs OSDs on this node: not wiped. If it is a stale disk, wipe it by hand: talosctl -n 192.168.1.24 wipe disk sdb");
      assert.ok(!r.calls.some((c) => c.includes("wipe disk")), r.calls.join("\n"));
    });

    it("wipes a stale OSD disk when no OSD runs on the node, and an OSD node's disk that is not Ceph's", () => {
      assert.equal(run(wipe, { volume: "bluestore", containers: "" }).calls.at(-1), "-n 192.168.1.24 wipe disk sdb --method FAST");
      assert.equal(run(wipe, { volume: "xfs", containers: osdRunning }).calls.at(-1), "-n 192.168.1.24 wipe disk sdb --method FAST");
    });

    it("resolves a /dev/disk/by-id link to its device", () => {
      const r = run({ ...wipe, disk: "/dev/disk/by-id/ata-WDC_WD40EFRX_WD-A" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.calls.at(-1), "-n 192.168.1.24 wipe disk sda --method FAST");
    });

    it("refuses another name of the install disk without wiping anything", () => {
      const r = run({ ...wipe, disk: "/dev/disk/by-id/nvme-Samsung_SSD_980_S1" });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, "refused: /dev/disk/by-id/nvme-Samsung_SSD_980_S1 is deepthought-worker-1's install disk /dev/nvme0n1; it is never wiped");
      assert.ok(!r.calls.some((c) => c.includes("wipe")), r.calls.join("\n"));
    });

    it("stops on a disk the node does not have", () => {
      const r = run({ ...wipe, disk: "/dev/sdz" });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, "deepthought-worker-1 has no disk /dev/sdz (talosctl -n 192.168.1.24 get disks); fix its dataDisks entry");
      assert.ok(!r.calls.some((c) => c.includes("wipe")));
    });

    it("the update never calls talosctl", () => {
      fs.rmSync(path.join(dir, "calls"), { force: true });
      const out = execFileSync("/bin/sh", ["-c", wipeDone(wipe)], { encoding: "utf8", env: { PATH: `${dir}:${process.env.PATH}` } });
      assert.equal(out, "deepthought-worker-1: /dev/sdb was wiped when it joined the stack; never wiped again\n");
      assert.equal(fs.existsSync(path.join(dir, "calls")), false);
    });
  });
});

describe("program: no wipes without Rook", () => {
  it("a node's data disks are left alone while addons.rookCeph is off", async () => {
    const { recorder } = await runValidProgram({
      "talos-cluster:cluster": JSON.stringify({ name: "solo" }),
      "talos-cluster:nodes": JSON.stringify([{ name: "cp-1", role: "controlplane", platform: "bare-metal", address: "10.0.1.50", installDisk: "/dev/nvme0n1", dataDisks: ["/dev/sda"] }]),
    });
    assert.ok(recorder.ofType("talos-cluster:addons:Platform").length === 1);
    assert.deepEqual(recorder.ofType("talos-cluster:talos:DataDiskWipes"), []);
    assert.deepEqual(recorder.ofType(COMMAND).filter((r) => r.name.includes("-wipe-")), []);
  });
});
