// Which Talos versions this program accepts, and which Kubernetes versions each supports.
//
// The Kubernetes ranges are Talos's own: the compatibility package of Talos machinery
// (pkg/machinery/compatibility/talosNNN, MinimumKubernetesVersion and MaximumKubernetesVersion).
// tests/unit/versions.test.ts asks the validator built from the pinned machinery
// (talos-config-check support) about every boundary, so this table cannot drift from Talos's.
import type { z } from "zod";
import pins from "../toolchain/versions.json";

/** Talos minor -> the Kubernetes versions Talos supports with it: [minimum, first unsupported). */
export const KUBERNETES_SUPPORT: Readonly<Record<string, { readonly min: string; readonly below: string }>> = {
  "1.10": { min: "1.28.0", below: "1.33.99" },
  "1.11": { min: "1.29.0", below: "1.34.99" },
  "1.12": { min: "1.30.0", below: "1.35.99" },
  "1.13": { min: "1.31.0", below: "1.36.99" },
  "1.14": { min: "1.32.0", below: "1.37.99" },
};

/**
 * The Talos minors this program accepts. The oldest is the version of the machinery inside the
 * config generator (Terraform Talos provider v0.8.0: machinery v1.10); the newest is the
 * machinery that validates every config (toolchain/versions.json tools.talosConfigCheck).
 */
export const TALOS_MINORS = Object.keys(KUBERNETES_SUPPORT);

type Triple = [number, number, number];

function parse(version: string): Triple | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compare(a: Triple, b: Triple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** "1.37.99" -> "1.37.x": machinery's exclusive bound, as a reader states it. */
function newestText(below: string): string {
  const [major, minor, patch] = parse(below)!;
  return patch === 99 ? `${major}.${minor}.x` : `below ${below}`;
}

/** What a Talos minor supports, in words, e.g. "Kubernetes 1.32.0 to 1.37.x". */
export function supportedRange(talosMinor: string): string {
  const range = KUBERNETES_SUPPORT[talosMinor]!;
  return `Kubernetes ${range.min} to ${newestText(range.below)}`;
}

/** Problems with a Talos/Kubernetes pair, each with the field it belongs to. Well-formed versions only. */
export function versionPairProblems(talosVersion: string, kubernetesVersion: string): { field: "talosVersion" | "kubernetesVersion"; message: string }[] {
  const talos = parse(talosVersion);
  const k8s = parse(kubernetesVersion);
  if (!talos) return [];
  const minor = `${talos[0]}.${talos[1]}`;
  const range = KUBERNETES_SUPPORT[minor];
  if (!range) {
    const first = TALOS_MINORS[0]!;
    const last = TALOS_MINORS[TALOS_MINORS.length - 1]!;
    return [{ field: "talosVersion", message: `${talosVersion} is not supported: this program accepts Talos v${first}.0 to v${last}.x (the versions its config generator and validator know)` }];
  }
  if (!k8s) return [];
  if (compare(k8s, parse(range.min)!) < 0 || compare(k8s, parse(range.below)!) >= 0) {
    const too = compare(k8s, parse(range.min)!) < 0 ? "too old" : "too new";
    return [{ field: "kubernetesVersion", message: `${kubernetesVersion} is ${too} for Talos ${talosVersion}: Talos ${minor} supports ${supportedRange(minor)}` }];
  }
  return [];
}

/** zod refinement for the `cluster` object; runs even when other cluster fields failed. */
export function checkVersionPair(value: unknown, ctx: z.core.$RefinementCtx<unknown>, defaults: { talosVersion: string; kubernetesVersion: string }): void {
  const cluster = value && typeof value === "object" ? (value as Record<string, unknown>) : {};
  const talos = typeof cluster.talosVersion === "string" ? cluster.talosVersion : cluster.talosVersion === undefined ? defaults.talosVersion : undefined;
  const k8s = typeof cluster.kubernetesVersion === "string" ? cluster.kubernetesVersion : cluster.kubernetesVersion === undefined ? defaults.kubernetesVersion : undefined;
  // Malformed versions already have their own message (config/fields.ts).
  if (talos === undefined || k8s === undefined || !/^v\d+\.\d+\.\d+$/.test(talos)) return;
  if (!/^\d+\.\d+\.\d+$/.test(k8s)) return;
  for (const { field, message } of versionPairProblems(talos, k8s)) ctx.addIssue({ code: "custom", path: [field], message });
}

/**
 * The machinery inside the config generator (toolchain/versions.json configGenerator.machinery):
 * Terraform Talos provider v0.8.0 is built on pkg/machinery v1.10.0, so whatever contract it is
 * given, it writes what a 1.10 contract gets (plain v1alpha1 documents).
 */
export const GENERATOR_MACHINERY: string = pins.configGenerator.machinery;

/**
 * The contract a new cluster's secrets and configs are created with: its Talos version, capped at
 * the generator's machinery (a v1.14.1 cluster gets v1.10.0). The stored contract then says what
 * the generator really produced, so a generator bump does not suddenly turn the same contract
 * into 1.12+ documents (toolchain/versions.json configGenerator.generatorBump).
 */
export function creationContract(talosVersion: string): string {
  return talosMinor(talosVersion) > talosMinor(GENERATOR_MACHINERY) ? GENERATOR_MACHINERY : talosVersion;
}

/**
 * The oldest Talos minor a new stack may start on (issue 21): 1.12, whose config model (the
 * multi-document network configs, grubUseUKICmdline) is the one the generator bump moves to.
 * 1.10 and 1.11 are out of community support, which ends with the next minor's release
 * (siderolabs/talos v1.11.0 website/content/v1.11/introduction/support-matrix.md). They stay
 * accepted for clusters created on them earlier, which name their contract (cluster.configContract).
 */
export const OLDEST_NEW_STACK_MINOR = "1.12";

/**
 * The newest patch of each Talos minor (toolchain/versions.json talosUpgrades.newestPatch): the
 * versions a bump across minors steps through, one minor at a time (seed 004).
 */
export const TALOS_NEWEST_PATCH: Readonly<Record<string, string>> = pins.talosUpgrades.newestPatch;

/** The minor number of a Talos version, e.g. 12 for v1.12.3. */
export function talosMinor(version: string): number {
  const v = parse(version);
  if (!v || v[0] !== 1) throw new Error(`not a Talos 1.x version: ${version}`);
  return v[1];
}

/**
 * The versions a node at minor `fromMinor` passes through on its way to `target`, one minor at a
 * time: the newest patch of every minor in between, then the target itself. E.g. from 10 to
 * v1.12.3: [v1.11.6, v1.12.3]. A node at the target's minor or one below goes straight there.
 */
export function minorSequence(fromMinor: number, target: string): string[] {
  const to = talosMinor(target);
  const between: string[] = [];
  for (let m = fromMinor + 1; m < to; m++) {
    const version = TALOS_NEWEST_PATCH[`1.${m}`];
    if (!version) throw new Error(`no newest patch of Talos 1.${m} pinned in toolchain/versions.json talosUpgrades.newestPatch`);
    between.push(version);
  }
  return [...between, target];
}

/**
 * The intermediate stops of any bump to `target`: the newest patch of every accepted minor below
 * the target's, oldest first. A node at or above a stop's minor skips it (components/day2/minor-steps.ts).
 */
export function minorStops(target: string): string[] {
  const to = talosMinor(target);
  return TALOS_MINORS.filter((m) => Number(m.split(".")[1]) < to).map((m) => TALOS_NEWEST_PATCH[m]!);
}
