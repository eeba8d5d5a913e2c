// The Hetzner Cloud platform under mocks (seeds 002/004): network, firewall, load balancer,
// servers, the patches they need, and what scaling a pool down removes.
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { hcloudId, Recorder, runProgram, runValidProgram, valueOf } from "../support/mocks";
import { hetznerStackConfig, TEST_HCLOUD_TOKEN as TOKEN } from "../support/stack-files";

const LB_IP = "198.51.100.10";

const hetznerConfig = hetznerStackConfig;

const inputsOf = (recorder: Recorder, name: string, type?: string) => {
  const found = recorder.resources.filter((r) => r.name === name && (!type || r.type === type));
  assert.equal(found.length, 1, `${name} ${type ?? ""}`);
  return found[0]!;
};

describe("Hetzner Cloud: the oxide stack (3 control planes + 2 workers)", () => {
  let recorder: Recorder;
  let exports: Record<string, unknown>;

  before(async () => {
    const run = await runValidProgram(hetznerConfig(), "hetzner");
    recorder = run.recorder;
    exports = run.exports as Record<string, unknown>;
  });

  it("passes the token only to an explicit, secret hcloud provider", () => {
    const provider = recorder.named("oxide-hetzner-hcloud");
    assert.deepEqual(provider.inputs, { token: TOKEN });
    assert.deepEqual(provider.secretInputs, ["token"]);
    for (const r of recorder.resources.filter((r) => r.type.startsWith("hcloud:"))) assert.ok(r.provider.startsWith(`${provider.urn}::`), r.name);
  });

  it("creates the private network and subnet", () => {
    assert.deepEqual(recorder.named("oxide-hetzner-network").inputs, { ipRange: "10.0.0.0/16", labels: { "talos-cluster/cluster": "oxide" } });
    assert.deepEqual(recorder.named("oxide-hetzner-subnet").inputs, {
      networkId: hcloudId("oxide-hetzner-network"),
      type: "cloud",
      networkZone: "eu-central",
      ipRange: "10.0.1.0/24",
    });
  });

  it("opens exactly the two APIs, to the admin networks only", () => {
    const firewall = recorder.named("oxide-hetzner-firewall").inputs;
    assert.deepEqual(firewall, {
      labels: { "talos-cluster/cluster": "oxide" },
      rules: [
        { direction: "in", protocol: "tcp", port: "50000", sourceIps: ["203.0.113.0/24"], description: "Talos API from admin networks" },
        { direction: "in", protocol: "tcp", port: "6443", sourceIps: ["203.0.113.0/24"], description: "Kubernetes API from admin networks" },
      ],
      applyTos: [{ labelSelector: "talos-cluster/cluster=oxide" }],
    });
    assert.doesNotMatch(JSON.stringify(firewall), /0\.0\.0\.0\/0/);
  });

  it("spreads each role over its own placement group", () => {
    assert.deepEqual(recorder.named("oxide-hetzner-controlplane").inputs, { type: "spread", labels: { "talos-cluster/cluster": "oxide", "talos-cluster/role": "controlplane" } });
    assert.deepEqual(recorder.named("oxide-hetzner-worker").inputs, { type: "spread", labels: { "talos-cluster/cluster": "oxide", "talos-cluster/role": "worker" } });
  });

  it("puts a load balancer for both APIs in front of the control planes, over the private network", () => {
    assert.deepEqual(recorder.named("oxide-hetzner-api").inputs, { loadBalancerType: "lb11", location: "fsn1", labels: { "talos-cluster/cluster": "oxide" } });
    assert.deepEqual(recorder.named("oxide-hetzner-api-network").inputs, {
      loadBalancerId: hcloudId("oxide-hetzner-api"),
      subnetId: String(hcloudId("oxide-hetzner-subnet")),
      ip: "10.0.1.2",
    });
    for (const port of [6443, 50000]) {
      assert.deepEqual(recorder.named(`oxide-hetzner-api-${port}`).inputs, {
        loadBalancerId: String(hcloudId("oxide-hetzner-api")),
        protocol: "tcp",
        listenPort: port,
        destinationPort: port,
        healthCheck: { protocol: "tcp", port, interval: 10, timeout: 5, retries: 3 },
      });
    }
    const targets = recorder.named("oxide-hetzner-api-targets");
    assert.deepEqual(targets.inputs, {
      type: "label_selector",
      loadBalancerId: hcloudId("oxide-hetzner-api"),
      labelSelector: "talos-cluster/cluster=oxide,talos-cluster/role=controlplane",
      usePrivateIp: true,
    });
  });

  it("derives the cluster endpoint from the load balancer", async () => {
    assert.equal(await valueOf(exports.endpoint as pulumi.Output<string>), `https://${LB_IP}:6443`);
    for (const call of recorder.invokesOf("talos:machine/getConfiguration:getConfiguration")) {
      assert.equal(call.inputs.clusterEndpoint, `https://${LB_IP}:6443`);
    }
  });

  it("creates one server per node from the snapshot, with a stable private IP and its config as secret user data", () => {
    const servers = recorder.ofType("hcloud:index/server:Server");
    assert.deepEqual(servers.map((s) => s.name), ["oxide-cp-1", "oxide-cp-2", "oxide-cp-3", "oxide-worker-1", "oxide-worker-2"]);
    const cp1 = inputsOf(recorder, "oxide-cp-1", "hcloud:index/server:Server");
    const { userData, ...rest } = cp1.inputs as Record<string, unknown>;
    assert.deepEqual(rest, {
      name: "oxide-cp-1",
      serverType: "cpx21",
      image: String(hcloudId("oxide-hetzner-talos-amd64")),
      location: "fsn1",
      placementGroupId: hcloudId("oxide-hetzner-controlplane"),
      labels: { "talos-cluster/cluster": "oxide", "talos-cluster/role": "controlplane", "talos-cluster/pool": "cp" },
      networks: [{ networkId: hcloudId("oxide-hetzner-network"), ip: "10.0.1.11" }],
      publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
    });
    assert.match(String(userData), /^rendered controlplane config/);
    assert.deepEqual(cp1.secretInputs, ["userData"]);
    assert.deepEqual(cp1.ignoreChanges, ["userData", "image"]);
    assert.ok(cp1.dependencies.includes(recorder.named("oxide-hetzner-subnet").urn));
    const worker2 = inputsOf(recorder, "oxide-worker-2", "hcloud:index/server:Server").inputs as Record<string, any>;
    assert.deepEqual([worker2.serverType, worker2.networks[0].ip, worker2.placementGroupId], ["cpx31", "10.0.1.62", hcloudId("oxide-hetzner-worker")]);
  });

  it("adds the Hetzner patches to every node's config: private network, LUKS2, the load balancer's address", () => {
    const render = recorder.invokesOf("talos:machine/getConfiguration:getConfiguration").find((c) => (c.inputs.configPatches as string[]).some((p) => p.includes("hostname: oxide-cp-1")))!;
    const patches = (render.inputs.configPatches as string[]).map((p) => YAML.parse(p));
    const luks2 = { provider: "luks2", keys: [{ nodeID: {}, slot: 0 }] };
    for (const expected of [
      { machine: { kubelet: { nodeIP: { validSubnets: ["10.0.1.0/24"] } } } },
      { cluster: { etcd: { advertisedSubnets: ["10.0.1.0/24"] } } },
      { machine: { systemDiskEncryption: { state: luks2, ephemeral: luks2 } } },
      { machine: { certSANs: [LB_IP] }, cluster: { apiServer: { certSANs: [LB_IP] } } },
    ]) {
      assert.ok(patches.some((p) => JSON.stringify(p) === JSON.stringify(expected)), JSON.stringify(expected));
    }
    assert.ok(!patches.some((p) => p.machine?.network?.kubespan), "KubeSpan is off in this stack");
  });

  it("keeps etcd settings out of the workers' configs (Talos refuses them there)", () => {
    const render = recorder.invokesOf("talos:machine/getConfiguration:getConfiguration").find((c) => (c.inputs.configPatches as string[]).some((p) => p.includes("hostname: oxide-worker-1")))!;
    assert.equal(render.inputs.machineType, "worker");
    assert.ok(!(render.inputs.configPatches as string[]).some((p) => p.includes("etcd")));
  });

  it("applies each node through the load balancer after its server exists", () => {
    const apply = inputsOf(recorder, "oxide-worker-1-apply");
    assert.equal((apply.inputs as any).node, "10.0.1.61");
    assert.equal((apply.inputs as any).endpoint, LB_IP);
    assert.ok(apply.dependencies.includes(inputsOf(recorder, "oxide-worker-1", "hcloud:index/server:Server").urn));
    const bootstrap = recorder.named("oxide-cluster-bootstrap").inputs as any;
    assert.deepEqual([bootstrap.node, bootstrap.endpoint], ["10.0.1.11", LB_IP]);
    const talosconfig = recorder.invokesOf("talos:client/getConfiguration:getConfiguration")[0]!;
    assert.deepEqual(talosconfig.inputs.endpoints, [LB_IP]);
  });

  it("keeps KubeSpan off unless asked, and adds it when enabled", async () => {
    const run = await runProgram(hetznerConfig((h) => (h.kubespan = true)), "kubespan");
    const render = run.recorder.invokesOf("talos:machine/getConfiguration:getConfiguration")[0]!;
    const patches = (render.inputs.configPatches as string[]).map((p) => YAML.parse(p));
    assert.ok(patches.some((p) => JSON.stringify(p) === JSON.stringify({ machine: { network: { kubespan: { enabled: true } } }, cluster: { discovery: { enabled: true } } })));
  });
});

