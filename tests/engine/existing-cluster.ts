// Turns a cluster that could not be created here (no Talos node answers) into the state of one
// that was. The engine's own update plan (`pulumi preview --save-plan`, which carries every
// planned input, secrets included, in state format) is written into the stack's state as if the
// up had succeeded, in two rounds: the second fills what only became known once the first
// round's resources existed (the kubeconfig and what reads it).
// What the nodes would have returned (IDs, a kubeconfig) is made up. Tests then preview an
// existing cluster offline.
import type { Stack } from "@pulumi/pulumi/automation";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { EngineProject } from "./harness";

/** The engine's marker for a value not known during a preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** How the engine writes a secret into a deployment: the signature, then the value as JSON. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
const secret = (value: unknown) => ({ [SECRET_SIG]: SECRET_VALUE, plaintext: JSON.stringify(value) });

/** A kubeconfig for an API server nobody listens at (a closed loopback port). */
export const UNREACHABLE_KUBECONFIG = [
  "apiVersion: v1",
  "kind: Config",
  "clusters: [{name: c, cluster: {server: 'https://127.0.0.11:6443', insecure-skip-tls-verify: true}}]",
  "users: [{name: u, user: {token: not-a-real-token}}]",
  "contexts: [{name: c, context: {cluster: c, user: u}}]",
  "current-context: c",
  "",
].join("\n");

interface Goal {
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  provider?: string;
  protect?: boolean;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  additionalSecretOutputs?: string[];
  inputDiff?: { adds?: Record<string, unknown>; updates?: Record<string, unknown>; deletes?: string[] };
}
interface Plan {
  /** Per resource: the goal as registered (its inputs as a diff from the current ones) and the steps planned. */
  resourcePlans: Record<string, { goal?: Goal; steps: string[] }>;
}
type StateResource = Record<string, any> & { urn: string };

function savePlan(project: EngineProject, stack: string): Plan {
  const file = path.join(project.dir, `plan-${Date.now()}.json`);
  const res = spawnSync("pulumi", ["preview", "--stack", stack, "--non-interactive", "--save-plan", file, "--show-secrets"], {
    cwd: project.dir,
    env: { ...process.env, ...project.env },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (res.status !== 0) throw new Error(`pulumi preview --save-plan failed: ${res.stderr}\n${res.stdout.slice(-2000)}`);
  const plan = JSON.parse(fs.readFileSync(file, "utf8")) as Plan;
  fs.rmSync(file);
  return plan;
}

/** Properties still unknown in this round are left out; the next round knows them. */
function known(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== UNKNOWN).map(known);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== UNKNOWN).map(([k, v]) => [k, known(v)]));
  return value;
}

/** The Terraform timeouts block each Talos resource has: the provider expects every key in state. */
const TIMEOUT_KEYS: Record<string, string[]> = {
  "talos:machine/configurationApply:ConfigurationApply": ["create", "update", "delete"],
  "talos:machine/bootstrap:Bootstrap": ["create"],
  "talos:cluster/kubeconfig:Kubeconfig": ["create", "update"],
};

/** What the provider would have returned on create, beyond the inputs. */
function createdOutputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const timeouts = TIMEOUT_KEYS[type] && { timeouts: Object.fromEntries(TIMEOUT_KEYS[type]!.map((k) => [k, (inputs.timeouts as Record<string, unknown> | undefined)?.[k] ?? null])) };
  // The bridge reads the Terraform schema version from state; without it, it "upgrades" from v0.
  const meta = type.startsWith("talos:") ? { __meta: JSON.stringify({ schema_version: "1" }) } : {};
  switch (type) {
    case "talos:machine/configurationApply:ConfigurationApply":
      return { ...inputs, ...timeouts, ...meta, machineConfiguration: inputs.machineConfigurationInput };
    case "talos:cluster/kubeconfig:Kubeconfig":
      // the schema's default renewal window; no client certificate, so no renewal is planned
      return { ...inputs, ...timeouts, ...meta, certificateRenewalDuration: "720h", kubeconfigRaw: secret(UNREACHABLE_KUBECONFIG) };
    case "command:local:Command":
      return { ...inputs, stdout: "", stderr: "" };
    default:
      return { ...inputs, ...timeouts, ...meta };
  }
}

