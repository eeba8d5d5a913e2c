// What a `destroy` does to machines, from the stack's state (`pulumi stack export`): every Talos
// configuration apply whose onDestroy resets its node, and every Hetzner server it deletes.
// scripts/stack.sh prints this under the destroy plan before it asks.
// Usage: ts-node ops/destroy-plan.ts <stack export JSON file>
import fs from "node:fs";

const APPLY = "talos:machine/configurationApply:ConfigurationApply";
const SERVER = "hcloud:index/server:Server";
const COMMAND = "command:local:Command";

interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly inputs?: Record<string, unknown>;
  readonly delete?: boolean;
}

export interface DestroyImpact {
  /** The nodes whose configuration apply resets them (onDestroy.reset), with their addresses. */
  readonly reset: string[];
  /** The nodes whose apply leaves them as they are. */
  readonly kept: string[];
  /** Names of the Hetzner servers deleted. */
  readonly servers: string[];
}

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
/** A node's apply is named `<node>-apply` (TalosNode's child); its `node` input is the address it dials. */
const machineOf = (r: StateResource) => {
  const node = r.inputs?.node;
  return `${nameOf(r.urn).replace(/-apply$/, "")}${typeof node === "string" ? ` (${node})` : ""}`;
};

/** The machines a destroy of this state touches. */
export function destroyImpact(exported: { deployment?: { resources?: StateResource[] } }): DestroyImpact {
  const resources = (exported.deployment?.resources ?? []).filter((r) => !r.delete);
  const applies = resources.filter((r) => r.type === APPLY);
  // Since the membership step (components/day2/node-removal.ts) resets the machines on a destroy
  // (the applies keep theirs), its delete script decides, with the stack's current onDestroy;
  // an older stack without that step resets through each apply's own onDestroy.
  const members = resources.find((r) => r.type === COMMAND && r.urn.endsWith("-nodes-members"));
  const script = members?.inputs?.delete;
  const resets = (r: StateResource) =>
    members ? typeof script === "string" && / reset --graceful=false /.test(script) : (r.inputs?.onDestroy as { reset?: unknown } | undefined)?.reset === true;
  return {
    reset: applies.filter(resets).map(machineOf),
    kept: applies.filter((r) => !resets(r)).map(machineOf),
    servers: resources.filter((r) => r.type === SERVER).map((r) => nameOf(r.urn)),
  };
}

/** The lines printed under the plan. */
export function describeImpact(impact: DestroyImpact): string[] {
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  const lines = [`This destroy resets ${n(impact.reset.length, "machine", "machines")} (Talos reset: wipes the node back to maintenance mode)${impact.reset.length ? `: ${impact.reset.join(", ")}` : ""}.`];
  if (impact.kept.length) lines.push(`${n(impact.kept.length, "machine keeps", "machines keep")} its installation (onDestroy.reset false): ${impact.kept.join(", ")}.`);
  if (impact.servers.length) lines.push(`It deletes ${n(impact.servers.length, "Hetzner server", "Hetzner servers")}: ${impact.servers.join(", ")}.`);
  return lines;
}

if (require.main === module) {
  const exported = JSON.parse(fs.readFileSync(process.argv[2]!, "utf8"));
  console.log(describeImpact(destroyImpact(exported)).join("\n"));
}
