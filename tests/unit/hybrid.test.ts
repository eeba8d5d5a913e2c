// Hybrid stacks (README, "Hybrid clusters"): LAN nodes beside Hetzner pools, each node's site and
// the etcd site-quorum rule (config/sites.ts), KubeSpan's settings and MTU (config/kubespan.ts),
// and the Hetzner layer that reaches the servers alone (components/hetzner/plan.ts).
import assert from "node:assert/strict";
import path from "node:path";
import YAML from "yaml";
import { hetznerHybridLayers, hetznerLayers, kubespanFirewallRule } from "../../components/hetzner/plan";
import { kubespanPatch } from "../../components/talos/patches";
import { hostedBy, infrastructureLayer, nodeLayers } from "../../components/talos/talos-cluster";
import { defaultKubespanMtu, kubespanSettings } from "../../config/kubespan";
import { patchSources } from "../../config/patch-sources";
import { parseStackConfig, projectConfig, StackConfigError } from "../../config/schema";
import { quorumOf, siteMembers } from "../../config/sites";
import { committedStackConfig } from "../support/stack-files";

const root = path.resolve(__dirname, "..", "..");
const TOKEN = "a".repeat(64);
const hybrid = () => parseStackConfig(projectConfig(committedStackConfig("hybrid")));

/** The committed hybrid stack as objects, with `change` applied, parsed: the problems, or [] when valid. */
function problems(change: (raw: Record<string, any>) => void): string[] {
  const flat = committedStackConfig("hybrid");
  const raw: Record<string, any> = { ...projectConfig(flat), hcloudToken: TOKEN };
  change(raw);
  try {
    parseStackConfig(raw);
    return [];
  } catch (err) {
    if (!(err instanceof StackConfigError)) throw err;
    return [...err.issues];
  }
}

