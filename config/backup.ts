// Scheduled etcd snapshots (`talos-cluster:backup`) and the restore source
// (`cluster.recoverFrom`): field schemas and their cross-field checks.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

type Ctx = z.core.$RefinementCtx<unknown>;

/** Where relative paths in the stack config (patch files, recoverFrom) are resolved from. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

// A Kubernetes CronJob schedule: five fields, or one of the macros the CronJob controller knows.
const MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const FIELDS = [
  { name: "minute", min: 0, max: 59, names: [] as string[], first: 0 },
  { name: "hour", min: 0, max: 23, names: [], first: 0 },
  { name: "day of month", min: 1, max: 31, names: [], first: 0 },
  { name: "month", min: 1, max: 12, names: MONTHS, first: 1 },
  { name: "day of week", min: 0, max: 7, names: DAYS, first: 0 },
];

/** Why one field of a cron expression is wrong, or undefined. */
function cronFieldProblem(text: string, f: (typeof FIELDS)[number]): string | undefined {
  const value = (v: string) => {
    const named = f.names.indexOf(v.toLowerCase());
    if (named >= 0) return named + f.first;
    return /^\d+$/.test(v) ? Number(v) : NaN;
  };
  for (const part of text.split(",")) {
    const m = /^(\*|([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return `${f.name} "${part}" is not a number, range, list or step`;
    const [lo, hi] = m[1] === "*" ? [f.min, f.max] : [value(m[2]!), m[3] === undefined ? value(m[2]!) : value(m[3])];
    if ([lo, hi].some((v) => Number.isNaN(v))) return `${f.name} "${part}" is not a number${f.names.length ? ` or a name like ${f.names[1]}` : ""}`;
    if (![lo, hi].every((v) => v! >= f.min && v! <= f.max)) return `${f.name} "${part}" is outside ${f.min}-${f.max}`;
    if (lo! > hi!) return `${f.name} range "${part}" runs backwards`;
    if (m[4] !== undefined && Number(m[4]) < 1) return `${f.name} step "${part}" must be at least 1`;
  }
  return undefined;
}

/** A CronJob schedule such as "0 3 * * *" or "@daily"; the message names the first bad field. */
export const cronSchedule = z.string().superRefine((text, ctx) => {
  const trimmed = text.trim();
  if (MACROS.includes(trimmed)) return;
  const parts = trimmed.split(/\s+/);
  const bad = (why: string) => ctx.addIssue({ code: "custom", message: `must be a cron schedule like "0 3 * * *" or @daily: ${why}` });
  if (parts.length !== 5) return bad(`has ${parts.length} field${parts.length === 1 ? "" : "s"}, needs 5 (minute hour day-of-month month day-of-week)`);
  for (let i = 0; i < 5; i++) {
    const problem = cronFieldProblem(parts[i]!, FIELDS[i]!);
    if (problem) return bad(problem);
  }
});

/** An S3 API base URL; https unless the stack opts in to plain http (s3.allowInsecureHttp). */
const s3Endpoint = z.url({ protocol: /^https?$/, message: "must be an http(s) URL like https://fsn1.your-objectstorage.com" });

export const backupSchema = z.strictObject({
  /** Take scheduled snapshots. Default: true (the section's presence turns them on). */
  enabled: z.boolean().default(true),
  /** CronJob schedule (kube-controller-manager's time zone, UTC on Talos). Default: "0 * * * *", hourly: a lost hour of etcd is the most a restore gives up. */
  schedule: cronSchedule.default("0 * * * *"),
  /** Namespace of the job; the only one given Talos API access. Default: talos-backup. */
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a namespace name (lowercase letters, digits and '-')")
    .default("talos-backup"),
  /** The S3-compatible target: Hetzner Object Storage, MinIO (e.g. on a Synology), AWS. */
  s3: z.strictObject({
    /** API endpoint, e.g. https://fsn1.your-objectstorage.com, https://s3.eu-central-1.amazonaws.com. */
    endpoint: s3Endpoint,
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name (3-63 lowercase letters, digits, '.', '-')"),
    /** The bucket's region, e.g. fsn1, eu-central-1; MinIO's default is us-east-1. */
    region: z.string().regex(/^[a-z0-9-]{2,32}$/, "must be a region like fsn1 or eu-central-1"),
    /** Path-style addressing (endpoint/bucket/key), what MinIO needs. Default: false (virtual-hosted). */
    pathStyle: z.boolean().default(false),
    /** Key prefix inside the bucket. Default: the cluster name. */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, "must be a key prefix like clusters/homelab")
      .optional(),
    /** Accept an http:// endpoint (e.g. MinIO on a LAN without TLS): snapshots are age-encrypted, the S3 credentials are not. Default: false. */
    allowInsecureHttp: z.boolean().default(false),
  }),
});

export type BackupSettings = z.infer<typeof backupSchema>;

/** An age X25519 recipient: age1 followed by 58 bech32 characters. */
export const agePublicKey = z.string().regex(/^age1[02-9ac-hj-np-z]{58}$/, "must be an age public key (age1..., from age-keygen)");
export const s3AccessKey = z.string().regex(/^\S{3,128}$/, "must be an S3 access key (3-128 characters, no spaces)");
export const s3SecretKey = z.string().regex(/^\S{8,256}$/, "must be an S3 secret key (8-256 characters, no spaces)");

/** The snapshot to restore from: a readable, non-empty file (relative paths start at the project root). */
export const recoverFromPath = z.string().superRefine((p, ctx) => {
  const file = path.resolve(PROJECT_ROOT, p);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    stat = undefined;
  }
  if (!stat) ctx.addIssue({ code: "custom", message: `file not found: ${p}` });
  else if (!stat.isFile()) ctx.addIssue({ code: "custom", message: `is not a file: ${p}` });
  else if (stat.size === 0) ctx.addIssue({ code: "custom", message: `is empty: ${p}` });
});

const record = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The backup section against its secrets and the endpoint opt-in; recoverFrom against secretsYaml and applyNodes. */
export function checkBackupAndRecovery(root: Record<string, unknown>, ctx: Ctx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
  const backup = root.backup === undefined ? undefined : record(root.backup);
  const enabled = backup !== undefined && backup.enabled !== false;
  const secrets = [
    ["backupAccessKey", "the S3 access key"],
    ["backupSecretKey", "the S3 secret key"],
    ["backupAgePublicKey", "the age public key snapshots are encrypted to"],
  ] as const;
  for (const [key, what] of secrets) {
    if (enabled && root[key] === undefined) issue([key], `required when backup is enabled: ${what}, set with pulumi config set --secret talos-cluster:${key} <value>`);
    if (!enabled && root[key] !== undefined) issue([key], "is set but backup is not enabled (no talos-cluster:backup section, or backup.enabled: false)");
  }
  const s3 = record(backup?.s3);
  if (typeof s3.endpoint === "string" && s3.endpoint.startsWith("http://") && s3.allowInsecureHttp !== true) {
    issue(["backup", "s3", "endpoint"], `${s3.endpoint} is plain http: the S3 credentials would cross the network unencrypted; use https, or set backup.s3.allowInsecureHttp: true for a trusted LAN`);
  }
  const cluster = record(root.cluster);
  if (cluster.recoverFrom !== undefined) {
    if (root.secretsYaml === undefined) {
      issue(["cluster", "recoverFrom"], "needs the old cluster's secrets in talos-cluster:secretsYaml: a snapshot restored under new secrets leaves every existing client and service account token invalid");
    }
    if (cluster.applyNodes === false) issue(["cluster", "recoverFrom"], "needs cluster.applyNodes: true: a stack that only renders configs bootstraps nothing");
  }
}

/** The snapshot's absolute path and SHA-256, read at the edge so the restore step can check it is the file planned. */
export function recoverySource(recoverFrom: string): { snapshotPath: string; sha256: string } {
  const snapshotPath = path.resolve(PROJECT_ROOT, recoverFrom);
  return { snapshotPath, sha256: createHash("sha256").update(fs.readFileSync(snapshotPath)).digest("hex") };
}
