// What every day-2 step shares: the cluster's configs in a secret environment, /bin/sh, and a
// place in the chain. Both ClusterUpgrades and ConfigRollout build their steps with this.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { KUBECONFIG_ENV, TALOSCONFIG_ENV } from "./upgrade-plan";

/** How a day-2 component reaches the cluster, and what it waits for. */
export interface ClusterAccess {
  /** How long each wait (drain, upgrade, reboot, health) may take, e.g. 10m. Required. */
  readonly timeout: string;
  /** The cluster's talosconfig and kubeconfig. Required; secret. */
  readonly talosconfig: pulumi.Input<string>;
  readonly kubeconfig: pulumi.Input<string>;
  /** What must finish before the first step. Required. */
  readonly after: readonly pulumi.Resource[];
}

/** One step: `create` runs when it is created with the cluster, `update` when its inputs change. */
export interface StepScripts {
  readonly create: string;
  readonly update: string;
  /** What runs when the step is deleted (with the inputs recorded in state). Default: nothing. */
  readonly delete?: string;
  /** More secret environment beside the two configs (e.g. a node's machine config). Default: none. */
  readonly environment?: Readonly<Record<string, pulumi.Input<string>>>;
  /** The step's previous stdout in PULUMI_COMMAND_STDOUT (e.g. a record the step keeps in its state). Default: false. */
  readonly previousOutput?: boolean;
}

/**
 * A command step under `parent`, after `after`, with the configs only in its secret environment.
 * `ignoreChanges` (default none) keeps those inputs from ever running `update`.
 */
export function commandStep(
  name: string,
  access: ClusterAccess,
  scripts: StepScripts,
  parent: pulumi.Resource,
  after: readonly pulumi.Resource[],
  ignoreChanges: readonly string[] = [],
): command.local.Command {
  return new command.local.Command(
    name,
    {
      create: scripts.create,
      update: scripts.update,
      ...(scripts.delete ? { delete: scripts.delete } : {}),
      environment: pulumi.secret({ [TALOSCONFIG_ENV]: access.talosconfig, [KUBECONFIG_ENV]: access.kubeconfig, ...scripts.environment }),
      interpreter: ["/bin/sh", "-c"],
      addPreviousOutputInEnv: scripts.previousOutput ?? false,
    },
    {
      parent,
      dependsOn: [...after],
      // What talosctl prints can hold secrets (upgrade-k8s prints manifest diffs with Secrets):
      // secret in state, whatever else the scripts redact.
      additionalSecretOutputs: ["stdout", "stderr"],
      ...(ignoreChanges.length ? { ignoreChanges: [...ignoreChanges] } : {}),
    },
  );
}
