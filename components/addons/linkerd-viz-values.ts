// Linkerd Viz's namespace labels and values, and the CLI version its checks expect. Pure.
import { privilegedNamespaceLabels, Values } from "./values";

/**
 * The linkerd-viz namespace: Helm does not create it (the chart's namespace.yaml renders only for
 * the CLI), so it gets what that template sets: the extension label `linkerd check` finds viz
 * by, and privileged pod security, since viz pods are meshed and linkerd-init needs NET_ADMIN and
 * NET_RAW without the Linkerd CNI (which Talos cannot run, seed 003).
 */
export function linkerdVizNamespaceLabels(): Record<string, string> {
  return { ...privilegedNamespaceLabels(), "linkerd.io/extension": "viz" };
}

/** linkerd-viz values: it joins the control plane in namespace `linkerd` (components/addons/linkerd.ts). */
export function linkerdVizValues(): Values {
  return { linkerdNamespace: "linkerd" };
}

/** The Linkerd CLI release matching an edge chart version: chart 2025.1.1 is edge-25.1.1. */
export function linkerdEdgeRelease(chartVersion: string): string {
  const m = /^20(\d\d)\.(\d+)\.(\d+)$/.exec(chartVersion);
  if (!m) throw new Error(`linkerd chart version ${chartVersion} is not an edge chart version (20YY.M.P)`);
  return `edge-${m[1]}.${m[2]}.${m[3]}`;
}
