// The rescue scripts (components/hetzner/rescue-scripts.ts): their exact text, then the scripts run
// by bash through a REAL sshd (tests/support/openssh.ts) standing in for Hetzner's rescue system:
// the disk is a file, the image comes from a loopback HTTP server, `dmidecode` and `reboot` are
// recording stand-ins first on the session's PATH.
//
// The dmidecode stand-in prints what the test puts in $HOME/system-uuid for `-s system-uuid` (as
// dmidecode 3.x prints it: the UUID, or "Not Settable"/"Not Present", dmidecode.c dmi_system_uuid)
// and a fixed `-t system` section; it refuses any other arguments, as the scripts use no others.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { rebootScript, shellQuote, verifySmbiosUuidScript, writeImageScript } from "../../components/hetzner/rescue-scripts";
import { OpenSshServer, startOpenSsh } from "../support/openssh";

const UUID_SCRIPT = [
  "set -euo pipefail",
  "raw=\"$(dmidecode -s system-uuid)\" || { echo 'SMBIOS UUID check failed: dmidecode -s system-uuid exited with an error.' >&2; exit 3; }",
  "uuid=\"$(printf '%s' \"$raw\" | tr 'A-F' 'a-f')\"",
  "reason=''",
  "case \"$raw\" in",
  "  '') reason='dmidecode -s system-uuid printed nothing' ;;",
  "  'Not Settable') reason='dmidecode reports the UUID as Not Settable (all 16 bytes 0x00)' ;;",
  "  'Not Present') reason='dmidecode reports the UUID as Not Present (all 16 bytes 0xFF)' ;;",
  "esac",
  "case \"$uuid\" in",
  "  00000000-0000-0000-0000-000000000000) reason='the UUID is all zeros' ;;",
  "  ffffffff-ffff-ffff-ffff-ffffffffffff) reason='the UUID is all F' ;;",
  "esac",
  "if [ -z \"$reason\" ] && ! printf '%s\\n' \"$uuid\" | grep -Eqx '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'; then",
  "  reason=\"dmidecode -s system-uuid printed '$raw', which is not a UUID\"",
  "fi",
  "if [ -z \"$reason\" ] && printf '%s' \"$uuid\" | tr -d - | grep -Eq '0{8,}$'; then",
  "  reason=\"the UUID $uuid ends in a run of 8 or more zeros\"",
  "fi",
  "if [ -z \"$reason\" ]; then",
  "  most=\"$(printf '%s' \"$uuid\" | fold -w1 | sort | uniq -c | sort -rn | head -n1 | awk '{print $1}')\"",
  "  if [ \"$most\" -gt $(( ${#uuid} / 2 )) ]; then reason=\"the UUID $uuid fails Talos's entropy check (one character makes up more than half of it)\"; fi",
  "fi",
  "if [ -n \"$reason\" ]; then",
  "  {",
  "    echo \"SMBIOS UUID refused: $reason.\"",
  "    echo 'Talos derives the disk-encryption key (nodeID) and the ${uuid} of talos.config from this UUID, so nothing was written to the disk.'",
  "    echo 'Open a support request for this server in Hetzner Robot (Support, then the server) with this text:'",
  "    echo '----'",
  "    echo 'Hello,'",
  "    echo",
  "    echo \"server #2345678 (worker-1) reports an invalid SMBIOS system UUID ($reason).\"",
  "    echo '`dmidecode -t system` prints:'",
  "    echo",
  "    dmidecode -t system || echo '(dmidecode -t system failed)'",
  "    echo",
  "    echo 'We need a unique, properly set UUID: our disk encryption keys are derived from it. Downtime while you fix it is fine; the server is not in use yet.'",
  "    echo '----'",
  "  } >&2",
  "  exit 3",
  "fi",
  "printf '%s\\n' \"$uuid\"",
  "",
].join("\n");

const FACTORY_URL = "https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.14.1/metal-amd64.raw.xz";

