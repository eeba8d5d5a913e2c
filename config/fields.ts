// Field-level schemas shared by the stack config: each says in its message what it expects.
import { z } from "zod";
import { parseCidr, parseIpv4 } from "./ip";

export const dnsLabel = z
  .string()
  .max(63, "must be at most 63 characters")
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'");

export const ipv4 = z.string().refine((v) => parseIpv4(v) !== undefined, { message: "must be an IPv4 address like 10.0.1.50" });

/** An IPv4 network in CIDR form with no host bits set. */
export const cidr = z.string().superRefine((v, ctx) => {
  if (parseCidr(v, false) === undefined) ctx.addIssue({ code: "custom", message: `must be an IPv4 CIDR like 10.244.0.0/16, got "${v}"` });
  else if (parseCidr(v) === undefined) ctx.addIssue({ code: "custom", message: `has host bits set: "${v}" is not a network address` });
});

/** An interface address with its prefix, e.g. 10.0.1.50/24 (host bits allowed). */
export const interfaceAddress = z
  .string()
  .refine((v) => parseCidr(v, false) !== undefined, { message: "must be an IPv4 address with prefix like 10.0.1.50/24" });

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
  if (url.pathname !== "/" || url.search || url.hash) {
    ctx.addIssue({ code: "custom", message: "must not have a path, query or fragment" });
  }
});

export const talosVersion = z.string().regex(/^v\d+\.\d+\.\d+$/, "must look like v1.10.6");
/** A Talos config contract: a Talos version, with or without its patch number. */
export const configContract = z.string().regex(/^v\d+\.\d+(\.\d+)?$/, "must look like v1.10 or v1.10.6");
export const kubernetesVersion = z.string().regex(/^\d+\.\d+\.\d+$/, "must look like 1.33.3 (no leading v)");

/** A whole disk device, e.g. /dev/sda or /dev/nvme0n1. */
export const diskPath = z.string().regex(/^\/dev\/[A-Za-z0-9/_.-]+$/, "must be a device path like /dev/sda");

/** A Go duration as the Talos provider's timeouts take it, e.g. 10m, 90s, 1h30m. */
export const duration = z.string().regex(/^(\d+(h|m|s))+$/, "must be a duration like 10m or 90s");

const labelKey = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Kubernetes node labels. */
export const labels = z.record(
  z.string().regex(labelKey, "must be a Kubernetes label key like node.example.com/pool"),
  z.string().regex(labelValue, "must be a Kubernetes label value (63 characters of letters, digits, '-', '_', '.')"),
);

/** Kubernetes node taints as Talos writes them: key -> "value:Effect" or ":Effect". */
export const taints = z.record(
  z.string().regex(labelKey, "must be a Kubernetes taint key like dedicated"),
  z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, "must be \"value:Effect\" or \":Effect\" with Effect NoSchedule, PreferNoSchedule or NoExecute"),
);

/** An official Image Factory extension, e.g. siderolabs/qemu-guest-agent. */
export const extensionName = z.string().regex(/^[a-z0-9-]+\/[a-z0-9][a-z0-9._-]*$/, "must name an official extension like siderolabs/qemu-guest-agent");

/**
 * A kernel argument as the Image Factory stores it. Restricted to characters YAML never quotes
 * so the locally computed schematic ID matches the factory's.
 */
export const kernelArg = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.,:=/+-]*$/, "must be a kernel argument like vga=792 or net.ifnames=0");

/** A memory quantity in binary units, e.g. 512Mi or 1Gi. */
export const memoryQuantity = z.string().regex(/^\d+(Ki|Mi|Gi)$/, "must be a memory quantity like 512Mi or 1Gi");

/** A Hetzner location code: fsn1, nbg1, hel1, ash, hil, sin. */
export const hetznerLocation = z.string().regex(/^[a-z]{3}[0-9]?$/, "must be a Hetzner location like fsn1, nbg1, hel1, ash, hil or sin");
