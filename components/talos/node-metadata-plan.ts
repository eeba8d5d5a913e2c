// Where each node label and taint goes, and the step that applies the rest through the Kubernetes
// API (components/talos/node-metadata.ts). Pure functions: the tests compare them exactly, and
// the step's script embeds nextTaints, sameTaints, previousTaints and reconcileNode as they are
// compiled (so each uses nothing but its arguments and these functions).
//
// Labels: a server-side apply (field manager FIELD_MANAGER) of exactly the labels the stack gives
// the API. metadata.labels is a granular map, so the apply owns only those keys: a key dropped
// from the apply is removed unless another manager also owns it, and labels of other managers
// (kubectl label, Talos, the kubelet) are never touched. The apply carries the Node's uid: the API
// server refuses it when no Node has that uid ("uid mismatch ... no existing object was found"),
// where an apply without one would create an empty Node (an apply is an upsert; this is also why
// @pulumi/kubernetes NodePatch is not used: its create applies without a precondition and its
// delete, ssa.Relinquish in pulumi-kubernetes provider/pkg/ssa, applies a bare Node by name, so a
// Node already removed would come back empty).
//
// Taints: spec.taints is `x-kubernetes-list-type: atomic` (the Node schema the API server serves),
// so an apply would own and replace the whole list, removing the node lifecycle controller's
// node.kubernetes.io/* taints and any other manager's. As the controller itself does
// (kubernetes pkg/controller/controller_utils.go, PatchNodeTaints), the step reads the Node, sends
// the whole new list in a merge patch with the resourceVersion it read (a conflict when anything
// changed in between; it reads again) and changes only its own taints: those the stack gives and
// those the previous run applied (kept in the step's own output), by key and effect as Kubernetes
// identifies a taint.
import { kubeletMayNotSet } from "../../config/node-restriction";
import { KUBECONFIG_ENV } from "../day2/upgrade-plan";

/** The field manager of every write the step makes (managedFields show who set what). */
export const FIELD_MANAGER = "talos-cluster";
/** Reads before giving up when every write meets a concurrent change. */
export const ATTEMPTS = 5;

/** A taint as the Node API holds it. */
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
  readonly timeAdded?: string;
}

export interface NodeMetadataInput {
  readonly role: "controlplane" | "worker";
  readonly labels: Readonly<Record<string, string>>;
  /** key -> "value:Effect" or ":Effect" (config/fields.ts taints). */
  readonly taints: Readonly<Record<string, string>>;
}

export interface NodeMetadataSplit {
  /** machine.nodeLabels / machine.nodeTaints: what Talos applies. */
  readonly machine: { readonly labels: Record<string, string>; readonly taints: Record<string, string> };
  /** What the program applies through the Kubernetes API once the Node is registered. */
  readonly api: { readonly labels: Record<string, string>; readonly taints: Record<string, string> };
}

/**
 * Control planes: everything in the machine config (Talos applies it with admin credentials).
 * Workers: the labels NodeRestriction lets a kubelet set in the machine config, the others and
 * every taint through the API (config/node-restriction.ts says why).
 */
export function splitNodeMetadata(node: NodeMetadataInput): NodeMetadataSplit {
  if (node.role === "controlplane") return { machine: { labels: { ...node.labels }, taints: { ...node.taints } }, api: { labels: {}, taints: {} } };
  const restricted = Object.entries(node.labels).filter(([key]) => kubeletMayNotSet(key));
  return {
    machine: { labels: Object.fromEntries(Object.entries(node.labels).filter(([key]) => !kubeletMayNotSet(key))), taints: {} },
    api: { labels: Object.fromEntries(restricted), taints: { ...node.taints } },
  };
}

/** Whether a node needs the API step at all. */
export function needsApi(split: NodeMetadataSplit): boolean {
  return Object.keys(split.api.labels).length > 0 || Object.keys(split.api.taints).length > 0;
}

