import * as pulumi from "@pulumi/pulumi";
import { removalProblems } from "./removal-plan";
import { UpgradeNode } from "./upgrade-plan";

/** The members an earlier up recorded in this stack's `nodes` output; none when there is none. */
export function previousMembers(output: unknown): UpgradeNode[] {
  if (!Array.isArray(output)) return [];
  return output.flatMap((n) =>
    n && typeof n.name === "string" && typeof n.address === "string" && (n.role === "controlplane" || n.role === "worker") ? [{ name: n.name, address: n.address, role: n.role }] : [],
  );
}

/** The refusal for a member change etcd could not survive, or for a name that moves to another machine; undefined when there is none. */
export function removalRefusal(previous: readonly UpgradeNode[], current: readonly UpgradeNode[], unreachable: readonly string[]): string | undefined {
  const problems = previous.length ? removalProblems(previous, current, unreachable) : [];
  if (!problems.length) return undefined;
  return `the change of nodes cannot be made in one up:\n${problems.map((p) => `  - nodes: ${p}`).join("\n")}`;
}

/**
 * Checks the stack's nodes against the members the last up recorded (this stack's own `nodes`
 * output, read through a StackReference, which a preview reads too): resolves once the change
 * can be made, and fails the preview or up with the reasons otherwise. The membership step takes
 * the result as an input, so no node is touched before the check passed.
 */
export function removalGuard(current: readonly UpgradeNode[], unreachable: readonly string[]): pulumi.Output<string> {
  const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
  const members = current.map((n) => ({ name: n.name, address: n.address, role: n.role }));
  return self.getOutput("nodes").apply((output) => {
    const refusal = removalRefusal(previousMembers(output), members, unreachable);
    if (refusal) throw new pulumi.RunError(refusal);
    return "checked";
  });
}
