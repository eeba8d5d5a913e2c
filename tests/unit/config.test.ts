import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import pins from "../../toolchain/versions.json";
import { parseStackConfig, projectConfig, StackConfigError } from "../../config/schema";
import { readStackFile } from "../support/stack-files";

const root = path.resolve(__dirname, "..", "..");
const fixtures = path.join(root, "tests", "fixtures");
const parseFile = (file: string) => parseStackConfig(projectConfig(readStackFile(file).allConfig));

describe("stack config", () => {
  it("fills the defaults for a minimal cluster", () => {
    assert.deepEqual(parseFile(path.join(fixtures, "valid", "minimal.yaml")), {
      cluster: {
        name: "tales",
        endpoint: "https://10.0.1.50:6443",
        talosVersion: pins.cluster.talosVersion,
        kubernetesVersion: pins.cluster.kubernetesVersion,
        protectSecrets: true,
      },
    });
  });

  it("keeps every explicit value", () => {
    assert.deepEqual(parseFile(path.join(fixtures, "valid", "explicit.yaml")), {
      cluster: {
        name: "deepthought",
        endpoint: "https://cluster.example.internal:443",
        talosVersion: "v1.10.2",
        kubernetesVersion: "1.32.4",
        protectSecrets: false,
      },
    });
  });

  it("ignores other namespaces' keys", () => {
    const raw = projectConfig({ "pulumi:tags": '{"a":"b"}', "hcloud:token": "x", "talos-cluster:cluster": '{"name":"a"}' });
    assert.deepEqual(raw, { cluster: { name: "a" } });
  });

  for (const stack of ["homelab", "hetzner"]) {
    it(`accepts the committed ${stack} stack`, () => {
      const config = parseFile(path.join(root, `Pulumi.${stack}.yaml`));
      assert.match(config.cluster.endpoint, /^https:\/\/.+:\d+$/);
    });
  }

  describe("invalid fixtures are rejected with every problem and its path", () => {
    const dir = path.join(fixtures, "invalid");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

    it("has at least ten invalid fixtures, each with expectations", () => {
      assert.ok(files.length >= 10, `only ${files.length} fixtures`);
      for (const f of files) assert.ok(readStackFile(path.join(dir, f)).expected.length > 0, `${f} has no '# expect:' line`);
    });

    for (const file of files) {
      it(file, () => {
        const { allConfig, expected } = readStackFile(path.join(dir, file));
        assert.throws(
          () => parseStackConfig(projectConfig(allConfig)),
          (err: unknown) => {
            assert.ok(err instanceof StackConfigError);
            assert.deepEqual([...err.issues].join("\n").split("\n").sort(), [...expected].sort());
            assert.match(err.message, new RegExp(`^invalid stack configuration \\(${expected.length} problems?\\):`));
            return true;
          },
        );
      });
    }
  });
});

describe("toolchain pins", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

  it("package.json depends on exactly the pinned SDK versions", () => {
    assert.equal(pkg.dependencies["@pulumi/pulumi"], pins.pulumi.version);
    for (const provider of Object.values(pins.providers)) {
      const expected = "sdkDir" in provider && provider.sdkDir ? `file:${provider.sdkDir}` : provider.version;
      assert.equal(pkg.dependencies[provider.npm], expected, provider.npm);
    }
  });

  it("the CLI and @pulumi/pulumi are one version", () => {
    assert.equal(pins.pulumi.cli.version, pins.pulumi.version);
    assert.equal(pins.pulumi.cli.moduleVersion, `v${pins.pulumi.version}`);
    const installed = JSON.parse(fs.readFileSync(path.join(root, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8"));
    assert.equal(installed.version, pins.pulumi.version);
  });
});