/** The stack's `key: "value:Effect"` taints as the API writes them, by key. */
export function parseTaints(taints: Readonly<Record<string, string>>): Taint[] {
  return Object.keys(taints)
    .sort()
    .map((key) => {
      const spec = taints[key]!;
      const colon = spec.lastIndexOf(":");
      const value = spec.slice(0, colon);
      return value ? { key, value, effect: spec.slice(colon + 1) } : { key, effect: spec.slice(colon + 1) };
    });
}

/**
 * The Node's next taint list: every taint that is not ours kept as it is and where it is; ours
 * (a `previous` or `desired` key and effect) given the desired value in place, or dropped when no
 * longer desired; desired ones not on the Node yet appended.
 */
export function nextTaints(current: readonly Taint[], previous: readonly Taint[], desired: readonly Taint[]): Taint[] {
  const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
  const build = (from: Taint, value: string | undefined): Taint => {
    // In the API's field order, so an unchanged taint compares equal as JSON too.
    const t: Record<string, string> = { key: from.key };
    if (value) t.value = value;
    t.effect = from.effect;
    if (from.timeAdded) t.timeAdded = from.timeAdded;
    return t as unknown as Taint;
  };
  const placed = new Set<number>();
  const next: Taint[] = [];
  for (const taint of current) {
    const i = desired.findIndex((d) => same(d, taint));
    if (i >= 0) {
      // A second taint with our key and effect cannot be (the API refuses duplicates); keep one.
      if (!placed.has(i)) next.push(build(taint, desired[i]!.value));
      placed.add(i);
    } else if (!previous.some((p) => same(p, taint))) {
      next.push(taint);
    }
  }
  desired.forEach((d, i) => {
    if (!placed.has(i)) next.push(build({ key: d.key, effect: d.effect }, d.value));
  });
  return next;
}

/** Whether two taint lists are the same list (an unchanged list is not written). */
export function sameTaints(a: readonly Taint[], b: readonly Taint[]): boolean {
  const text = (t: Taint) => [t.key, t.value || "", t.effect, t.timeAdded || ""].join("\u0000");
  return a.length === b.length && a.every((t, i) => text(t) === text(b[i]!));
}

/** The taints the previous run applied: its record, the last line of its stdout; none when there is none. */
export function previousTaints(stdout: string | undefined): Taint[] {
  const line = (stdout || "").trim().split("\n").pop() || "";
  try {
    const record = JSON.parse(line);
    return Array.isArray(record.taints) ? record.taints : [];
  } catch {
    return [];
  }
}

/** One run's plan, as the script embeds it. */
export interface ReconcilePlan {
  readonly node: string;
  /** Remove what `taints` and `labels` name (the step's delete) instead of applying them. */
  readonly remove: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** How long to wait for the Node to register, e.g. 10m. */
  readonly timeout: string;
  readonly fieldManager: string;
  readonly attempts: number;
}

/** What a run leaves on stdout, and the next run reads back (previousTaints). */
export interface MetadataRecord {
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
}

/** kubectl with the cluster's kubeconfig: its stdout, or an Error with its stderr. */
export type Kubectl = (args: string[], input?: string) => string;

/**
 * One run against the cluster. Apply: wait for the Node to register, then write our taints and
 * labels. Remove: the same with none desired; a Node that is gone has nothing left to remove.
 */
