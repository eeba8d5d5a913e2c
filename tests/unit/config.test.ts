import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import pins from "../../toolchain/versions.json";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, projectConfig } from "../../config/schema";
import { runProgram } from "../support/mocks";
import { readStackFile } from "../support/stack-files";
import { testSecretsBundle } from "../support/test-pki";

const root = path.resolve(__dirname, "..", "..");
const fixtures = path.join(root, "tests", "fixtures");
const parseFile = (file: string) => parseStackConfig(projectConfig(readStackFile(file).allConfig));

/** The program refuses `allConfig` with exactly the `expected` lines (any order) and registers and calls nothing. */
async function assertRefused(allConfig: Record<string, string>, expected: readonly string[]): Promise<void> {
  const run = await runProgram(allConfig, "invalid");
  assert.ok(run.error instanceof pulumi.RunError, `expected a RunError, got ${String(run.error)}`);
  const lines = run.error.message.split("\n");
  assert.equal(lines[0], `invalid stack configuration (${expected.length} problem${expected.length === 1 ? "" : "s"}):`);
  assert.deepEqual(lines.slice(1).map((l) => l.replace(/^  - /, "")).sort(), [...expected].sort());
  assert.deepEqual(run.recorder.resources, []);
  assert.deepEqual(run.recorder.invokes, []);
}

