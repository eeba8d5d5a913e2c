// The pinned chart coordinates of toolchain/versions.json, as a Helm release's inputs.
import type * as k8s from "@pulumi/kubernetes";

export interface PinnedChart {
  /** The Helm repository; absent for a chart given by path or oci:// reference. */
  readonly repo?: string;
  readonly chart: string;
  readonly version: string;
}

/** Where charts and manifests come from (stack config addons.chartSource). */
export interface ChartSource {
  readonly type: "repository" | "directory" | "oci";
  readonly location?: string;
}

/** A pinned chart as the source serves it: `<dir>/<chart>`, `<oci ref>/<chart>`, or unchanged. */
export function locateChart(pin: PinnedChart, source: ChartSource): PinnedChart {
  if (source.type === "repository") return pin;
  return { chart: `${source.location}/${pin.chart}`, version: pin.version };
}

/** A pinned manifest URL as the source serves it: `<dir>/manifests/<file name>` for a directory. */
export function locateManifest(url: string, source: ChartSource): string {
  if (source.type !== "directory") return url;
  return `${source.location}/manifests/${url.slice(url.lastIndexOf("/") + 1)}`;
}

/** Release inputs for a pinned chart: never the version from anywhere else. */
export function releaseArgs(pin: PinnedChart, namespace: string, values: k8s.helm.v3.ReleaseArgs["values"], wait = true): k8s.helm.v3.ReleaseArgs {
  return {
    chart: pin.chart,
    version: pin.version,
    ...(pin.repo ? { repositoryOpts: { repo: pin.repo } } : {}),
    namespace,
    values,
    // Wait for the chart's workloads, so whatever depends on this release finds them running.
    skipAwait: !wait,
    atomic: false,
  };
}
