// The stack configuration, parsed once at the edge (index.ts) with a strict schema.
// Components never read pulumi.Config: they take the typed result of parseStackConfig.
import { z } from "zod";
import pins from "../toolchain/versions.json";

/** The project's config namespace: keys are written `talos-cluster:<key>` in Pulumi.<stack>.yaml. */
export const CONFIG_NAMESPACE = "talos-cluster";

const dnsLabel = z
  .string()
  .max(63, "must be at most 63 characters")
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits and '-', not starting or ending with '-'");

/** https://<host>:<port>: the form Talos writes into every kubeconfig and machine config. */
const httpsEndpoint = z.string().superRefine((value, ctx) => {
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

const clusterSchema = z.strictObject({
  /** Cluster name written into every machine config and kubeconfig context. */
  name: dnsLabel,
  /** Kubernetes API endpoint, https://<host>:<port>. */
  endpoint: httpsEndpoint,
  /** Talos version the machine configs are generated for. Default: toolchain/versions.json cluster.talosVersion. */
  talosVersion: z
    .string()
    .regex(/^v\d+\.\d+\.\d+$/, "must look like v1.10.6")
    .default(pins.cluster.talosVersion),
  /** Kubernetes version. Default: toolchain/versions.json cluster.kubernetesVersion. */
  kubernetesVersion: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, "must look like 1.33.3 (no leading v)")
    .default(pins.cluster.kubernetesVersion),
  /**
   * Whether `pulumi destroy` must refuse to delete the cluster secrets. Default: true, because
   * every node's identity and every certificate derive from them.
   */
  protectSecrets: z.boolean().default(true),
});

export const stackConfigSchema = z.strictObject({
  cluster: clusterSchema,
});

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type ClusterSettings = StackConfig["cluster"];

/** Every problem in the stack config, each with its path, e.g. `talos-cluster:cluster.endpoint`. */
export class StackConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  const [key, ...rest] = path;
  let out = `${CONFIG_NAMESPACE}:${String(key ?? "")}`;
  for (const part of rest) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join("\n  - ");
  }
  // zod reports a missing key as a type error against undefined.
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) return `${formatPath(issue.path)}: required`;
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/**
 * Parses the raw project config (keys without the namespace, values as Pulumi stores them) into
 * typed settings with defaults filled in, or throws one StackConfigError naming every problem.
 */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
  const result = stackConfigSchema.safeParse(raw);
  if (!result.success) throw new StackConfigError(result.error.issues.map(formatIssue));
  return result.data;
}

/**
 * The project's keys from Pulumi's flat config map (`talos-cluster:cluster` → `cluster`).
 * Structured values arrive as JSON text; plain strings stay strings.
 */
export function projectConfig(all: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(all)) {
    const [namespace, key] = fullKey.split(":", 2);
    if (namespace !== CONFIG_NAMESPACE || key === undefined) continue;
    out[key] = parseConfigValue(text);
  }
  return out;
}

function parseConfigValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