describe("rescue scripts: text", () => {
  it("UUID check: refusals, the support text with `dmidecode -t system`, the UUID on stdout", () => {
    assert.equal(verifySmbiosUuidScript("#2345678 (worker-1)"), UUID_SCRIPT);
  });

  it("image write: block device only, curl | xz -d | dd with fsync, then sync", () => {
    assert.equal(writeImageScript({ imageUrl: FACTORY_URL, disk: "/dev/nvme0n1" }), [
      "set -euo pipefail",
      "if [ ! -b '/dev/nvme0n1' ]; then echo '/dev/nvme0n1 is not a block device: refusing to write the Talos image there' >&2; exit 4; fi",
      `curl -fsSL '${FACTORY_URL}' | xz -d | dd of='/dev/nvme0n1' bs=4M conv=fsync status=none`,
      "sync",
      `echo 'wrote ${FACTORY_URL} to /dev/nvme0n1'`,
      "",
    ].join("\n"));
  });

  it("image write for tests: only the device check differs", () => {
    const prod = writeImageScript({ imageUrl: FACTORY_URL, disk: "/tmp/disk" }).split("\n");
    const test = writeImageScript({ imageUrl: FACTORY_URL, disk: "/tmp/disk", allowRegularFileForTests: true }).split("\n");
    assert.deepEqual(test.filter((line, i) => line !== prod[i]), [
      "if [ ! -b '/tmp/disk' ] && [ ! -f '/tmp/disk' ]; then echo '/tmp/disk is neither a block device nor (tests only) a regular file' >&2; exit 4; fi",
    ]);
    assert.equal(writeImageScript({ imageUrl: FACTORY_URL, disk: "/tmp/disk", allowRegularFileForTests: false }), prod.join("\n"));
  });

  it("reboot: detached, so the session ends with exit 0 before the rescue system goes down", () => {
    assert.equal(rebootScript(), "set -euo pipefail\nsync\nnohup reboot </dev/null >/dev/null 2>&1 &\necho 'rebooting into the installed system'\n");
  });

  it("refuses values that are not what they claim before they reach a shell", () => {
    assert.throws(() => verifySmbiosUuidScript("x'; rm -rf /"), { message: `server label "x'; rm -rf /": only letters, digits, spaces and # ( ) . : - _` });
    assert.throws(() => writeImageScript({ imageUrl: "ftp://x/y.raw.xz", disk: "/dev/sda" }), { message: 'imageUrl "ftp://x/y.raw.xz": must be an http(s) URL of a .raw.xz image' });
    assert.throws(() => writeImageScript({ imageUrl: "https://x/y.iso", disk: "/dev/sda" }), { message: 'imageUrl "https://x/y.iso": must be an http(s) URL of a .raw.xz image' });
    assert.throws(() => writeImageScript({ imageUrl: FACTORY_URL, disk: "sda" }), { message: 'disk "sda": must be an absolute path such as /dev/nvme0n1' });
    assert.throws(() => writeImageScript({ imageUrl: FACTORY_URL, disk: "/dev/../etc/passwd" }), { message: 'disk "/dev/../etc/passwd": must be an absolute path such as /dev/nvme0n1' });
    assert.equal(shellQuote("it's"), "'it'\\''s'");
  });
});

const DMIDECODE_SYSTEM = [
  "# dmidecode 3.4",
  "Getting SMBIOS data from sysfs.",
  "SMBIOS 3.2.0 present.",
  "",
  "Handle 0x0001, DMI type 1, 27 bytes",
  "System Information",
  "\tManufacturer: To Be Filled By O.E.M.",
  "\tProduct Name: To Be Filled By O.E.M.",
  "\tVersion: To Be Filled By O.E.M.",
  "\tSerial Number: To Be Filled By O.E.M.",
  "\tUUID: %UUID%",
  "\tWake-up Type: Power Switch",
  "\tSKU Number: To Be Filled By O.E.M.",
  "\tFamily: To Be Filled By O.E.M.",
  "",
].join("\n");