describe("Hetzner Cloud: scaling a pool", () => {
  const names = (recorder: Recorder) => recorder.resources.map((r) => `${r.type}::${r.name}`).sort();

  it("lowering the workers from 3 to 2 removes only worker 3: the membership step takes it out before its apply and server go", async () => {
    const three = (await runProgram(hetznerConfig((h) => (h.pools[1].count = 3)), "scale")).recorder;
    const two = (await runProgram(hetznerConfig((h) => (h.pools[1].count = 2)), "scale")).recorder;
    const removed = names(three).filter((n) => !names(two).includes(n));
    assert.deepEqual(removed, [
      "command:local:Command::oxide-worker-3-kernel-args",
      "command:local:Command::oxide-worker-3-rollout",
      "command:local:Command::oxide-worker-3-upgrade",
      "hcloud:index/server:Server::oxide-worker-3",
      "talos-cluster:talos:Node::oxide-worker-3",
      "talos:machine/configurationApply:ConfigurationApply::oxide-worker-3-apply",
    ]);
    assert.deepEqual(names(two).filter((n) => !names(three).includes(n)), []);
    // Everything else that stays has the same inputs, so the engine changes nothing else; the
    // day-2 steps' health gates name every member, so they re-check the smaller cluster.
    const steps = (r: { type: string }) => r.type === "command:local:Command";
    for (const r of two.resources.filter((r) => r.type !== "talos:machine/configurationApply:ConfigurationApply" && !steps(r))) {
      const before = three.resources.find((b) => b.type === r.type && b.name === r.name)!;
      assert.deepEqual(r.inputs, before.inputs, r.name);
    }
    // the membership step's record lists the members (tests/unit/node-removal.test.ts)
    assert.doesNotMatch(String(two.named("oxide-nodes-members").inputs.update), /oxide-worker-3/);
    assert.match(String(three.named("oxide-nodes-members").inputs.update), /oxide-worker-3=10\.0\.1\.63=worker/);
    for (const r of two.resources.filter(steps).filter((r) => !r.name.endsWith("-talos-minors") && !r.name.endsWith("-nodes-members"))) {
      const before = three.resources.find((b) => b.type === r.type && b.name === r.name)!;
      assert.equal(String(r.inputs.update), String(before.inputs.update).replaceAll(",10.0.1.63", ""), r.name);
    }
    // the Talos minor steps (tests/unit/upgrades.test.ts) walk every node: worker 3 is gone from them
    const minors = String(two.named("oxide-upgrades-talos-minors").inputs.update);
    assert.doesNotMatch(minors, /10\.0\.1\.63/);
    assert.equal(minors.match(/ upgrade --image /g)!.length, String(three.named("oxide-upgrades-talos-minors").inputs.update).match(/ upgrade --image /g)!.length - 4);
    // The engine deletes dependents first: the apply (graceful reset, leaving etcd) before the server.
    const apply = three.named("oxide-worker-3-apply");
    assert.ok(apply.dependencies.includes(three.resources.find((r) => r.name === "oxide-worker-3" && r.type === "hcloud:index/server:Server")!.urn));
    assert.deepEqual((apply.inputs as any).onDestroy, { graceful: true, reset: true, reboot: false });
  });
});
