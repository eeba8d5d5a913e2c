// Hetzner dedicated servers: the Robot firewall rules and image URL (pure), the parsed config, and
// the component under mocks: what it registers, in which order (firewall and vSwitch before the
// rescue boot, the SSH steps after it, one after the other), and that the secrets stay secret.
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, Recorder, runValidProgram, settle } from "../support/mocks";
import { hetznerStackConfig } from "../support/stack-files";
import { maxAdminCidrs, robotFirewallRules } from "../../components/hetzner/robot-firewall";
import { metalImageUrl, serverLabel } from "../../components/hetzner/dedicated-servers";
import { nodePatch } from "../../components/talos/patches";
import { dedicatedNode } from "../../config/hetzner";
import { parseStackConfig } from "../../config/schema";

const SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

describe("dedicated servers: pure parts", () => {
  it("opens 22, 6443 and 50000 to each admin network only, then return traffic, ICMP and the vSwitch", () => {
    assert.deepEqual(robotFirewallRules(["203.0.113.0/24"], "10.0.2.0/24"), [
      { name: "admin 1 port 22", ipVersion: "ipv4", protocol: "tcp", srcIp: "203.0.113.0/24", dstPort: "22", action: "accept" },
      { name: "admin 1 port 6443", ipVersion: "ipv4", protocol: "tcp", srcIp: "203.0.113.0/24", dstPort: "6443", action: "accept" },
      { name: "admin 1 port 50000", ipVersion: "ipv4", protocol: "tcp", srcIp: "203.0.113.0/24", dstPort: "50000", action: "accept" },
      { name: "tcp return traffic", ipVersion: "ipv4", protocol: "tcp", dstPort: "32768-65535", tcpFlags: "ack", action: "accept" },
      { name: "udp return and kubespan", ipVersion: "ipv4", protocol: "udp", dstPort: "32768-65535", action: "accept" },
      { name: "icmp", ipVersion: "ipv4", protocol: "icmp", action: "accept" },
      { name: "vswitch", ipVersion: "ipv4", srcIp: "10.0.2.0/24", action: "accept" },
    ]);
    // Nothing accepts a new TCP connection to 50000 or 6443 from elsewhere: only the admin rules name those ports without the ACK flag.
    const open = robotFirewallRules(["203.0.113.0/24", "192.0.2.0/28"], undefined).filter((r) => r.protocol === "tcp" && !r.tcpFlags);
    assert.deepEqual(open.map((r) => `${r.srcIp}:${r.dstPort}`), ["203.0.113.0/24:22", "203.0.113.0/24:6443", "203.0.113.0/24:50000", "192.0.2.0/28:22", "192.0.2.0/28:6443", "192.0.2.0/28:50000"]);
  });

  it("fits two admin networks into Robot's 10 input rules, with or without a vSwitch", () => {
    assert.deepEqual([maxAdminCidrs(false), maxAdminCidrs(true)], [2, 2]);
    assert.equal(robotFirewallRules(["203.0.113.0/24", "192.0.2.0/28"], "10.0.2.0/24").length, 10);
  });

  it("writes the Factory's raw metal image of the schematic, version and architecture", () => {
    assert.equal(metalImageUrl("https://factory.talos.dev/", SCHEMATIC, "v1.14.1", "arm64"), `https://factory.talos.dev/image/${SCHEMATIC}/v1.14.1/metal-arm64.raw.xz`);
    assert.equal(serverLabel({ serverNumber: 2345678, name: "metal-1" }), "#2345678 (metal-1)");
  });

  it("parses hetzner.dedicated into nodes at their public address, platform hetzner-dedicated, Robot secrets kept apart", () => {
    const config = parseStackConfig({
      // the three cloud control planes share hetzner-fsn1, a site the dedicated worker does not: accepted
      cluster: { name: "oxide", acceptSiteLoss: true },
      hetzner: {
        image: { snapshotId: 1 },
        kubespan: true,
        adminCidrs: ["203.0.113.0/24"],
        pools: [{ name: "cp", role: "controlplane", count: 3, serverType: "cpx31" }],
        dedicated: [{ name: "metal-1", serverNumber: 2345678, role: "worker", address: "198.51.100.20", installDisk: "/dev/nvme0n1", privateAddress: "10.0.2.11/24", labels: { "example.com/disk": "nvme" } }],
        vswitch: { id: 51234, vlan: 4000, subnet: "10.0.2.0/24" },
      },
      hcloudToken: "a".repeat(64),
      robotUser: "#ws+oxide",
      robotPassword: "robot-password",
    });
    assert.deepEqual(config.nodes.at(-1), {
      name: "metal-1",
      role: "worker",
      platform: "hetzner-dedicated",
      address: "198.51.100.20",
      installDisk: "/dev/nvme0n1",
      dataDisks: [],
      wipeDisks: [],
      network: undefined,
      labels: { "example.com/disk": "nvme" },
      taints: {},
      patches: [],
      serverNumber: 2345678,
      vlan: { id: 4000, address: "10.0.2.11/24", mtu: 1400 },
      kubeletSubnets: ["10.0.2.0/24"],
    });
    // Its own layer puts the VLAN on the physical uplink (seed 002's vSwitch patch).
    assert.deepEqual(nodePatch(config.nodes.at(-1)!), {
      machine: {
        network: { hostname: "metal-1", interfaces: [{ deviceSelector: { physical: true }, dhcp: true, vlans: [{ vlanId: 4000, addresses: ["10.0.2.11/24"], mtu: 1400 }] }] },
        install: { disk: "/dev/nvme0n1" },
        kubelet: { nodeIP: { validSubnets: ["10.0.2.0/24"] } },
        nodeLabels: { "example.com/disk": "nvme" },
      },
    });
    // Without a vSwitch, its public address; a control plane's etcd advertises it too.
    const cp = dedicatedNode({ ...config.hetzner!.dedicated[0]!, role: "controlplane", privateAddress: undefined }, undefined);
    assert.deepEqual([cp.kubeletSubnets, cp.etcdSubnets], [["198.51.100.20/32"], ["198.51.100.20/32"]]);
    assert.deepEqual((nodePatch(cp) as { cluster: unknown }).cluster, { etcd: { advertisedSubnets: ["198.51.100.20/32"] } });
    assert.deepEqual(config.hetzner!.dedicated[0]!.architecture, "amd64");
    assert.deepEqual(config.hetzner!.vswitch, { id: 51234, vlan: 4000, subnet: "10.0.2.0/24", mtu: 1400 });
    assert.equal(config.hetzner!.robotUrl, "https://robot-ws.your-server.de");
    assert.deepEqual([config.robotUser, config.robotPassword], ["#ws+oxide", "robot-password"]);
    assert.deepEqual(config.nodes.map((n) => n.name), ["oxide-cp-1", "oxide-cp-2", "oxide-cp-3", "metal-1"]);
  });
});

