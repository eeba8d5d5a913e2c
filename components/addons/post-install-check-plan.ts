// The scripts of the post-install checks. Pure: tests compare them exactly. No script contains a
// secret: the tools read the kubeconfig from a private file written from the environment.
import { createHash } from "node:crypto";
import { KUBECONFIG_ENV, q } from "../day2/upgrade-plan";

export interface CliTool {
  readonly binary: "linkerd" | "cilium";
  /** Where to get it (toolchain/versions.json clusterClis). */
  readonly install: string;
}

/** Refuses without the tool, then writes the kubeconfig to a private file that leaves with the script. */
export function checkPrelude(tool: CliTool): string {
  return [
    "set -eu",
    `command -v ${tool.binary} >/dev/null 2>&1 || { echo ${q(`${tool.binary} is not on PATH: install the ${tool.binary} CLI (${tool.install}) and run pulumi up again, or turn this check off with addons.postInstallChecks.${tool.binary}: false`)} >&2; exit 127; }`,
    "umask 077",
    'work="$(mktemp -d)"',
    `trap 'rm -rf "$work"' EXIT`,
    `printf '%s' "$${KUBECONFIG_ENV}" > "$work/kubeconfig"`,
    'export KUBECONFIG="$work/kubeconfig"',
  ].join("\n");
}

/**
 * `linkerd check` (seed 003) with a CLI of the control plane's release: its checks compare the
 * two, and only this release knows the pinned chart's resources. Fails with the tool's output.
 */
export function linkerdCheckScript(tool: CliTool, release: string, timeout: string): string {
  return [
    checkPrelude(tool),
    'client="$(linkerd version --client --short)"',
    `[ "$client" = ${q(release)} ] || { echo "linkerd CLI $client does not match the control plane ${release}: install linkerd ${release} (${tool.install})" >&2; exit 1; }`,
    `linkerd check --linkerd-namespace linkerd --wait ${timeout}`,
  ].join("\n");
}

/** `cilium status --wait` against Cilium's namespace: agent, operator, Hubble ready, or the output. */
export function ciliumStatusScript(tool: CliTool, namespace: string, timeout: string): string {
  return [checkPrelude(tool), `cilium status --namespace ${namespace} --wait --wait-duration ${timeout}`].join("\n");
}

/**
 * What a check re-runs on: one digest per release of its add-on (chart, version, values), so
 * any change to them replaces the step and runs it again, and nothing else does.
 */
export function releaseDigest(chart: string, version: string, values: unknown): string {
  return createHash("sha256").update(JSON.stringify([chart, version, values])).digest("hex");
}