/** `ssh ... <script>`: what command:remote does with a create/update/delete string. */
function runOver(server: OpenSshServer, script: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn("ssh", [...server.sshArgs, script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves once `file` exists with content ending in a newline (fs.watch on its folder, no timer). */
function written(file: string): Promise<string> {
  return new Promise((resolve) => {
    const check = () => {
      const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
      if (text.endsWith("\n")) {
        watcher.close();
        resolve(text);
      }
    };
    const watcher = fs.watch(path.dirname(file), check);
    check();
  });
}

describe("rescue scripts through a real sshd", function () {
  this.timeout(60000);
  let server: OpenSshServer;
  let bin: string;
  let http404 = false;
  let httpServer: http.Server;
  let imageUrl: string;
  let image: Buffer;
  const home = () => server.home;
  const asSessionUser = (file: string) => fs.chownSync(file, server.uid, server.gid);

  before(async () => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), "rescue-standins-"));
    fs.chmodSync(bin, 0o755);
    fs.writeFileSync(path.join(bin, "dmidecode"), [
      "#!/bin/bash",
      "echo \"dmidecode $*\" >> \"$HOME/dmidecode.log\"",
      "uuid=\"$(cat \"${DMI_UUID_FILE:-$HOME/system-uuid}\")\"",
      "case \"$*\" in",
      "  '-s system-uuid') [ -z \"$uuid\" ] || printf '%s\\n' \"$uuid\" ;;",
      `  '-t system') printf '%s' ${shellQuote(DMIDECODE_SYSTEM)} | sed "s/%UUID%/$uuid/" ;;`,
      "  *) echo \"dmidecode stand-in: unexpected arguments: $*\" >&2; exit 2 ;;",
      "esac",
      "",
    ].join("\n"), { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "reboot"), "#!/bin/sh\necho \"reboot $*\" >> \"$HOME/reboot.log\"\n", { mode: 0o755 });
    server = await startOpenSsh({ pathPrefix: [bin] });

    // 5 MiB + 123 bytes of varied content: more than one 4M block, not a multiple of it.
    image = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i < image.length; i += 32) createHash("sha256").update(String(i)).digest().copy(image, i);
    const xz = execFileSync("xz", ["-c", "-T1", "-1"], { input: image, maxBuffer: 64 * 1024 * 1024 });
    httpServer = http.createServer((req, res) => {
      if (http404 || req.url !== "/image/s/v1.14.1/metal-amd64.raw.xz") {
        res.writeHead(404).end("not found\n");
        return;
      }
      res.writeHead(200, { "content-type": "application/x-xz", "content-length": xz.length }).end(xz);
    });
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    imageUrl = `http://127.0.0.1:${(httpServer.address() as { port: number }).port}/image/s/v1.14.1/metal-amd64.raw.xz`;
  });
  after(async () => {
    await server?.stop();
    httpServer?.close();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  const refusal = (reason: string, uuid: string) => [
    `SMBIOS UUID refused: ${reason}.`,
    "Talos derives the disk-encryption key (nodeID) and the ${uuid} of talos.config from this UUID, so nothing was written to the disk.",
    "Open a support request for this server in Hetzner Robot (Support, then the server) with this text:",
    "----",
    "Hello,",
    "",
    `server #2345678 (worker-1) reports an invalid SMBIOS system UUID (${reason}).`,
    "`dmidecode -t system` prints:",
    "",
    DMIDECODE_SYSTEM.replace("%UUID%", uuid),
    "We need a unique, properly set UUID: our disk encryption keys are derived from it. Downtime while you fix it is fine; the server is not in use yet.",
    "----",
    "",
  ].join("\n");

  it("accepts a proper UUID and prints it in lower case", async () => {
    fs.writeFileSync(path.join(home(), "system-uuid"), "4C4C4544-0042-3510-8052-B2C04F4E4B32");
    assert.deepEqual(await runOver(server, verifySmbiosUuidScript("#2345678 (worker-1)")),
      { code: 0, stdout: "4c4c4544-0042-3510-8052-b2c04f4e4b32\n", stderr: "" });
  });

  const bad: Array<[string, string]> = [
    ["", "dmidecode -s system-uuid printed nothing"],
    ["Not Settable", "dmidecode reports the UUID as Not Settable (all 16 bytes 0x00)"],
    ["Not Present", "dmidecode reports the UUID as Not Present (all 16 bytes 0xFF)"],
    ["00000000-0000-0000-0000-000000000000", "the UUID is all zeros"],
    ["FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "the UUID is all F"],
    ["To Be Filled By O.E.M.", "dmidecode -s system-uuid printed 'To Be Filled By O.E.M.', which is not a UUID"],
    ["A1B2C3D4-E5F6-0718-293A-4B0000000000", "the UUID a1b2c3d4-e5f6-0718-293a-4b0000000000 ends in a run of 8 or more zeros"],
    ["11111111-1111-1111-1111-1111111A2B3C", "the UUID 11111111-1111-1111-1111-1111111a2b3c fails Talos's entropy check (one character makes up more than half of it)"],
  ];
  it("refuses each bad UUID with the support text (one session each, side by side)", async () => {
    // Each session's dmidecode reads its own file: the test prefixes the script with the variable
    // (the script itself is unchanged; the rescue system's dmidecode needs no such thing).
    const results = await Promise.all(bad.map(([uuid], i) => {
      const file = path.join(home(), `system-uuid-${i}`);
      fs.writeFileSync(file, uuid);
      return runOver(server, `export DMI_UUID_FILE=${shellQuote(file)}\n${verifySmbiosUuidScript("#2345678 (worker-1)")}`);
    }));
    assert.deepEqual(results, bad.map(([uuid, reason]) => ({ code: 3, stdout: "", stderr: refusal(reason, uuid) })));
  });

  it("the production write refuses a regular file and leaves it as it was", async () => {
    const disk = path.join(home(), "disk-prod");
    fs.writeFileSync(disk, "old contents\n");
    asSessionUser(disk);
    assert.deepEqual(await runOver(server, writeImageScript({ imageUrl, disk })),
      { code: 4, stdout: "", stderr: `${disk} is not a block device: refusing to write the Talos image there\n` });
    assert.equal(fs.readFileSync(disk, "utf8"), "old contents\n");
  });

  it("writes the decompressed image onto the disk (a file, tests only)", async () => {
    const disk = path.join(home(), "disk");
    fs.writeFileSync(disk, Buffer.alloc(64, 0xaa));
    asSessionUser(disk);
    assert.deepEqual(await runOver(server, writeImageScript({ imageUrl, disk, allowRegularFileForTests: true })),
      { code: 0, stdout: `wrote ${imageUrl} to ${disk}\n`, stderr: "" });
    assert.ok(fs.readFileSync(disk).equals(image), "the disk holds exactly the decompressed image");
  });

  it("a failed download fails the script (pipefail), with curl's and xz's errors", async () => {
    const disk = path.join(home(), "disk-404");
    fs.writeFileSync(disk, "");
    asSessionUser(disk);
    http404 = true;
    const res = await runOver(server, writeImageScript({ imageUrl, disk, allowRegularFileForTests: true }));
    http404 = false;
    assert.deepEqual(res, { code: 1, stdout: "", stderr: "curl: (22) The requested URL returned error: 404\nxz: (stdin): File format not recognized\n" });
  });

  it("a missing disk is refused", async () => {
    const disk = path.join(home(), "no-such-disk");
    assert.deepEqual(await runOver(server, writeImageScript({ imageUrl, disk, allowRegularFileForTests: true })),
      { code: 4, stdout: "", stderr: `${disk} is neither a block device nor (tests only) a regular file\n` });
  });

  it("reboot: the session ends with 0, then the reboot request is recorded", async () => {
    const log = path.join(home(), "reboot.log");
    assert.deepEqual(await runOver(server, rebootScript()), { code: 0, stdout: "rebooting into the installed system\n", stderr: "" });
    assert.equal(await written(log), "reboot \n");
  });
});