describe("stack config", () => {
  it("derives every default for a minimal cluster", () => {
    assert.deepEqual(parseFile(path.join(fixtures, "valid", "minimal.yaml")), {
      cluster: {
        name: "tales",
        endpoint: "https://10.0.1.50:6443",
        talosVersion: pins.cluster.talosVersion,
        kubernetesVersion: pins.cluster.kubernetesVersion,
        podCidr: "10.244.0.0/16",
        serviceCidr: "10.96.0.0/12",
        cni: "cilium",
        allowSchedulingOnControlPlanes: true,
        acceptSiteLoss: false,
        allowEvenControlPlanes: false,
        allowLoopbackAddresses: false,
        applyNodes: true,
        protectSecrets: true,
        kubeletReservations: { systemMemory: "512Mi", kubeMemory: "512Mi", evictionMemory: "256Mi" },
        talosApiTimeout: "10m",
        rollout: { maxUnavailableWorkers: 1 },
        onDestroy: { graceful: true, reset: true, reboot: false },
        removeUnreachable: [],
      },
      ci: { enabled: true, runsOn: "ubuntu-latest" },
      hcloudToken: undefined,
      synologyPassword: undefined,
      robotUser: undefined,
      robotPassword: undefined,
      imageFactory: { url: "https://factory.talos.dev", register: true, extensions: [], extraKernelArgs: [] },
      addons: {
        chartSource: { type: "repository" },
        prometheusOperatorCrds: { enabled: true },
        cilium: { enabled: true, values: {} },
        loadBalancer: { addresses: [] },
        // not a Hetzner stack: off
        hcloudCcm: { enabled: false, values: {} },
        gatewayApi: { enabled: false },
        rookCeph: { enabled: false, blockPool: true, operatorValues: {}, clusterValues: {} },
        linkerd: { enabled: false, trustAnchorValidityHours: 87600, issuerValidityHours: 8760, values: {} },
        linkerdViz: { enabled: false, values: {} },
        gateway: { enabled: false, controller: "contour", name: "gateway", namespace: "gateway", listeners: [{ name: "http", port: 80, protocol: "HTTP" }] },
        postInstallChecks: { linkerd: true, cilium: true },
      },
      nodes: [
        {
          name: "cp-1",
          role: "controlplane",
          platform: "bare-metal",
          address: "10.0.1.50",
          installDisk: "/dev/sda",
          dataDisks: [],
          wipeDisks: [],
          network: undefined,
          labels: {},
          taints: {},
          patches: [],
        },
      ],
    });
  });

  it("keeps every explicit value and adds the guest agent for Synology VMs", () => {
    const config = parseFile(path.join(fixtures, "valid", "explicit.yaml"));
    assert.deepEqual(config.cluster, {
      name: "deepthought",
      endpoint: "https://cluster.example.internal:443",
      talosVersion: "v1.10.2",
      kubernetesVersion: "1.32.4",
      podCidr: "172.20.0.0/16",
      serviceCidr: "172.21.0.0/16",
      cni: "flannel",
      allowSchedulingOnControlPlanes: true,
      acceptSiteLoss: false,
      allowEvenControlPlanes: true,
      allowLoopbackAddresses: false,
      applyNodes: false,
      protectSecrets: false,
      kubeletReservations: { systemMemory: "1Gi", kubeMemory: "768Mi", evictionMemory: "300Mi" },
      talosApiTimeout: "90s",
      onDestroy: { graceful: false, reset: true, reboot: true },
      configContract: "v1.10",
      rollout: { maxUnavailableWorkers: 3 },
      vip: { address: "192.168.1.40", interface: "eth0" },
      removeUnreachable: ["old-worker-9"],
    });
    assert.deepEqual(config.ci, { enabled: true, runsOn: ["self-hosted", "lan"] });
    assert.deepEqual(config.imageFactory, {
      url: "https://factory.example.internal",
      register: false,
      extensions: ["siderolabs/iscsi-tools", "siderolabs/qemu-guest-agent", "siderolabs/util-linux-tools"],
      extraKernelArgs: ["net.ifnames=0"],
    });
    assert.deepEqual(config.addons, {
      chartSource: { type: "repository" },
      prometheusOperatorCrds: { enabled: false },
      cilium: { enabled: false, values: {} },
      loadBalancer: { addresses: [] },
      hcloudCcm: { enabled: false, values: {} },
      gatewayApi: { enabled: true },
      rookCeph: { enabled: true, blockPool: false, operatorValues: { monitoring: { enabled: true } }, clusterValues: { toolbox: { enabled: false } } },
      linkerd: { enabled: true, trustAnchorValidityHours: 1000, issuerValidityHours: 100, values: { controllerReplicas: 2 } },
      linkerdViz: { enabled: false, values: {} },
      gateway: { enabled: false, controller: "contour", name: "gateway", namespace: "gateway", listeners: [{ name: "http", port: 80, protocol: "HTTP" }] },
      postInstallChecks: { linkerd: true, cilium: true },
    });
    assert.deepEqual(config.nodes[0], {
      name: "cp-1",
      role: "controlplane",
      platform: "bare-metal",
      address: "192.168.1.32",
      installDisk: "/dev/nvme0n1",
      // {path, wipe: false} keeps its data; a plain path is wiped once when new to the stack
      dataDisks: ["/dev/sda", "/dev/sdb"],
      wipeDisks: ["/dev/sda"],
      network: { interface: "eth0", addresses: ["192.168.1.32/24"], gateway: "192.168.1.1", nameservers: ["1.1.1.1"] },
      labels: { "topology.kubernetes.io/zone": "rack-1" },
      taints: { dedicated: "storage:NoSchedule" },
      patches: ["tests/fixtures/patches/extra.yaml"],
    });
  });

  it("keeps an existing cluster on Talos 1.11 that names its contract; a new stack must start on 1.12 (invalid/talos-version-new-stack-too-old.yaml)", () => {
    const config = parseFile(path.join(fixtures, "valid", "existing-1.11-cluster.yaml"));
    assert.deepEqual([config.cluster.talosVersion, config.cluster.configContract, config.cluster.kubernetesVersion], ["v1.11.6", "v1.11.6", "1.34.1"]);
  });

  it("ignores other namespaces' keys except the Hetzner token, and keeps plain strings as strings", () => {
    const raw = projectConfig({ "pulumi:tags": '{"a":"b"}', "hcloud:token": "x", "talos-cluster:cluster": '{"name":"a"}', "talos-cluster:secretsYaml": "cluster: {}" });
    assert.deepEqual(raw, { hcloudToken: "x", cluster: { name: "a" }, secretsYaml: "cluster: {}" });
  });

  for (const stack of ["homelab", "deepthought"]) {
    it(`accepts the committed ${stack} stack`, () => {
      const config = parseFile(path.join(root, `Pulumi.${stack}.yaml`));
      assert.ok(config.nodes.length > 0);
    });
  }

  it("accepts the committed hetzner stack and derives its servers from the pools", () => {
    // the token is an encrypted secret in the stack file; any well-formed token stands in here
    const { allConfig } = readStackFile(path.join(root, "Pulumi.hetzner.yaml"));
    const config = parseStackConfig(projectConfig({ ...allConfig, "hcloud:token": "a".repeat(64) }));
    assert.equal(config.cluster.endpoint, undefined, "the load balancer provides it");
    assert.deepEqual(
      config.nodes.map((n) => [n.name, n.role, n.address, n.platform]),
      [
        ["oxide-cp-1", "controlplane", "10.0.1.11", "hetzner-cloud"],
        ["oxide-cp-2", "controlplane", "10.0.1.12", "hetzner-cloud"],
        ["oxide-cp-3", "controlplane", "10.0.1.13", "hetzner-cloud"],
        ["oxide-worker-1", "worker", "10.0.1.61", "hetzner-cloud"],
        ["oxide-worker-2", "worker", "10.0.1.62", "hetzner-cloud"],
      ],
    );
  });

  describe("the endpoint of a cluster with several control planes", () => {
    const cp = (n: number, network?: object) => ({ name: `cp-${n}`, role: "controlplane", platform: "bare-metal", address: `10.0.1.${49 + n}`, ...(network ? { network } : {}) });
    const three = [cp(1), cp(2), cp(3)];

    it("a VIP becomes the default endpoint, on the link it names", () => {
      const config = parseStackConfig({ cluster: { name: "tales", vip: { address: "10.0.1.40", interface: "eth1" } }, nodes: three });
      assert.equal(config.cluster.endpoint, "https://10.0.1.40:6443");
      assert.deepEqual(config.cluster.vip, { address: "10.0.1.40", interface: "eth1" });
    });

    it("a VIP without a link takes the control planes' common static interface", () => {
      const nodes = [1, 2, 3].map((n) => cp(n, { interface: "enp1s0", addresses: [`10.0.1.${49 + n}/24`], gateway: "10.0.1.1" }));
      const config = parseStackConfig({ cluster: { name: "tales", vip: { address: "10.0.1.40" } }, nodes });
      assert.deepEqual(config.cluster.vip, { address: "10.0.1.40", interface: "enp1s0" });
    });

    it("a selected link stays as selected", () => {
      const config = parseStackConfig({ cluster: { name: "tales", vip: { address: "10.0.1.40", deviceSelector: { hardwareAddr: "02:11:32:*", physical: true } } }, nodes: three });
      assert.deepEqual(config.cluster.vip, { address: "10.0.1.40", deviceSelector: { hardwareAddr: "02:11:32:*", physical: true } });
    });

    it("an explicit endpoint wins over the VIP; a DNS name is accepted with any number of control planes", () => {
      const config = parseStackConfig({ cluster: { name: "tales", endpoint: "https://api.tales.lan:6443", vip: { address: "10.0.1.40", interface: "eth0" } }, nodes: three });
      assert.equal(config.cluster.endpoint, "https://api.tales.lan:6443");
      assert.equal(parseStackConfig({ cluster: { name: "tales", endpoint: "https://api.tales.lan:6443" }, nodes: three }).cluster.endpoint, "https://api.tales.lan:6443");
    });

    it("a single control plane keeps the first control plane as its default endpoint", () => {
      assert.equal(parseStackConfig({ cluster: { name: "tales" }, nodes: [cp(1)] }).cluster.endpoint, "https://10.0.1.50:6443");
      assert.equal(parseStackConfig({ cluster: { name: "tales", endpoint: "https://10.0.1.50:6443" }, nodes: [cp(1)] }).cluster.endpoint, "https://10.0.1.50:6443");
    });

    it("removeUnreachable accepts names the stack no longer has", () => {
      assert.deepEqual(parseStackConfig({ cluster: { name: "tales", removeUnreachable: ["cp-4"] }, nodes: [cp(1)] }).cluster.removeUnreachable, ["cp-4"]);
    });
  });

  it("accepts what the rules' opt-ins allow, and only with them", () => {
    const { allConfig } = readStackFile(path.join(root, "Pulumi.hetzner.yaml"));
    const open = (allow: boolean) => {
      const hetzner = { ...JSON.parse(allConfig["talos-cluster:hetzner"]!), adminCidrs: ["0.0.0.0/0"], ...(allow ? { allowAdminFromInternet: true } : {}) };
      return () => parseStackConfig(projectConfig({ ...allConfig, "hcloud:token": "a".repeat(64), "talos-cluster:hetzner": JSON.stringify(hetzner) }));
    };
    assert.deepEqual(open(true)().hetzner!.adminCidrs, ["0.0.0.0/0"]);
    assert.throws(open(false), /hetzner\.adminCidrs: 0\.0\.0\.0\/0 opens the Talos API/);
    const loopback = (allow: boolean) => () =>
      parseStackConfig({ cluster: { name: "local", allowLoopbackAddresses: allow }, nodes: [{ name: "cp-1", role: "controlplane", platform: "bare-metal", address: "127.0.0.11" }] });
    assert.equal(loopback(true)().cluster.endpoint, "https://127.0.0.11:6443");
    assert.throws(loopback(false), /nodes\[0\]\.address: 127\.0\.0\.11 is a loopback address/);
  });

  describe("invalid fixtures: every problem with its path, and nothing registered", () => {
    const dir = path.join(fixtures, "invalid");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

    it("has at least fifteen invalid fixtures, each with expectations", () => {
      assert.ok(files.length >= 15, `only ${files.length} fixtures`);
      for (const f of files) assert.ok(readStackFile(path.join(dir, f)).expected.length > 0, `${f} has no '# expect:' line`);
    });

    for (const file of files) {
      it(file, async () => {
        const { allConfig, expected } = readStackFile(path.join(dir, file));
        await assertRefused(allConfig, expected);
      });
    }

    // The one invalid case that is no fixture: its bundle needs private keys, made at run time.
    it("secrets-certificates (bundle generated at run time)", async () => {
      const bundle = testSecretsBundle({
        certs: {
          etcd: { notAfter: new Date("2021-01-01T00:00:00Z") },
          k8s: { foreignKey: true },
          k8saggregator: { ca: false },
          os: { notBefore: new Date("9000-01-01T00:00:00Z") },
        },
        serviceAccountKey: Buffer.from("not a key").toString("base64"),
      });
      const allConfig = {
        "talos-cluster:cluster": JSON.stringify({ name: "tales", configContract: "v1.10" }),
        "talos-cluster:nodes": JSON.stringify([{ name: "cp-1", role: "controlplane", platform: "bare-metal", address: "10.0.1.50" }]),
        "talos-cluster:secretsYaml": bundle,
      };
      await assertRefused(allConfig, [
        "talos-cluster:secretsYaml: certs.etcd.crt expired on 2021-01-01T00:00:00.000Z",
        "talos-cluster:secretsYaml: certs.k8s.key does not belong to certs.k8s.crt",
        "talos-cluster:secretsYaml: certs.k8saggregator.crt is not a CA certificate",
        "talos-cluster:secretsYaml: certs.os.crt is not valid before 9000-01-01T00:00:00.000Z",
        "talos-cluster:secretsYaml: certs.k8sserviceaccount.key is not a base64-encoded PEM private key",
      ]);
    });

    it("the same stack with a good generated bundle parses", () => {
      const allConfig = {
        "talos-cluster:cluster": JSON.stringify({ name: "tales", configContract: "v1.10" }),
        "talos-cluster:nodes": JSON.stringify([{ name: "cp-1", role: "controlplane", platform: "bare-metal", address: "10.0.1.50" }]),
        "talos-cluster:secretsYaml": testSecretsBundle(),
      };
      assert.equal(parseStackConfig(projectConfig(allConfig)).secretsYaml, allConfig["talos-cluster:secretsYaml"]);
    });
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
