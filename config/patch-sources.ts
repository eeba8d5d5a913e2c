// Where each patch layer of each node comes from, so Talos's verdicts can name the file.
// Read at the edge beside readPatchFiles, in the same order (components/talos/talos-cluster.ts
// nodeConfigPatches: platform files, the node's derived patch, the node's own files, and, when
// there is one, the node's image patch).
import path from "node:path";
import fs from "node:fs";
import type { SourcedPatch } from "../components/talos/config-validation";
import { readPatchLayer } from "./patch-files";
import { DEDICATED_PLATFORM, HETZNER_PLATFORM, isHetznerPlatform } from "./hetzner";
import type { StackConfig } from "./schema";

export interface PatchSources {
  /** Every patch file the stack uses, with the nodes it applies to. */
  readonly files: readonly (SourcedPatch & { readonly nodes: readonly string[] })[];
  /** Per node: the sources of its own layers, in nodeConfigPatches order. */
  readonly nodeLayers: Readonly<Record<string, readonly string[]>>;
  /** Per role: the sources merged into the role's config before the node layers. */
  readonly base: Readonly<Record<"controlplane" | "worker", readonly string[]>>;
}

export function patchSources(root: string, config: StackConfig): PatchSources {
  const rel = (file: string) => path.relative(root, file);
  const layer = (...parts: string[]) => readPatchLayer(path.join(root, "patches", ...parts)).map((f) => ({ source: rel(f.file), content: f.content }));
  const files = new Map<string, SourcedPatch & { nodes: string[] }>();
  const use = (patch: SourcedPatch, node: string) => {
    const entry = files.get(patch.source) ?? { ...patch, nodes: [] };
    if (!entry.nodes.includes(node)) entry.nodes.push(node);
    files.set(patch.source, entry);
  };
  const all = layer("all");
  const byRole = { controlplane: layer("controlplane"), worker: layer("worker") };
  const platforms: Record<string, SourcedPatch[]> = {};
  const nodeLayers: Record<string, string[]> = {};
  // A hybrid stack (README, "Hybrid clusters"): the Hetzner patches are the servers' own layer.
  const lan = config.nodes.filter((n) => !isHetznerPlatform(n.platform));
  const dedicated = config.nodes.filter((n) => n.platform === DEDICATED_PLATFORM);
  const hybrid = config.hetzner !== undefined && lan.length > 0;
  config.nodes.forEach((node) => {
    const platform = (platforms[node.platform] ??= layer("platform", node.platform));
    const own = node.patches.filter((p) => fs.existsSync(path.join(root, p))).map((p) => ({ source: p, content: fs.readFileSync(path.join(root, p), "utf8") }));
    for (const patch of [...all, ...byRole[node.role], ...platform, ...own]) use(patch, node.name);
    const cloud = node.platform === HETZNER_PLATFORM;
    const derived = cloud
      ? `the node's derived patch (talos-cluster:hetzner.pools)`
      : node.platform === DEDICATED_PLATFORM
        ? `the node's derived patch (talos-cluster:hetzner.dedicated[${dedicated.indexOf(node)}])`
        : `the node's derived patch (talos-cluster:nodes[${lan.indexOf(node)}])`;
    const infrastructure = hybrid && cloud ? ["the Hetzner platform patches (the servers' own layer in a hybrid stack)"] : [];
    const image = "the node's image patch (its installer and schematic kernel args, talos-cluster:imageFactory and every layer's machine.install.extraKernelArgs)";
    nodeLayers[node.name] = [...infrastructure, ...platform.map((p) => p.source), derived, ...own.map((p) => p.source), image];
  });
  const derived = ["the cluster's derived patches (talos-cluster:cluster)", ...(config.hetzner ? [hybrid ? "the Hetzner load balancer's certificate names" : "the Hetzner platform patches"] : [])];
  return {
    files: [...files.values()],
    nodeLayers,
    base: {
      controlplane: [
        ...derived,
        ...all.map((p) => p.source),
        ...(config.hetzner && !hybrid ? ["the Hetzner control-plane patches"] : []),
        ...(config.cluster.vip ? ["the VIP patch (talos-cluster:cluster.vip)"] : []),
        ...byRole.controlplane.map((p) => p.source),
      ],
      worker: [...derived, ...all.map((p) => p.source), ...byRole.worker.map((p) => p.source)],
    },
  };
}
