// Talos upgrades one minor at a time (seed 004: 1.10 -> 1.11 -> 1.12, health between). A bump
// that skips minors first brings the whole cluster through the newest patch of each minor in
// between, node by node, before the nodes' own upgrade steps move them to the target. Pure:
// tests compare the exact command lines.
import { minorStops, talosMinor } from "../../config/versions";
import { ClusterMembers, healthCommand, NodeImage, osUpgradeCommands, prelude, q, readTag, UpgradeNode, upgradeOrder } from "./upgrade-plan";

/** One intermediate stop: every node below `minor` is upgraded to `version` with `installerImage`. */
export interface MinorStop {
  readonly minor: number;
  readonly version: string;
  readonly installerImage: string;
}

/** The installer image of the same schematic at another Talos version (the factory names it `<host>/installer/<id>:<version>`). */
export function installerAt(installerImage: string, version: string): string {
  return installerImage.replace(/:[^:/]+$/, `:${version}`);
}

/** The stops of a bump to `target`, each with the schematic's installer at that version. */
export function minorStopsFor(target: string, installerImage: string): MinorStop[] {
  return minorStops(target).map((version) => ({ minor: talosMinor(version), version, installerImage: installerAt(installerImage, version) }));
}

/**
 * One node at one stop: read the version it runs; below the stop's minor it is upgraded there
 * (seed 002's sequence: forfeit leadership, upgrade, health; Talos drains and uncordons); more than one minor
 * below it, or unreadable, the step fails before touching it.
 */
export function nodeAtStopCommands(node: UpgradeNode & NodeImage & { readonly kernelArgs?: readonly string[] }, stop: MinorStop, members: ClusterMembers, timeout: string): string[] {
  // the node's own schematic at the stop's version, when it has one
  const installerImage = node.installerImage ? installerAt(node.installerImage, stop.version) : stop.installerImage;
  const target = { talosVersion: stop.version, schematicId: "", installerImage, legacy: (node.kernelArgs ?? []).length > 0, timeout, members };
  return [
    readTag(node.address),
    `case "$tag" in v1.[0-9]*.[0-9]*) minor="\${tag#v1.}"; minor="\${minor%%.*}";; *) echo ${q(`${node.name}: cannot read the Talos version it runs (talosctl -n ${node.address} version), so it cannot be stepped to ${stop.version}`)} >&2; exit 1;; esac`,
    `if [ "$minor" -lt ${stop.minor - 1} ]; then echo ${q(`${node.name} runs `)}"$tag"${q(`, more than one minor below ${stop.version}: upgrade it by hand one minor at a time (talosctl upgrade) to ${stop.version}, then run up again`)} >&2; exit 1; fi`,
    `if [ "$minor" -lt ${stop.minor} ]; then`,
    `  echo ${q(`${node.name}: `)}"$tag"${q(` -> ${stop.version} (Talos upgrades go one minor at a time)`)}`,
    ...osUpgradeCommands(node, target).map((c) => `  ${c}`),
    "fi",
  ];
}

/**
 * The cluster's minor-steps script: stop by stop (oldest first), every node in upgrade order
 * (control planes one by one, then workers), each upgraded node followed by the health gate. A
 * node already at or past a stop's minor is left alone, so a bump within one minor, or a cluster
 * already at the minor below the target, runs only the version reads.
 */
export function minorStepsScript(nodes: readonly (UpgradeNode & NodeImage & { readonly kernelArgs?: readonly string[] })[], stops: readonly MinorStop[], members: ClusterMembers, timeout: string, talosVersion: string): string {
  if (!stops.length) return `echo ${q("no Talos minor below the target: nothing to step through")}`;
  const ordered = upgradeOrder(nodes);
  return [
    prelude(["talosctl", "kubectl"], talosVersion),
    // The whole cluster healthy first: a node enrolled in this same up is still installing when
    // its apply returns, and its version cannot be read until it has joined.
    healthCommand(members, timeout),
    ...stops.flatMap((stop) => ordered.flatMap((node) => nodeAtStopCommands(node, stop, members, timeout))),
  ].join("\n");
}
