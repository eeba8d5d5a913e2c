// The pinned chart coordinates of toolchain/versions.json, as a Helm release's inputs.
import type * as k8s from "@pulumi/kubernetes";

export interface PinnedChart {
  readonly repo: string;
  readonly chart: string;
  readonly version: string;
}

/** Release inputs for a pinned chart: never the version from anywhere else. */
export function releaseArgs(pin: PinnedChart, namespace: string, values: k8s.helm.v3.ReleaseArgs["values"]): k8s.helm.v3.ReleaseArgs {
  return {
    chart: pin.chart,
    version: pin.version,
    repositoryOpts: { repo: pin.repo },
    namespace,
    values,
    // Wait for the chart's workloads, so whatever depends on this release finds them running.
    skipAwait: false,
    atomic: false,
  };
}
