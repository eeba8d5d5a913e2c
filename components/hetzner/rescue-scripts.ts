// The shell scripts a dedicated server's rescue system runs over SSH before Talos (seed 002's way:
// rescue mode, SSH in, check the SMBIOS UUID, `dd` the Talos image, reboot). Hetzner's rescue
// system is a Debian live system logged in as root with bash, dmidecode, curl, xz and dd.
// Pure functions: every value is checked here and single-quoted into the text, so a script never
// depends on what the SSH server lets through as environment (Debian's sshd accepts LANG/LC_* only).
//
// Why the UUID matters (siderolabs/talos, internal/pkg/encryption/keys/nodeid.go at v1.10+): the
// `nodeID` disk-encryption key of a partition IS the SMBIOS system UUID followed by the partition
// label, and Talos refuses an empty UUID or one in which any single character makes up more than half
// of the text ("entropy check failed"). The metal platform also substitutes the same UUID for
// `${uuid}` in the `talos.config` URL (internal/app/machined/pkg/runtime/v1alpha1/platform/metal/url),
// which seed 002 uses to recognise a node. A server whose UUID is unset or mostly zeros would get
// guessable encryption keys or the same identity as its siblings, so it is refused before anything
// is written, with the text to send Hetzner support (seed 002, "Solving invalid UUID issues").
//
// dmidecode (dmidecode.c, dmi_system_uuid) prints "Not Present" when all 16 bytes are 0xFF and
// "Not Settable" when all are 0x00.

/** A trailing run of at least this many zero hex digits (dashes ignored) is refused: seed 002's "UUID ending with 0'es". */
export const MIN_TRAILING_ZEROS = 8;

/** Single-quotes a value for POSIX shells ('\'' for each quote inside). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

const PRELUDE = "set -euo pipefail";

/**
 * The SMBIOS UUID check. On success it prints the UUID (lower case) and nothing else; on a refused
 * UUID it prints the reason and the support request (with `dmidecode -t system`) to stderr and exits 3.
 * `server` names the server in the support text, e.g. "#2345678 (worker-1)".
 */
export function verifySmbiosUuidScript(server: string): string {
  if (!/^[\w#() .:-]+$/.test(server)) throw new Error(`server label ${JSON.stringify(server)}: only letters, digits, spaces and # ( ) . : - _`);
  return [
    PRELUDE,
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
    `if [ -z "$reason" ] && printf '%s' "$uuid" | tr -d - | grep -Eq '0{${MIN_TRAILING_ZEROS},}$'; then`,
    `  reason="the UUID $uuid ends in a run of ${MIN_TRAILING_ZEROS} or more zeros"`,
    "fi",
    // Talos's own rule: no character may make up more than half of the UUID text.
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
    // server passed the check above: no quote, $ or backtick can reach the double quotes.
    `    echo "server ${server} reports an invalid SMBIOS system UUID ($reason)."`,
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
}

export interface WriteImageArgs {
  /** The Image Factory `metal` raw image, xz-compressed: <factory>/image/<schematic>/<version>/metal-<arch>.raw.xz. */
  readonly imageUrl: string;
  /** The install disk, e.g. /dev/nvme0n1. Must be a block device on the server. */
  readonly disk: string;
  /**
   * Tests only: also accept an existing regular file as the disk. The component never sets it, and
   * without it the script text is exactly the production one (the unit test deep-equals both).
   */
  readonly allowRegularFileForTests?: boolean;
}

/**
 * Streams the image onto the disk (`curl | xz -d | dd`, pipefail: any failing stage fails the
 * script), then syncs. Refuses a disk that is not a block device before touching it.
 */
export function writeImageScript(args: WriteImageArgs): string {
  if (!/^https?:\/\/[^\s'"]+\.raw\.xz$/.test(args.imageUrl)) throw new Error(`imageUrl ${JSON.stringify(args.imageUrl)}: must be an http(s) URL of a .raw.xz image`);
  if (!/^\/[\w./-]+$/.test(args.disk) || args.disk.includes("..")) throw new Error(`disk ${JSON.stringify(args.disk)}: must be an absolute path such as /dev/nvme0n1`);
  const disk = shellQuote(args.disk);
  const check = args.allowRegularFileForTests
    ? `if [ ! -b ${disk} ] && [ ! -f ${disk} ]; then echo ${shellQuote(`${args.disk} is neither a block device nor (tests only) a regular file`)} >&2; exit 4; fi`
    : `if [ ! -b ${disk} ]; then echo ${shellQuote(`${args.disk} is not a block device: refusing to write the Talos image there`)} >&2; exit 4; fi`;
  return [
    PRELUDE,
    check,
    `curl -fsSL ${shellQuote(args.imageUrl)} | xz -d | dd of=${disk} bs=4M conv=fsync status=none`,
    "sync",
    `echo ${shellQuote(`wrote ${args.imageUrl} to ${args.disk}`)}`,
    "",
  ].join("\n");
}

/**
 * Reboots into the new system. `reboot` runs detached (nohup, no terminal, no open stdio), so the
 * script exits 0 and the SSH session ends cleanly before the rescue system goes down; a `reboot`
 * in the foreground would often lose the connection before sshd sends the exit status.
 */
export function rebootScript(): string {
  return [PRELUDE, "sync", "nohup reboot </dev/null >/dev/null 2>&1 &", "echo 'rebooting into the installed system'", ""].join("\n");
}