describe("dedicated servers: the component under mocks", () => {
  let recorder: Recorder;
  const scriptCalls: string[] = [];

  before(async () => {
    recorder = installMocks("talos-cluster", "unit");
    // Loaded after the mocks, like the program.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DedicatedServers } = require("../../components/hetzner/dedicated-servers") as typeof import("../../components/hetzner/dedicated-servers");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const command = require("@pulumi/command") as typeof import("@pulumi/command");
    const registration = new command.local.Command("schematic-registration", { create: "true" });
    const dedicated = new DedicatedServers("oxide-dedicated", {
      clusterName: "oxide",
      servers: [
        { name: "metal-1", serverNumber: 2345678, role: "controlplane", address: "198.51.100.20", installDisk: "/dev/nvme0n1", architecture: "amd64", privateAddress: "10.0.2.11/24", labels: {}, taints: {}, patches: [] },
        { name: "metal-2", serverNumber: 2345679, role: "worker", address: "198.51.100.21", installDisk: "/dev/disk/by-id/nvme-a", architecture: "arm64", privateAddress: "10.0.2.12/24", labels: {}, taints: {}, patches: [] },
      ],
      vswitch: { id: 51234, vlan: 4000, subnet: "10.0.2.0/24", mtu: 1400 },
      adminCidrs: ["203.0.113.0/24"],
      robot: { url: "https://robot-ws.your-server.de", user: "#ws+oxide", password: "robot-password" },
      image: { factoryUrl: "https://factory.talos.dev", schematicId: pulumi.output(SCHEMATIC), talosVersion: "v1.14.1" },
      // Stand-ins for components/hetzner/rescue-scripts.ts: they record what the component asks for.
      scripts: {
        verifySmbiosUuidScript: (server) => (scriptCalls.push(`uuid ${server}`), `uuid-check ${server}`),
        writeImageScript: ({ imageUrl, disk }) => (scriptCalls.push(`write ${imageUrl} ${disk}`), `write ${imageUrl} ${disk}`),
        rebootScript: () => (scriptCalls.push("reboot"), "reboot-now"),
      },
      after: [registration],
    });
    await settle();
    assert.deepEqual(Object.keys(dedicated.nodeAfter), ["metal-1", "metal-2"]);
    assert.deepEqual(Object.values(dedicated.nodeAfter).map((r) => r.length), [1, 1]);
  });

  it("registers one provider, key pair and Robot key, and per server a name, firewall, vSwitch membership, rescue and three SSH steps", () => {
    const count = (type: string) => recorder.ofType(type).length;
    assert.deepEqual(
      ["pulumi:providers:robot", "tls:index/privateKey:PrivateKey", "robot:index:SshKey", "robot:index:ServerName", "robot:index:Firewall", "robot:index:VSwitchServer", "robot:index:RescueReset", "command:remote:Command"].map(count),
      [1, 1, 1, 2, 2, 2, 2, 6],
    );
  });

  it("names each server after its node in Robot (the cloud controller's match), its address checked against Robot's", () => {
    assert.deepEqual(recorder.named("metal-1-name").inputs, { serverNumber: 2345678, name: "metal-1", address: "198.51.100.20" });
    assert.deepEqual(recorder.named("metal-2-name").inputs, { serverNumber: 2345679, name: "metal-2", address: "198.51.100.21" });
  });

  it("gives the Robot provider the address and the login, user and password only as secrets", () => {
    const provider = recorder.ofType("pulumi:providers:robot")[0]!;
    assert.deepEqual([provider.inputs.url, provider.inputs.user, provider.inputs.password], ["https://robot-ws.your-server.de", "#ws+oxide", "robot-password"]);
    assert.deepEqual(provider.secretInputs, ["password", "user"]);
    for (const r of recorder.resources.filter((x) => x.type.startsWith("robot:index:"))) assert.match(r.provider, /pulumi:providers:robot::oxide-dedicated-robot::/, r.name);
  });

  it("stores the key pair's public half in Robot and sends every server's firewall the same rules", () => {
    assert.deepEqual(recorder.ofType("tls:index/privateKey:PrivateKey")[0]!.inputs, { algorithm: "ED25519" });
    const key = recorder.ofType("robot:index:SshKey")[0]!;
    assert.deepEqual(key.inputs, { name: "oxide-rescue", publicKey: "ssh-ed25519 oxide-dedicated-rescue-key-public-key" });
    for (const [name, n] of [["metal-1", 2345678], ["metal-2", 2345679]] as const) {
      assert.deepEqual(recorder.named(`${name}-firewall`).inputs, { serverNumber: n, whitelistHos: true, input: robotFirewallRules(["203.0.113.0/24"], "10.0.2.0/24") });
      assert.deepEqual(recorder.named(`${name}-vswitch`).inputs, { vswitchId: 51234, serverNumber: n });
    }
  });

  it("boots the rescue system only behind the firewall, in the vSwitch, with the Robot key and the image registered", () => {
    const rescue = recorder.named("metal-1-rescue");
    assert.deepEqual(rescue.inputs, { serverNumber: 2345678, authorizedKey: "oxide-dedicated-rescue-key-fingerprint", os: "linux", resetType: "hw" });
    const urn = (n: string) => recorder.named(n).urn;
    assert.deepEqual(rescue.dependencies, [urn("metal-1-name"), urn("metal-1-firewall"), urn("metal-1-vswitch"), urn("schematic-registration"), recorder.ofType("robot:index:SshKey")[0]!.urn].sort());
  });

  it("runs the SSH steps in order after the rescue boot: UUID check, image write, reboot; each once, the key secret", () => {
    for (const [name, address, image, disk] of [
      ["metal-1", "198.51.100.20", `https://factory.talos.dev/image/${SCHEMATIC}/v1.14.1/metal-amd64.raw.xz`, "/dev/nvme0n1"],
      ["metal-2", "198.51.100.21", `https://factory.talos.dev/image/${SCHEMATIC}/v1.14.1/metal-arm64.raw.xz`, "/dev/disk/by-id/nvme-a"],
    ] as const) {
      const [uuid, write, reboot] = [`${name}-smbios-uuid`, `${name}-write-image`, `${name}-reboot`].map((n) => recorder.named(n));
      const rescue = recorder.named(`${name}-rescue`);
      assert.ok(uuid!.dependencies.includes(rescue.urn));
      assert.ok(write!.dependencies.includes(uuid!.urn));
      assert.ok(reboot!.dependencies.includes(write!.urn));
      assert.equal(uuid!.inputs.create, `uuid-check #${rescue.inputs.serverNumber} (${name})`);
      assert.equal(write!.inputs.create, `write ${image} ${disk}`);
      assert.equal(reboot!.inputs.create, "reboot-now");
      for (const step of [uuid!, write!, reboot!]) {
        assert.deepEqual(step.inputs.connection, { host: address, port: 22, user: "root", privateKey: "oxide-dedicated-rescue-key-private-key-openssh", dialErrorLimit: 90, perDialTimeout: 10 });
        assert.deepEqual(step.secretInputs, ["connection"]);
        assert.deepEqual(step.ignoreChanges, ["create", "connection"]);
        // A new rescue (a new server number) runs the steps again.
        assert.deepEqual(step.inputs.triggers, [`${name}-rescue-id`]);
      }
    }
    assert.deepEqual(scriptCalls.sort(), [
      "reboot",
      "reboot",
      "uuid #2345678 (metal-1)",
      "uuid #2345679 (metal-2)",
      `write https://factory.talos.dev/image/${SCHEMATIC}/v1.14.1/metal-amd64.raw.xz /dev/nvme0n1`,
      `write https://factory.talos.dev/image/${SCHEMATIC}/v1.14.1/metal-arm64.raw.xz /dev/disk/by-id/nvme-a`,
    ]);
  });
});

