import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PinnedChart, releaseArgs } from "./chart";
import { linkerdVizNamespaceLabels, linkerdVizValues } from "./linkerd-viz-values";
import { mergeValues, Values } from "./values";

export interface LinkerdVizArgs {
  /** The pinned linkerd-viz chart, at the control plane's version. Required. */
  readonly chart: PinnedChart;
  /** Stack-config values merged over the derived ones. Default: none. */
  readonly values?: Values;
  readonly provider: k8s.Provider;
  /** What must run first (Linkerd's control plane: its injector meshes the viz pods). Required. */
  readonly after: readonly pulumi.Resource[];
  /** Gates the release's values (on the cluster being healthy with its CNI). Default: none. */
  readonly gate?: (values: pulumi.Input<Values>) => pulumi.Input<Values>;
}

/** Linkerd Viz (seed 003: dashboard and metrics), in its own labelled namespace. */
export class LinkerdViz extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: LinkerdVizArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:LinkerdViz", name, {}, opts);
    const gate = args.gate ?? ((v: pulumi.Input<Values>) => v);
    // Held back like the release: the namespace is this add-on's first object on the API server.
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: "linkerd-viz", labels: gate(linkerdVizNamespaceLabels()) as pulumi.Input<Record<string, string>> } },
      { parent: this, provider: args.provider },
    );
    this.release = new k8s.helm.v3.Release(`${name}-release`, releaseArgs(args.chart, "linkerd-viz", gate(mergeValues(linkerdVizValues(), args.values))), {
      parent: this,
      provider: args.provider,
      dependsOn: [namespace, ...args.after],
    });
    this.registerOutputs({ status: this.release.status });
  }
}
