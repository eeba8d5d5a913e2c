// The config contract against the rest of the stack config (README "Operations": the contract).
import type { z } from "zod";
import pins from "../toolchain/versions.json";

type Ctx = z.core.$RefinementCtx<unknown>;

const minorOf = (v: unknown): [number, number] | undefined => {
  const m = typeof v === "string" ? /^v(\d+)\.(\d+)/.exec(v) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
};

/** Imported secrets name no usable contract, and a contract newer than the OS would render configs it does not know. */
export function checkConfigContract(root: Record<string, unknown>, cluster: Record<string, unknown>, ctx: Ctx): void {
  const contract = cluster.configContract;
  if (root.secretsYaml !== undefined && contract === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["cluster", "configContract"],
      message:
        "required when secretsYaml imports secrets (the file only records v1.2 or v1.3): set the Talos version the original cluster was created with, its stack's configContract output",
    });
  }
  const c = minorOf(contract);
  const talosVersion = cluster.talosVersion ?? pins.cluster.talosVersion;
  const t = minorOf(talosVersion);
  if (c && t && (c[0] > t[0] || (c[0] === t[0] && c[1] > t[1]))) {
    ctx.addIssue({
      code: "custom",
      path: ["cluster", "configContract"],
      message: `${String(contract)} is newer than talosVersion ${String(talosVersion)}: nodes cannot run configs made for a Talos they do not have yet; upgrade first`,
    });
  }
}