/** Parents, providers and dependencies before what refers to them, as a deployment must list them. */
function ordered(resources: StateResource[]): StateResource[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const out: StateResource[] = [];
  const seen = new Set<string>();
  const visit = (r: StateResource) => {
    if (seen.has(r.urn)) return;
    seen.add(r.urn);
    const refs = [r.parent, typeof r.provider === "string" ? r.provider.split("::").slice(0, -1).join("::") : undefined, ...(r.dependencies ?? [])];
    for (const ref of refs) if (ref && byUrn.has(ref)) visit(byUrn.get(ref)!);
    out.push(r);
  };
  resources.forEach(visit);
  return out;
}

/**
 * Writes what the stack's next up would create or update into its state, as if that up had
 * succeeded: the plan, then once more the plan of what only became known with it. Returns how
 * many resources were made up.
 */
export async function pretendCreated(project: EngineProject, stackName: string, stack: Stack): Promise<number> {
  const made = new Set<string>();
  for (const round of [1, 2]) {
    const plan = savePlan(project, stackName);
    const changes = Object.entries(plan.resourcePlans).filter(([, p]) => p.goal && p.steps.some((s) => s !== "same"));
    if (round === 1 && changes.length === 0) throw new Error("the plan creates nothing: no cluster to pretend");
    const exported = await stack.exportStack();
    const deployment = exported.deployment as { resources?: StateResource[] };
    const resources = new Map((deployment.resources ?? []).map((r) => [r.urn, r]));
    for (const [urn, { goal }] of changes) {
      const g = goal!;
      const previous = resources.get(urn);
      const inputs = known({ ...(previous?.inputs ?? {}), ...(g.inputDiff?.adds ?? {}), ...(g.inputDiff?.updates ?? {}) }) as Record<string, unknown>;
      for (const gone of [...(g.inputDiff?.deletes ?? []), "__internal"]) delete inputs[gone]; // __internal: the engine's own, never stored
      const id = previous?.id ?? (g.custom ? `existing-${made.size}` : undefined);
      resources.set(urn, {
        urn,
        custom: g.custom,
        ...(id ? { id } : {}),
        type: g.type,
        inputs,
        outputs: g.custom ? createdOutputs(g.type, inputs) : {},
        ...(g.parent ? { parent: g.parent } : {}),
        ...(g.protect ? { protect: true } : {}),
        dependencies: g.dependencies ?? [],
        propertyDependencies: g.propertyDependencies ?? {},
        ...(g.additionalSecretOutputs ? { additionalSecretOutputs: g.additionalSecretOutputs } : {}),
        ...(g.provider ? { provider: g.provider } : {}),
      });
      made.add(urn);
    }
    // Providers the plan creates are referred to by an unknown ID: the one made up for them.
    const ids = new Map([...resources.values()].map((r) => [r.urn, r.id as string | undefined]));
    for (const r of resources.values()) {
      if (typeof r.provider === "string" && r.provider.endsWith(`::${UNKNOWN}`)) {
        const providerUrn = r.provider.slice(0, -UNKNOWN.length - 2);
        r.provider = `${providerUrn}::${ids.get(providerUrn)}`;
      }
    }
    // A read (the stack's own outputs, components/day2/removal-guard.ts) has no goal to write:
    // dependencies on it are dropped, and the next preview reads it again.
    const present = new Set(resources.keys());
    for (const r of resources.values()) {
      r.dependencies = (r.dependencies ?? []).filter((d: string) => present.has(d));
      r.propertyDependencies = Object.fromEntries(Object.entries((r.propertyDependencies ?? {}) as Record<string, string[]>).map(([k, ds]) => [k, ds.filter((d) => present.has(d))]));
    }
    deployment.resources = ordered([...resources.values()]);
    await stack.importStack(exported);
  }
  return made.size;
}
