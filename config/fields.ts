// Field-level schemas shared by the stack config: each says in its message what it expects.
import { z } from "zod";
import { diskPathProblem } from "./disk-paths";
import { notAHostAddress, parseCidr, parseIpv4 } from "./ip";

export const dnsLabel = z
  .string()
  .max(63, "must be at most 63 characters")
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'");

/** A network link's name as Talos sees it, e.g. eth0 or enp1s0. */
export const interfaceName = z.string().regex(/^[a-z][a-z0-9.-]{0,14}$/, "must be an interface name like eth0");

export const ipv4 = z.string().refine((v) => parseIpv4(v) !== undefined, { message: "must be an IPv4 address like 10.0.1.50" });

const hostAddressOf = (loopback: boolean) =>
  z.string().superRefine((v, ctx) => {
    const ip = parseIpv4(v);
    if (ip === undefined) ctx.addIssue({ code: "custom", message: "must be an IPv4 address like 10.0.1.50" });
    else {
      const why = notAHostAddress(ip, { loopback });
      if (why) ctx.addIssue({ code: "custom", message: `${v} is ${why}, not a host address` });
    }
  });

/** An IPv4 address a machine can have: not loopback, link-local, multicast, broadcast, reserved or 0/8. */
export const hostAddress = hostAddressOf(false);

/** A node's address: a host address; loopback only with cluster.allowLoopbackAddresses (a cross-field check). */
export const nodeAddress = hostAddressOf(true);

/** An IPv4 network in CIDR form with no host bits set. */
export const cidr = z.string().superRefine((v, ctx) => {
  if (parseCidr(v, false) === undefined) ctx.addIssue({ code: "custom", message: `must be an IPv4 CIDR like 10.244.0.0/16, got "${v}"` });
  else if (parseCidr(v) === undefined) ctx.addIssue({ code: "custom", message: `has host bits set: "${v}" is not a network address` });
});

/**
 * An interface address with its prefix, e.g. 10.0.1.50/24: a host address that is neither the
 * subnet's network nor its broadcast address (RFC 919/922; /31 and /32 have neither, RFC 3021).
 */
export const interfaceAddress = z.string().superRefine((v, ctx) => {
  const net = parseCidr(v, false);
  const ip = parseIpv4(v.split("/")[0] ?? "");
  if (!net || ip === undefined || net.prefix === 0) {
    ctx.addIssue({ code: "custom", message: "must be an IPv4 address with prefix like 10.0.1.50/24" });
    return;
  }
  const why = notAHostAddress(ip);
  if (why) ctx.addIssue({ code: "custom", message: `${v} is ${why}, not a host address` });
  else if (net.prefix <= 30 && ip === net.first) ctx.addIssue({ code: "custom", message: `${v} is the network address of its subnet, not a host address` });
  else if (net.prefix <= 30 && ip === net.last) ctx.addIssue({ code: "custom", message: `${v} is the broadcast address of its subnet, not a host address` });
});

const isDnsName = (name: string) =>
  name.length <= 253 && name.split(".").every((label) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i.test(label));

/** https://<host>:<port>: the form Talos writes into every kubeconfig and machine config. */
export const httpsEndpoint = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: "custom", message: `must be a URL like https://10.0.1.50:6443, got "${value}"` });
    return;
  }
  if (url.protocol !== "https:") ctx.addIssue({ code: "custom", message: `must use https, got "${url.protocol}"` });
  // Checked on the text: URL drops a port equal to the scheme's default (:443).
  const authority = value.slice(value.indexOf("//") + 2).split(/[/?#]/)[0] ?? "";
  if (!/:\d+$/.test(authority)) ctx.addIssue({ code: "custom", message: "must name the API port explicitly, e.g. :6443" });
  else if (url.port === "0" || /:0+$/.test(authority)) ctx.addIssue({ code: "custom", message: "must name a port from 1 to 65535" });
  if (url.username || url.password) ctx.addIssue({ code: "custom", message: "must not carry a user name or password" });
  // Loopback endpoints are a cross-field check (cluster.allowLoopbackAddresses).
  const host = parseIpv4(url.hostname);
  const why = host === undefined ? undefined : notAHostAddress(host, { loopback: true });
  if (why) ctx.addIssue({ code: "custom", message: `${url.hostname} is ${why}, not an address the API can be reached at` });
  // A name goes into the API server's certificate as a DNS SAN: RFC 1123 labels of at most 63
  // characters, 253 in all (Go's crypto/x509 refuses malformed dNSName SANs when it parses them).
  if (host === undefined && !url.hostname.startsWith("[") && !isDnsName(url.hostname)) {
    ctx.addIssue({ code: "custom", message: `${url.hostname} is not a DNS name (letters, digits and '-' in dot-separated labels of at most 63 characters)` });
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    ctx.addIssue({ code: "custom", message: "must not have a path, query or fragment" });
  }
});

