import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KUBECONFIG_ENV } from "../day2/upgrade-plan";
import { releaseDigest } from "./post-install-check-plan";

/** One check: its script and the releases whose change re-runs it. */
export interface PostInstallCheck {
  /** Names the step `${name}-<role>`. */
  readonly role: string;
  /** The script (components/addons/post-install-check-plan.ts). */
  readonly script: string;
  /** The add-on's releases: the step runs after them and again whenever one of them changes. */
  readonly releases: readonly k8s.helm.v3.Release[];
  /** Holds the script back (until the cluster is healthy with its CNI). Default: none. */
  readonly gate?: (script: string) => pulumi.Input<string>;
}

export interface PostInstallChecksArgs {
  readonly checks: readonly PostInstallCheck[];
  /** The cluster's kubeconfig. Required; secret, only in the steps' environment. */
  readonly kubeconfig: pulumi.Input<string>;
}

/**
 * The tools' own checks as `up` steps (seed 003 `linkerd check`, `cilium status`). A step runs
 * when created and when its add-on's chart, version or values change (triggers), never in a
 * preview (the command provider runs nothing then); a failing tool fails the `up` with its output.
 */
export class PostInstallChecks extends pulumi.ComponentResource {
  public readonly steps: command.local.Command[];

  constructor(name: string, args: PostInstallChecksArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:PostInstallChecks", name, {}, opts);
    this.steps = args.checks.map(
      (check) =>
        new command.local.Command(
          `${name}-${check.role}`,
          {
            create: check.gate ? check.gate(check.script) : check.script,
            update: check.gate ? check.gate(check.script) : check.script,
            triggers: check.releases.map((r) => pulumi.all([r.chart, r.version, r.values]).apply(([chart, version, values]) => releaseDigest(chart, version ?? "", values))),
            environment: pulumi.secret({ [KUBECONFIG_ENV]: args.kubeconfig }),
            interpreter: ["/bin/sh", "-c"],
            addPreviousOutputInEnv: false,
          },
          { parent: this, dependsOn: [...check.releases] },
        ),
    );
    this.registerOutputs({});
  }
}
