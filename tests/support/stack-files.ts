// Reads stack files (Pulumi.<stack>.yaml or a fixture in the same format) the way the program
// sees them: Pulumi hands structured values to the program as JSON text.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

export interface StackFile {
  /** The `config:` map, values as Pulumi delivers them to pulumi.runtime.allConfig(). */
  readonly allConfig: Record<string, string>;
  /** `# expect: ...` comment lines: the exact error lines an invalid fixture must produce. */
  readonly expected: string[];
}

/** Stand-ins for encrypted values a committed stack must have (the DSM password of homelab, the Hetzner token of hybrid). */
export const SECRET_STAND_INS: Readonly<Record<string, string>> = { "talos-cluster:synologyPassword": "test-dsm-password", "hcloud:token": "a".repeat(64), "talos-cluster:robotUser": "#ws+test", "talos-cluster:robotPassword": "test-robot-password" };

export function readStackFile(file: string): StackFile {
  const text = fs.readFileSync(file, "utf8");
  const config = (YAML.parse(text)?.config ?? {}) as Record<string, unknown>;
  const allConfig: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value && typeof value === "object" && "secure" in value) {
      // Encrypted: not needed here, except where the program refuses to run without it.
      if (SECRET_STAND_INS[key] !== undefined) allConfig[key] = SECRET_STAND_INS[key];
      continue;
    }
    allConfig[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]!);
  return { allConfig, expected };
}

/**
 * A committed stack's config as the program sees it, with some keys' objects shallow-merged
 * (e.g. `{ "talos-cluster:cluster": { applyNodes: false } }`).
 */
export function committedStackConfig(stack: string, patches: Record<string, Record<string, unknown>> = {}): Record<string, string> {
  const config = { ...readStackFile(path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`)).allConfig };
  for (const [key, patch] of Object.entries(patches)) {
    config[key] = JSON.stringify({ ...(config[key] ? JSON.parse(config[key]) : {}), ...patch });
  }
  return config;
}

/** A well-formed stand-in for the Hetzner token, which the committed stack holds encrypted. */
export const TEST_HCLOUD_TOKEN = "a".repeat(64);

/**
 * The committed hetzner stack's config with the stand-in token, its `talos-cluster:cluster`
 * shallow-merged with `cluster`, and its `talos-cluster:hetzner` object edited by `change`.
 */
export function hetznerStackConfig(change: (hetzner: any) => void = () => undefined, cluster: Record<string, unknown> = {}): Record<string, string> {
  const config: Record<string, string> = { ...committedStackConfig("hetzner", { "talos-cluster:cluster": cluster }), "hcloud:token": TEST_HCLOUD_TOKEN };
  const hetzner = JSON.parse(config["talos-cluster:hetzner"]!);
  change(hetzner);
  config["talos-cluster:hetzner"] = JSON.stringify(hetzner);
  return config;
}