export function reconcileNode(plan: ReconcilePlan, previous: readonly Taint[], kubectl: Kubectl): MetadataRecord {
  if (!plan.remove) kubectl(["wait", "--for=create", `node/${plan.node}`, `--timeout=${plan.timeout}`]);
  const desired = plan.remove ? [] : plan.taints;
  const labels = plan.remove ? {} : plan.labels;
  for (let attempt = 1; ; attempt++) {
    const text = kubectl(["get", "node", plan.node, "--ignore-not-found", "-o", "json"]);
    if (!text.trim()) {
      if (plan.remove) return { node: plan.node, labels: {}, taints: [] };
      throw new Error(`node ${plan.node} is not registered`);
    }
    const node = JSON.parse(text);
    const current: Taint[] = (node.spec && node.spec.taints) || [];
    const next = nextTaints(current, previous, desired);
    const meta = { uid: node.metadata.uid, resourceVersion: node.metadata.resourceVersion };
    try {
      if (!sameTaints(current, next)) {
        const patch = { metadata: meta, spec: { taints: next.length ? next : null } };
        kubectl(["patch", "node", plan.node, "--type=merge", `--field-manager=${plan.fieldManager}`, "-p", JSON.stringify(patch)]);
      }
      const applied: { name: string; uid: string; labels?: Readonly<Record<string, string>> } = { name: plan.node, uid: meta.uid };
      if (Object.keys(labels).length) applied.labels = labels;
      kubectl(["apply", "--server-side", "--force-conflicts", `--field-manager=${plan.fieldManager}`, "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: applied }));
      return { node: plan.node, labels, taints: desired };
    } catch (err) {
      // 409: the Node changed since it was read (or was replaced: another uid). Read it again.
      if (attempt < plan.attempts && /\(Conflict\)|Operation cannot be fulfilled/.test(String((err as Error).message))) continue;
      throw err;
    }
  }
}

/** What the step's script needs to know. */
export interface NodeMetadataTarget {
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  /** key -> "value:Effect" or ":Effect". */
  readonly taints: Readonly<Record<string, string>>;
  /** How long to wait for the Node to register, e.g. 10m. */
  readonly timeout: string;
}

/**
 * The step's script for `node -e`: the functions above as compiled, the plan as JSON, and the I/O:
 * the kubeconfig from the environment in a private temp file (removed at the end), kubectl from
 * PATH (missing: exit 127 saying how to install it), the record on stdout, errors on stderr.
 */
export function nodeMetadataScript(target: NodeMetadataTarget, remove: boolean): string {
  const plan: ReconcilePlan = { node: target.node, remove, labels: target.labels, taints: parseTaints(target.taints), timeout: target.timeout, fieldManager: FIELD_MANAGER, attempts: ATTEMPTS };
  return [
    '"use strict";',
    'const { execFileSync } = require("node:child_process");',
    'const fs = require("node:fs");',
    'const os = require("node:os");',
    'const path = require("node:path");',
    nextTaints.toString(),
    sameTaints.toString(),
    previousTaints.toString(),
    reconcileNode.toString(),
    `const plan = ${JSON.stringify(plan)};`,
    'const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-node-"));',
    'const kubeconfig = path.join(dir, "kubeconfig");',
    "class Missing extends Error {}",
    "const kubectl = (args, input) => {",
    "  try {",
    '    return execFileSync("kubectl", args, { input: input || "", encoding: "utf8", env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ["pipe", "pipe", "pipe"] });',
    "  } catch (err) {",
    '    if (err.code === "ENOENT") throw new Missing("kubectl is not on PATH: install kubectl (https://kubernetes.io/docs/tasks/tools/) and run pulumi up again");',
    '    throw new Error(`kubectl ${args.slice(0, 3).join(" ")}: ${String(err.stderr || err.message).trim()}`);',
    "  }",
    "};",
    "try {",
    `  fs.writeFileSync(kubeconfig, process.env.${KUBECONFIG_ENV} || "", { mode: 0o600 });`,
    "  const previous = plan.remove ? plan.taints : previousTaints(process.env.PULUMI_COMMAND_STDOUT);",
    '  process.stdout.write(JSON.stringify(reconcileNode(plan, previous, kubectl)) + "\\n");',
    "} catch (err) {",
    '  process.stderr.write(`node ${plan.node}: ${err.message}\\n`);',
    "  process.exitCode = err instanceof Missing ? 127 : 1;",
    "} finally {",
    "  fs.rmSync(dir, { recursive: true, force: true });",
    "}",
    "",
  ].join("\n");
}
