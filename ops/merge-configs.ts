// Merging a cluster's talosconfig and kubeconfig into the files talosctl and kubectl read,
// replacing only the entries of the same name and keeping every other cluster. Pure.
import YAML from "yaml";

type Named = { name: string } & Record<string, unknown>;

function mergeNamed(existing: unknown, incoming: unknown): Named[] {
  const out = Array.isArray(existing) ? [...(existing as Named[])] : [];
  for (const entry of Array.isArray(incoming) ? (incoming as Named[]) : []) {
    const at = out.findIndex((e) => e.name === entry.name);
    if (at >= 0) out[at] = entry;
    else out.push(entry);
  }
  return out;
}

/** ~/.kube/config with the cluster's clusters, users and contexts merged in and made current. */
export function mergeKubeconfig(existingText: string | undefined, incomingText: string): string {
  const existing = (existingText ? YAML.parse(existingText) : undefined) ?? { apiVersion: "v1", kind: "Config" };
  const incoming = YAML.parse(incomingText);
  return YAML.stringify({
    ...existing,
    clusters: mergeNamed(existing.clusters, incoming.clusters),
    users: mergeNamed(existing.users, incoming.users),
    contexts: mergeNamed(existing.contexts, incoming.contexts),
    "current-context": incoming["current-context"] ?? existing["current-context"],
  });
}

/** ~/.talos/config with the cluster's context merged in and made current. */
export function mergeTalosconfig(existingText: string | undefined, incomingText: string): string {
  const existing = (existingText ? YAML.parse(existingText) : undefined) ?? {};
  const incoming = YAML.parse(incomingText);
  return YAML.stringify({
    ...existing,
    context: incoming.context ?? existing.context,
    contexts: { ...(existing.contexts ?? {}), ...(incoming.contexts ?? {}) },
  });
}
