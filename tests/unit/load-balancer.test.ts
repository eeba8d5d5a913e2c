// addons.loadBalancer: a Cilium LB IPAM pool with L2 announcements on LAN stacks, and the
// config refusals that keep the pool off addresses something else owns.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { ipPoolSpec, l2PolicySpec } from "../../components/addons/load-balancer";
import { RecordedResource, runProgram, runValidProgram } from "../support/mocks";
import { committedStackConfig } from "../support/stack-files";

const inputsOf = (r: RecordedResource) => r.inputs as Record<string, any>;
const homelab = (addresses: unknown, addons: Record<string, unknown> = {}) =>
  committedStackConfig("homelab", { "talos-cluster:addons": { loadBalancer: { addresses }, ...addons } });

describe("addons.loadBalancer (Cilium LB IPAM and L2 announcements)", () => {
  it("builds the pool and the policy specs", () => {
    assert.deepEqual(ipPoolSpec(["10.0.1.240/28", "10.0.1.232/29"]), { blocks: [{ cidr: "10.0.1.240/28" }, { cidr: "10.0.1.232/29" }] });
    assert.deepEqual(l2PolicySpec(), { loadBalancerIPs: true, externalIPs: false });
  });

  it("creates the pool and policy after Cilium, with L2 announcements on in Cilium's values", async () => {
    const { recorder } = await runValidProgram(homelab(["10.0.1.240/28"]), "homelab");
    const pool = recorder.named("tales-addons-load-balancer-pool");
    assert.deepEqual(inputsOf(pool), { apiVersion: "cilium.io/v2", kind: "CiliumLoadBalancerIPPool", metadata: { name: "lan" }, spec: { blocks: [{ cidr: "10.0.1.240/28" }] } });
    const policy = recorder.named("tales-addons-load-balancer-l2");
    assert.deepEqual(inputsOf(policy), { apiVersion: "cilium.io/v2alpha1", kind: "CiliumL2AnnouncementPolicy", metadata: { name: "lan" }, spec: { loadBalancerIPs: true, externalIPs: false } });
    const cilium = recorder.named("tales-addons-cilium-release");
    for (const r of [pool, policy]) assert.deepEqual(r.dependencies, [cilium.urn]);
    assert.deepEqual(inputsOf(cilium).values.l2announcements, { enabled: true });
  });

  it("creates nothing and leaves Cilium's L2 announcements off without addresses", async () => {
    const { recorder } = await runValidProgram(committedStackConfig("homelab"), "homelab");
    assert.equal(recorder.resources.filter((r) => r.type.startsWith("kubernetes:cilium.io")).length, 0);
    assert.equal("l2announcements" in inputsOf(recorder.named("tales-addons-cilium-release")).values, false);
  });

  it("refuses blocks that are malformed, overlap the pod or service network, each other or a node, naming the path", async () => {
    const cases: [unknown[], Record<string, unknown>, string[]][] = [
      [["10.0.1.241/28"], {}, ["talos-cluster:addons.loadBalancer.addresses[0]: must be an IPv4 CIDR without host bits, e.g. 10.0.1.240/28"]],
      [["10.244.1.0/24"], {}, ["talos-cluster:addons.loadBalancer.addresses[0]: overlaps the pod network 10.244.0.0/16 (cluster.podCidr)"]],
      [["10.96.0.0/24"], {}, ["talos-cluster:addons.loadBalancer.addresses[0]: overlaps the service network 10.96.0.0/12 (cluster.serviceCidr)"]],
      [["10.0.1.96/28"], {}, ["talos-cluster:addons.loadBalancer.addresses[0]: holds node talos-worker-1's address 10.0.1.100"]],
      [["10.0.1.240/28", "10.0.1.248/29"], {}, ["talos-cluster:addons.loadBalancer.addresses[1]: overlaps addresses[0] 10.0.1.240/28"]],
      [["10.0.1.240/28"], { cilium: { enabled: false } }, ["talos-cluster:addons.loadBalancer.addresses: needs addons.cilium (the pool is Cilium's LB IPAM)"]],
    ];
    for (const [addresses, addons, lines] of cases) {
      const run = await runProgram(homelab(addresses, addons), "homelab");
      assert.ok(run.error, JSON.stringify(addresses));
      for (const line of lines) assert.ok(String(run.error).includes(line), `${String(run.error)}\nlacks: ${line}`);
      assert.equal(run.recorder.resources.length, 0);
    }
  });

  it("refuses a block outside every static node network, and any pool on Hetzner", async () => {
    const nodes = (YAML.parse(fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.homelab.yaml"), "utf8")).config["talos-cluster:nodes"] as Record<string, unknown>[]).map((n) => ({
      ...n,
      network: { interface: "eth0", addresses: [`${String(n.address)}/24`], gateway: "10.0.1.1" },
    }));
    const staticLab = (addresses: string[]) => ({ ...homelab(addresses), "talos-cluster:nodes": JSON.stringify(nodes) });
    await runValidProgram(staticLab(["10.0.1.240/28"]), "homelab");
    const outside = await runProgram(staticLab(["192.168.77.0/28"]), "homelab");
    assert.match(String(outside.error), /talos-cluster:addons\.loadBalancer\.addresses\[0\]: is outside every node network \([^)]+\): L2 announcements reach only the nodes' own segment/);
    const hetzner = await runProgram(committedStackConfig("hetzner", { "talos-cluster:addons": { loadBalancer: { addresses: ["10.0.1.240/28"] } } }), "hetzner");
    assert.ok(String(hetzner.error).includes("talos-cluster:addons.loadBalancer.addresses: not on a Hetzner cluster: Hetzner's network carries no L2 announcements"), String(hetzner.error));
  });
});
