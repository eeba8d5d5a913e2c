// Every plugin setup built answers the engine, reports its pinned version, and serves every
// resource and function token its npm SDK can ask for.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pins from "../../toolchain/versions.json";
import { engineProject, EngineProject, installedPlugin, projectRoot } from "./harness";

/** Tokens the npm SDK's JavaScript registers or invokes. */
function sdkTokens(npm: string): string[] {
  const dir = path.join(projectRoot, "node_modules", npm);
  const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".js") && !f.startsWith("node_modules"));
  const tokens = new Set<string>();
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    for (const m of text.matchAll(/__pulumiType = '([^']+:[^']+:[^']+)'/g)) tokens.add(m[1]!);
    for (const m of text.matchAll(/invoke\("([^"]+:[^"]+:[^"]+)"/g)) tokens.add(m[1]!);
  }
  return [...tokens].sort();
}

// What each plugin must serve: every SDK token, except where the plugin is documented to cover less.
const expectedTokens: Record<string, (npm: string) => string[]> = {
  talos: () => ["talos:machine/secrets:Secrets", "talos:machine/configurationApply:ConfigurationApply", "talos:machine/bootstrap:Bootstrap", "talos:cluster/kubeconfig:Kubeconfig", "talos:imageFactory/schematic:Schematic", "talos:machine/getConfiguration:getConfiguration", "talos:client/getConfiguration:getConfiguration", "talos:cluster/getHealth:getHealth"],
  command: () => ["command:local:Command", "command:remote:Command"], // remote.CopyFile/CopyToRemote are not implemented (README, "Known limits")
  // helm:template, kustomize:directory and yaml:decode are invokes the provider handles without
  // listing them in its schema (upstream's schema does not list them either).
  kubernetes: (npm) => sdkTokens(npm).filter((t) => !/^kubernetes:(helm|kustomize|yaml):/.test(t)),
};

describe("engine: every built plugin serves its SDK", function () {
  this.timeout(120_000);
  let project: EngineProject;
  before(() => {
    project = engineProject();
  });
  after(() => project?.cleanup());

  for (const [name, spec] of Object.entries(pins.providers)) {
    it(`${spec.binary} ${spec.version}`, () => {
      const schema = JSON.parse(
        execFileSync(path.join(projectRoot, ".tools", "bin", "pulumi"), ["package", "get-schema", installedPlugin(spec)], {
          env: { ...process.env, ...project.env },
          encoding: "utf8",
          maxBuffer: 512 * 1024 * 1024,
        }),
      );
      assert.equal(schema.name, spec.plugin);
      const served = new Set([...Object.keys(schema.resources ?? {}), ...Object.keys(schema.functions ?? {})]);
      const wanted = (expectedTokens[name] ?? sdkTokens)(spec.npm);
      assert.ok(wanted.length > 0);
      assert.deepEqual(wanted.filter((t) => !served.has(t)), [], `${spec.npm} tokens the plugin does not serve`);
      // Bridged plugins answer -version; the others carry their version in the schema.
      const reported = schema.version ?? execFileSync(installedPlugin(spec), ["-version"], { encoding: "utf8" }).trim();
      assert.equal(reported.replace(/^v/, ""), spec.version);
    });
  }
});