describe("dedicated servers: the program with a dedicated worker beside the cloud pools", () => {
  let recorder: Recorder;

  before(async () => {
    const config = hetznerStackConfig((h) => {
      h.kubespan = true;
      h.dedicated = [{ name: "metal-1", serverNumber: 2345678, role: "worker", address: "198.51.100.20", installDisk: "/dev/nvme0n1", privateAddress: "10.0.2.11/24" }];
      h.vswitch = { id: 51234, vlan: 4000, subnet: "10.0.2.0/24" };
    }, { acceptSiteLoss: true }); // the committed stack's control planes all sit in hetzner-fsn1
    const run = await runValidProgram({ ...config, "talos-cluster:robotUser": "#ws+oxide", "talos-cluster:robotPassword": "robot-password" }, "hetzner");
    recorder = run.recorder;
  });

  it("makes no cloud server for it, and applies its config at its own address once it rebooted into maintenance mode", () => {
    assert.deepEqual(recorder.ofType("hcloud:index/server:Server").filter((r) => r.name === "metal-1"), []);
    const apply = recorder.resources.find((r) => r.type === "talos:machine/configurationApply:ConfigurationApply" && r.name === "metal-1-apply")!;
    assert.equal(apply.inputs.endpoint, "198.51.100.20");
    assert.equal(apply.inputs.node, "198.51.100.20");
    assert.ok(apply.dependencies.includes(recorder.named("metal-1-reboot").urn), "the apply waits for the reboot into maintenance mode");
    // A cloud node is still reached through the load balancer.
    const cloud = recorder.resources.find((r) => r.type === "talos:machine/configurationApply:ConfigurationApply" && r.name === "oxide-worker-1-apply")!;
    assert.notEqual(cloud.inputs.endpoint, "198.51.100.20");
  });

  it("writes the cluster's schematic for its architecture, after the schematic's registration", () => {
    const write = recorder.named("metal-1-write-image");
    const schematic = recorder.ofType("talos:imageFactory/schematic:Schematic")[0]!;
    assert.match(String(write.inputs.create), new RegExp(`curl -fsSL 'https://factory\\.talos\\.dev/image/[0-9a-f]{64}/v1\\.14\\.1/metal-amd64\\.raw\\.xz' \\| xz -d \\| dd of='/dev/nvme0n1'`));
    assert.ok(recorder.named("metal-1-rescue").dependencies.includes(schematic.urn));
  });

  it("keeps the Robot login secret: in the Robot provider and the cloud controller's Secret only, both secret", () => {
    assert.deepEqual(recorder.ofType("pulumi:providers:robot")[0]!.secretInputs, ["password", "user"]);
    const holders = recorder.resources.filter((r) => JSON.stringify(r.inputs).includes("robot-password") && r.type !== "pulumi:providers:robot");
    assert.deepEqual(holders.map((r) => r.name), ["oxide-addons-hcloud-ccm-secret"]);
    assert.deepEqual(holders[0]!.secretInputs, ["stringData"]);
  });

  it("turns on the cloud controller's Robot support with the stack's Robot login, so the dedicated Node is initialized", () => {
    const secret = recorder.named("oxide-addons-hcloud-ccm-secret");
    assert.deepEqual(Object.keys(secret.inputs.stringData as object).sort(), ["network", "robot-password", "robot-user", "token"]);
    assert.deepEqual([(secret.inputs.stringData as Record<string, string>)["robot-user"], (secret.inputs.stringData as Record<string, string>)["robot-password"]], ["#ws+oxide", "robot-password"]);
    assert.deepEqual((recorder.named("oxide-addons-hcloud-ccm-release").inputs.values as Record<string, unknown>).robot, { enabled: true });
  });
});
