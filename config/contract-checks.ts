// The config contract against the rest of the stack config (README "Operations": the contract).
import type { z } from "zod";
import pins from "../toolchain/versions.json";
import { OLDEST_NEW_STACK_MINOR, TALOS_MINORS } from "./versions";

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
  // A new stack starts on a supported minor; an older one is a cluster created earlier, which names its contract.
  const accepted = typeof cluster.talosVersion === "string" && /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.test(cluster.talosVersion) ? minorOf(cluster.talosVersion) : undefined;
  const [, oldest] = OLDEST_NEW_STACK_MINOR.split(".").map(Number) as [number, number];
  if (accepted && TALOS_MINORS.includes(`${accepted[0]}.${accepted[1]}`) && accepted[1] < oldest && contract === undefined && root.secretsYaml === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["cluster", "talosVersion"],
      message: `${String(cluster.talosVersion)} is older than Talos ${OLDEST_NEW_STACK_MINOR}, the oldest a new stack may start on (${TALOS_MINORS.filter((m) => Number(m.split(".")[1]) < oldest).join(" and ")} no longer get community support): use v${OLDEST_NEW_STACK_MINOR}.0 or newer, or, for a cluster created on it earlier, set cluster.configContract to its stack's configContract output`,
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