describe("hybrid stacks: LAN nodes and Hetzner Cloud pools in one cluster", () => {
  it("the committed hybrid stack derives its cloud servers first, then the LAN nodes, with KubeSpan on at 1400 - 80 (the dedicated server's vSwitch MTU is the smallest)", () => {
    const config = hybrid();
    assert.deepEqual(
      config.nodes.map((n) => [n.name, n.role, n.platform, n.address]),
      [
        ["hybrid-cp-fsn1-1", "controlplane", "hetzner-cloud", "10.0.1.11"],
        ["hybrid-cp-nbg1-1", "controlplane", "hetzner-cloud", "10.0.1.61"],
        ["hybrid-worker-1", "worker", "hetzner-cloud", "10.0.1.111"],
        ["hybrid-worker-2", "worker", "hetzner-cloud", "10.0.1.112"],
        ["metal-worker-1", "worker", "hetzner-dedicated", "198.51.100.20"],
        ["lan-cp-1", "controlplane", "bare-metal", "192.168.10.11"],
        ["lan-worker-1", "worker", "bare-metal", "192.168.10.21"],
      ],
    );
    assert.deepEqual(config.cluster.kubespan, { advertiseKubernetesNetworks: true, mtu: 1320 });
    assert.equal(config.cluster.endpoint, undefined, "the load balancer provides it");
    assert.equal(config.addons.hcloudCcm.enabled, false, "off by default in a hybrid stack");
  });

  it("every node has a site: nodes[].site (default lan), a pool's location (or hetzner.location), a dedicated server's site (default hetzner-dedicated)", () => {
    const raw = { ...projectConfig(committedStackConfig("hybrid")) };
    assert.deepEqual(
      siteMembers(raw).map((m) => [m.name, m.role, m.site, m.address, m.sitePath.join(".")]),
      [
        ["lan-cp-1", "controlplane", "lan", "192.168.10.11", "nodes.0.site"],
        ["lan-worker-1", "worker", "lan", "192.168.10.21", "nodes.1.site"],
        ["hybrid-cp-fsn1-1", "controlplane", "hetzner-fsn1", "10.0.1.11", "hetzner.location"],
        ["hybrid-cp-nbg1-1", "controlplane", "hetzner-nbg1", "10.0.1.61", "hetzner.pools.1.location"],
        ["hybrid-worker-1", "worker", "hetzner-fsn1", "10.0.1.111", "hetzner.location"],
        ["hybrid-worker-2", "worker", "hetzner-fsn1", "10.0.1.112", "hetzner.location"],
        ["metal-worker-1", "worker", "hetzner-dedicated", "198.51.100.20", "hetzner.dedicated.0.site"],
      ],
    );
    assert.deepEqual([1, 2, 3, 4, 5, 7].map(quorumOf), [1, 2, 2, 3, 3, 4]);
  });

  it("refuses a layout where losing one site loses etcd's quorum, naming the site, its control planes and what is left", () => {
    // both cloud control planes in fsn1: losing it leaves the LAN's one of 3
    assert.deepEqual(
      problems((raw) => delete raw.hetzner.pools[1].location),
      [
        `talos-cluster:hetzner.location: losing site "hetzner-fsn1" (control planes hybrid-cp-fsn1-1, hybrid-cp-nbg1-1) leaves 1 of 3 control planes, fewer than etcd's quorum of 2, and the cluster would stop; place them so that no site holds more than 1 (at least 3 sites), or set talos-cluster:cluster.acceptSiteLoss: true to accept it`,
      ],
    );
    // the LAN control plane moved to a second LAN site changes nothing; to the nbg1 site name, it does
    assert.deepEqual(problems((raw) => (raw.nodes[0].site = "office")), []);
    assert.deepEqual(
      problems((raw) => (raw.nodes[0].site = "hetzner-nbg1")),
      [
        `talos-cluster:nodes[0].site: losing site "hetzner-nbg1" (control planes lan-cp-1, hybrid-cp-nbg1-1) leaves 1 of 3 control planes, fewer than etcd's quorum of 2, and the cluster would stop; place them so that no site holds more than 1 (at least 3 sites), or set talos-cluster:cluster.acceptSiteLoss: true to accept it`,
      ],
    );
  });

  it("one control plane on two sites cannot survive either; acceptSiteLoss accepts it", () => {
    const oneCp = (raw: Record<string, any>) => {
      raw.hetzner.pools = raw.hetzner.pools.filter((p: { role: string }) => p.role === "worker");
    };
    assert.deepEqual(problems(oneCp), [
      `talos-cluster:nodes[0].site: losing site "lan" (control plane lan-cp-1) leaves 0 of 1 control planes, fewer than etcd's quorum of 1, and the cluster would stop; 1 control plane cannot survive the loss of any site: use 3 on 3 sites (or 5, at most 2 a site), or set talos-cluster:cluster.acceptSiteLoss: true to accept it`,
    ]);
    assert.deepEqual(
      problems((raw) => {
        oneCp(raw);
        raw.cluster.acceptSiteLoss = true;
      }),
      [],
    );
  });

  it("leaves single-site stacks alone, whatever their control planes", () => {
    // the committed LAN stacks (one site each) and a one-location Hetzner stack parse
    for (const stack of ["homelab", "deepthought", "hetzner"]) assert.doesNotThrow(() => parseStackConfig(projectConfig(committedStackConfig(stack))), stack);
    // three LAN control planes, all on the default site
    const cp = (n: number) => ({ name: `cp-${n}`, role: "controlplane", platform: "bare-metal", address: `10.0.1.${50 + n}` });
    assert.doesNotThrow(() => parseStackConfig({ cluster: { name: "tales", endpoint: "https://api.example.com:6443" }, nodes: [cp(1), cp(2), cp(3)] }));
  });

  it("KubeSpan: on by default only in a hybrid stack; its MTU the smallest underlying network less 80", () => {
    assert.equal(defaultKubespanMtu(["bare-metal"]), 1420, "Talos's own default, for a 1500 network");
    assert.equal(defaultKubespanMtu(["bare-metal", "hetzner-cloud"]), 1370);
    assert.equal(defaultKubespanMtu(["synology-vm", "bare-metal"]), 1420);
    assert.equal(defaultKubespanMtu(["bare-metal", "hetzner-cloud", "hetzner-dedicated"]), 1320, "a vSwitch VLAN carries 1400");
    assert.equal(kubespanSettings(undefined, ["synology-vm", "bare-metal"], false), undefined, "two LAN platforms are no hybrid stack");
    assert.deepEqual(kubespanSettings({ advertiseKubernetesNetworks: true }, ["bare-metal", "hetzner-cloud"], true), { advertiseKubernetesNetworks: true, mtu: 1370 });
    assert.deepEqual(kubespanSettings({ enabled: true, advertiseKubernetesNetworks: false, mtu: 1320 }, ["bare-metal"], false), { advertiseKubernetesNetworks: false, mtu: 1320 });
    assert.deepEqual(kubespanPatch({ advertiseKubernetesNetworks: true, mtu: 1370 }), {
      machine: { network: { kubespan: { enabled: true, advertiseKubernetesNetworks: true, mtu: 1370 } } },
      cluster: { discovery: { enabled: true } },
    });
    // a LAN stack may switch it on too; its nodes then get the patch, at 1420
    const lan = parseStackConfig({ cluster: { name: "tales", kubespan: { enabled: true } }, nodes: [{ name: "cp-1", role: "controlplane", platform: "bare-metal", address: "10.0.1.50" }] });
    assert.deepEqual(lan.cluster.kubespan, { advertiseKubernetesNetworks: true, mtu: 1420 });
  });

  it("the Hetzner patches reach the servers alone in a hybrid stack, as one layer per role; the SANs every node", () => {
    const config = hybrid();
    const own = hetznerHybridLayers(config.hetzner!);
    const luks2 = { provider: "luks2", keys: [{ nodeID: {}, slot: 0 }] };
    assert.deepEqual(own, {
      worker: { machine: { kubelet: { nodeIP: { validSubnets: ["10.0.1.0/24"] } }, systemDiskEncryption: { state: luks2, ephemeral: luks2 } } },
      controlplane: {
        machine: { kubelet: { nodeIP: { validSubnets: ["10.0.1.0/24"] } }, systemDiskEncryption: { state: luks2, ephemeral: luks2 } },
        cluster: { etcd: { advertisedSubnets: ["10.0.1.0/24"] } },
      },
    });
    const layers = hetznerLayers(config.hetzner!, { cloudController: false, hybrid: true }, "SANS");
    assert.deepEqual(layers.patches, ["SANS"]);
    assert.deepEqual(layers.controlplanePatches, []);
    assert.deepEqual(YAML.parse(layers.platform!.patches.controlplane), own.controlplane);
    // a Hetzner-only stack keeps every patch cluster-wide, as before
    const alone = hetznerLayers(config.hetzner!, { cloudController: false, hybrid: false }, "SANS");
    assert.equal(alone.platform, undefined);
    assert.equal(alone.patches.length, 3);

    const infra = { platform: layers.platform };
    const [cloudCp, , , , lanCp] = config.nodes;
    assert.deepEqual([hostedBy(infra, cloudCp!), hostedBy(infra, lanCp!), hostedBy({ platform: undefined }, lanCp!), hostedBy(undefined, cloudCp!)], [true, false, true, false]);
    assert.deepEqual(infrastructureLayer(infra, cloudCp!), [layers.platform!.patches.controlplane]);
    assert.deepEqual(infrastructureLayer(infra, lanCp!), []);
    const files = { all: [], controlplane: [], worker: [], platform: {}, node: {} };
    assert.equal(nodeLayers(cloudCp!, files, infrastructureLayer(infra, cloudCp!))[0], layers.platform!.patches.controlplane);
    assert.equal(nodeLayers(lanCp!, files, infrastructureLayer(infra, lanCp!)).length, 1, "its own derived patch alone");
  });

  it("names each node's layers for Talos's verdicts, the servers' own layer first", () => {
    const sources = patchSources(root, hybrid());
    assert.deepEqual(sources.nodeLayers["hybrid-cp-fsn1-1"], [
      "the Hetzner platform patches (the servers' own layer in a hybrid stack)",
      "the node's derived patch (talos-cluster:hetzner.pools)",
      "the node's image patch (its installer and schematic kernel args, talos-cluster:imageFactory and every layer's machine.install.extraKernelArgs)",
    ]);
    assert.deepEqual(sources.nodeLayers["lan-worker-1"], [
      "patches/platform/bare-metal/10-disks.yaml",
      "the node's derived patch (talos-cluster:nodes[1])",
      "the node's image patch (its installer and schematic kernel args, talos-cluster:imageFactory and every layer's machine.install.extraKernelArgs)",
    ]);
    assert.deepEqual(sources.base.controlplane.slice(0, 2), ["the cluster's derived patches (talos-cluster:cluster)", "the Hetzner load balancer's certificate names"]);
    assert.ok(!sources.base.controlplane.includes("the Hetzner control-plane patches"));
  });

  it("the firewall admits KubeSpan's WireGuard from LAN nodes behind NAT", () => {
    assert.deepEqual(kubespanFirewallRule(), { direction: "in", protocol: "udp", port: "51820", sourceIps: ["0.0.0.0/0", "::/0"], description: "KubeSpan (WireGuard) from LAN nodes" });
  });
});