// Release versions as Talos and Kubernetes tag them: semantic versions, no leading zeros (semver.org
// rule 2), which is also how the Image Factory and the installer image tags name them.
// Which Talos/Kubernetes pairs work is checked against the version matrix (issue 10).
const release = "(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)";
export const talosVersion = z.string().regex(new RegExp(`^v${release}$`), "must look like v1.10.6");
export const kubernetesVersion = z.string().regex(new RegExp(`^${release}$`), "must look like 1.33.3 (no leading v)");
/** A Talos config contract: a Talos version, with or without its patch number. */
export const configContract = z.string().regex(new RegExp(`^v(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(\\.(0|[1-9]\\d*))?$`), "must look like v1.10 or v1.10.6");

/**
 * A whole disk device, e.g. /dev/sda, /dev/nvme0n1 or /dev/disk/by-id/…. Not a partition: Talos
 * partitions the install disk itself (machine.install.disk), and Rook wants raw, unpartitioned disks.
 */
// The rules: config/disk-paths.ts.
export const diskPath = z.string().superRefine((v, ctx) => {
  const problem = diskPathProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** A Go duration as the Talos provider's timeouts take it, e.g. 10m, 90s, 1h30m. */
export const duration = z
  .string()
  .regex(/^(\d+(h|m|s))+$/, "must be a duration like 10m or 90s")
  .refine((v) => /[1-9]/.test(v), { message: "must be longer than zero" });

const labelKey = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

// Kubernetes qualified names: an optional DNS-subdomain prefix of at most 253 characters, a name of
// at most 63 (k8s.io/apimachinery validation.IsQualifiedName; Talos labels.ValidateQualifiedName).
const prefixFits = (key: string) => !key.includes("/") || key.indexOf("/") <= 253;

/** Kubernetes node labels. */
export const labels = z.record(
  z.string().regex(labelKey, "must be a Kubernetes label key like node.example.com/pool").refine(prefixFits, { message: "has a prefix longer than 253 characters" }),
  z.string().regex(labelValue, "must be a Kubernetes label value (63 characters of letters, digits, '-', '_', '.')"),
);

/** Kubernetes node taints as Talos writes them: key -> "value:Effect" or ":Effect". */
export const taints = z.record(
  z.string().regex(labelKey, "must be a Kubernetes taint key like dedicated").refine(prefixFits, { message: "has a prefix longer than 253 characters" }),
  z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, "must be \"value:Effect\" or \":Effect\" with Effect NoSchedule, PreferNoSchedule or NoExecute"),
);

/** An official Image Factory extension, e.g. siderolabs/qemu-guest-agent. */
export const extensionName = z.string().regex(/^[a-z0-9-]+\/[a-z0-9][a-z0-9._-]*$/, "must name an official extension like siderolabs/qemu-guest-agent");

/**
 * A kernel argument as the Image Factory stores it. Restricted to characters YAML never quotes
 * so the locally computed schematic ID matches the factory's.
 */
/** A kernel argument the Image Factory's schematic YAML writes unquoted (components/talos/image-schematic.ts). */
export const PLAIN_KERNEL_ARG = /^[A-Za-z_][A-Za-z0-9_.,:=/+-]*$/;
export const kernelArg = z.string().regex(PLAIN_KERNEL_ARG, "must be a kernel argument like vga=792 or net.ifnames=0");

/** A memory quantity in binary units, e.g. 512Mi or 1Gi. */
export const memoryQuantity = z.string().regex(/^\d+(Ki|Mi|Gi)$/, "must be a memory quantity like 512Mi or 1Gi");

/**
 * Hetzner Cloud locations and the network zone each belongs to (Hetzner Cloud API, GET /locations:
 * `network_zone`); a server only joins a subnet of its own network zone.
 */
export const HETZNER_NETWORK_ZONES: Readonly<Record<string, string>> = {
  fsn1: "eu-central",
  nbg1: "eu-central",
  hel1: "eu-central",
  ash: "us-east",
  hil: "us-west",
  sin: "ap-southeast",
};

/** A Hetzner location code: fsn1, nbg1, hel1, ash, hil, sin. */
export const hetznerLocation = z
  .string()
  .refine((v) => Object.hasOwn(HETZNER_NETWORK_ZONES, v), { message: "must be a Hetzner location like fsn1, nbg1, hel1, ash, hil or sin" });
