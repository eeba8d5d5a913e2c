import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PinnedChart, releaseArgs } from "./chart";
import { HCLOUD_SECRET, hcloudCcmValues, HcloudCcmFacts, hcloudSecretData, RobotLogin } from "./hcloud-values";
import { mergeValues, Values } from "./values";

export interface HcloudCcmArgs {
  /** The pinned chart (toolchain/versions.json addons.hcloudCloudControllerManager). Required. */
  readonly chart: PinnedChart;
  /** Location, subnet and pod network the values derive from. Required. */
  readonly facts: HcloudCcmFacts;
  /** Stack-config values merged over the derived ones (addons.hcloudCcm.values). Default: none. */
  readonly values?: Values;
  /** The Hetzner Cloud API token (stack secret hcloud:token). Required; secret. */
  readonly token: pulumi.Input<string>;
  /** The ID of the cluster's private network. Required. */
  readonly networkId: pulumi.Input<string>;
  /** The Robot webservice login (stack secrets robotUser, robotPassword); given, it turns on Robot support. Default: none. */
  readonly robotLogin?: pulumi.Input<RobotLogin>;
  readonly provider: k8s.Provider;
  /** Holds inputs back until the cluster is ready (API server up). Default: none. */
  readonly gate?: <T>(value: pulumi.Input<T>) => pulumi.Input<T>;
}

/**
 * Hetzner's cloud controller manager in kube-system: the Secret its chart reads (token, network),
 * then the release. Kubelets run with an external cloud provider on Hetzner (the hetzner patches
 * set cluster.externalCloudProvider), so each new node carries the uninitialized taint until this
 * controller has set its provider ID and addresses; the chart tolerates that taint.
 */
export class HcloudCloudControllerManager extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly secret: k8s.core.v1.Secret;

  constructor(name: string, args: HcloudCcmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:HcloudCloudControllerManager", name, {}, opts);
    const gate = args.gate ?? (<T>(v: pulumi.Input<T>) => v);
    const child = { parent: this, provider: args.provider };
    // The whole data secret: the token must never reach state or logs in plaintext.
    const data = pulumi.secret(pulumi.all([args.token, args.networkId, args.robotLogin]).apply(([token, network, robot]) => hcloudSecretData(token, network, robot)));
    this.secret = new k8s.core.v1.Secret(`${name}-secret`, { metadata: { ...HCLOUD_SECRET }, type: "Opaque", stringData: gate(data) }, child);
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      releaseArgs(args.chart, HCLOUD_SECRET.namespace, gate<Values>(mergeValues(hcloudCcmValues({ ...args.facts, robot: args.robotLogin !== undefined }), args.values))),
      { ...child, dependsOn: [this.secret] },
    );
    this.registerOutputs({ status: this.release.status });
  }
}
