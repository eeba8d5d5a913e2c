// The add-ons' scheduling feasibility (components/addons/placement.ts): taints and tolerations,
// sizing from the nodes that can hold each add-on, the placement the preview shows, and every
// refusal with its exact text. Pure functions and config parsing only: milliseconds.
import assert from "node:assert/strict";
import { addonPlacement, addonSizing, finalAddonValues, PlacementInput, quantityMillis, quantityMiB, ROOK_OSD_DEFAULT_REQUESTS } from "../../components/addons/placement";
import { blockingTaints, CONTROL_PLANE_TAINT, nodesFor, parseTaints, schedulingNodes, tolerates, tolerationsForNodes } from "../../components/addons/scheduling";
import { linkerdControlPlaneValues, linkerdHaValues, rookClusterValues, rookDeviceName } from "../../components/addons/values";
import { addonsSchema } from "../../config/addons";
import { parseStackConfig, projectConfig, StackConfigError } from "../../config/schema";
import { committedStackConfig } from "../support/stack-files";

const CP_TOLERATION = { key: "node-role.kubernetes.io/control-plane", operator: "Exists" as const, effect: "NoSchedule" };
const DT = ["deepthought-cp-1", "deepthought-worker-1", "deepthought-worker-2"];

const parsed = (stack: string, patches: Record<string, Record<string, unknown>> = {}) => parseStackConfig(projectConfig(committedStackConfig(stack, patches)));
const inputOf = (config: ReturnType<typeof parsed>): PlacementInput => ({
  addons: config.addons,
  nodes: schedulingNodes(config.nodes, config.cluster.allowSchedulingOnControlPlanes),
  podCidr: config.cluster.podCidr,
});
/** The problems parseStackConfig reports for the stack with these add-on settings. */
function refusal(stack: string, addons: Record<string, unknown>, nodes?: unknown[]): string[] {
  try {
    // Other machines may hold several control planes: they need an endpoint that is no node's own.
    const config = committedStackConfig(stack, { "talos-cluster:addons": addons, ...(nodes ? { "talos-cluster:cluster": { endpoint: "https://api.tales.internal:6443" } } : {}) });
    if (nodes) {
      // other machines than the stack's: its Synology VMs go with its own nodes
      config["talos-cluster:nodes"] = JSON.stringify(nodes);
      delete config["talos-cluster:synology"];
      delete config["talos-cluster:synologyPassword"];
    }
    parseStackConfig(projectConfig(config));
  } catch (err) {
    assert.ok(err instanceof StackConfigError, String(err));
    return [...err.issues];
  }
  assert.fail("expected a refusal");
}

const node = (name: string, role: "controlplane" | "worker", taints: Record<string, string> = {}, dataDisks: string[] = []) => ({ name, role, taints, dataDisks });

describe("scheduling: taints and tolerations as the scheduler reads them", () => {
  it("parses config taints and adds Talos's control-plane taint only when control planes take no workloads", () => {
    assert.deepEqual(parseTaints({ dedicated: "gpu:NoSchedule", spot: ":PreferNoSchedule" }), [
      { key: "dedicated", value: "gpu", effect: "NoSchedule" },
      { key: "spot", value: "", effect: "PreferNoSchedule" },
    ]);
    const nodes = [node("cp", "controlplane"), node("w", "worker", { dedicated: "gpu:NoExecute" })];
    assert.deepEqual(schedulingNodes(nodes, false).map((n) => n.taints), [[CONTROL_PLANE_TAINT], [{ key: "dedicated", value: "gpu", effect: "NoExecute" }]]);
    assert.deepEqual(schedulingNodes(nodes, true)[0]!.taints, []);
  });

  it("matches tolerations like core/v1 ToleratesTaint", () => {
    const taint = { key: "dedicated", value: "gpu", effect: "NoSchedule" as const };
    assert.equal(tolerates({ operator: "Exists" }, taint), true);
    assert.equal(tolerates({ key: "dedicated", operator: "Exists" }, taint), true);
    assert.equal(tolerates({ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }, taint), true);
    assert.equal(tolerates({ key: "dedicated", value: "gpu" }, taint), true); // Equal is the default operator
    assert.equal(tolerates({ key: "dedicated", operator: "Equal", value: "cpu" }, taint), false);
    assert.equal(tolerates({ key: "dedicated", operator: "Exists", effect: "NoExecute" }, taint), false);
    assert.equal(tolerates({ key: "other", operator: "Exists" }, taint), false);
  });

  it("lets PreferNoSchedule steer without blocking, and lists the tolerations that reach given nodes", () => {
    const nodes = schedulingNodes([node("cp", "controlplane"), node("a", "worker", { spot: ":PreferNoSchedule" }), node("b", "worker", { dedicated: "db:NoSchedule" })], false);
    assert.deepEqual(nodesFor([], nodes).map((n) => n.name), ["a"]);
    assert.deepEqual(blockingTaints([], nodes[2]!), [{ key: "dedicated", value: "db", effect: "NoSchedule" }]);
    assert.deepEqual(tolerationsForNodes(nodes), [CP_TOLERATION, { key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }]);
  });
});

describe("placement: sizing from the nodes that can hold each add-on", () => {
  it("sizes deepthought (1 tainted control plane with a data disk, 2 workers) as seed 003 ran it", () => {
    assert.deepEqual(addonSizing(inputOf(parsed("deepthought")).nodes), {
      cilium: { operatorReplicas: 2, hubbleTolerations: [] },
      // the control plane holds /dev/sda: Ceph tolerates it, so 3 monitors fit on 3 nodes
      rookCeph: { tolerations: [CP_TOLERATION], monCount: 3, mgrCount: 2 },
      // only two untainted nodes: Linkerd HA tolerates the control plane (seed 003)
      linkerd: { ha: true, tolerations: [CP_TOLERATION] },
    });
  });

  it("tolerates nothing extra when enough nodes are free, and falls back to one replica below 3 nodes", () => {
    const three = schedulingNodes([node("cp", "controlplane"), node("a", "worker", {}, ["/dev/sdb"]), node("b", "worker", {}, ["/dev/sdb"]), node("c", "worker", {}, ["/dev/sdb"])], false);
    assert.deepEqual(addonSizing(three), {
      cilium: { operatorReplicas: 2, hubbleTolerations: [] },
      rookCeph: { tolerations: [], monCount: 3, mgrCount: 2 },
      linkerd: { ha: true, tolerations: [] },
    });
    const two = schedulingNodes([node("cp", "controlplane", {}, ["/dev/sdb"]), node("a", "worker")], false);
    assert.deepEqual(addonSizing(two), {
      cilium: { operatorReplicas: 2, hubbleTolerations: [] },
      rookCeph: { tolerations: [CP_TOLERATION], monCount: 1, mgrCount: 2 },
      linkerd: { ha: false, tolerations: [] },
    });
    const tainted = schedulingNodes([node("cp", "controlplane")], false);
    assert.deepEqual(addonSizing(tainted).linkerd, { ha: false, tolerations: [CP_TOLERATION] });
  });

  it("puts the Ceph tolerations into placement.all and leaves placement out when none are needed", () => {
    const nodes = [{ name: "a", dataDisks: ["/dev/sdb"] }];
    const spec = (v: Record<string, any>) => v.cephClusterSpec;
    assert.deepEqual(spec(rookClusterValues(nodes, true, { tolerations: [CP_TOLERATION], monCount: 1, mgrCount: 1 })).placement, { all: { tolerations: [CP_TOLERATION] } });
    assert.equal("placement" in spec(rookClusterValues(nodes, true, { tolerations: [], monCount: 1, mgrCount: 1 })), false);
  });

  it("hands Rook by-id disks as full paths and kernel names as bare names", () => {
    assert.equal(rookDeviceName("/dev/sda"), "sda");
    assert.equal(rookDeviceName("/dev/nvme1n1"), "nvme1n1");
    assert.equal(rookDeviceName("/dev/disk/by-id/ata-ST4000DM004-2CV104_ZFN0XXXX"), "/dev/disk/by-id/ata-ST4000DM004-2CV104_ZFN0XXXX");
    const values = rookClusterValues([{ name: "a", dataDisks: ["/dev/disk/by-id/wwn-0x5000c500c1234567", "/dev/sdc"] }], false, { tolerations: [], monCount: 1, mgrCount: 1 }) as any;
    assert.deepEqual(values.cephClusterSpec.storage.nodes, [{ name: "a", devices: [{ name: "/dev/disk/by-id/wwn-0x5000c500c1234567" }, { name: "sdc" }] }]);
  });
});

describe("placement: stack config to Rook and back", () => {
  it("gives Rook a /dev/disk/by-id data disk from the stack config as the full path", () => {
    const config = committedStackConfig("deepthought");
    const nodes = JSON.parse(config["talos-cluster:nodes"]!);
    nodes[2].dataDisks = ["/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K0000000"];
    config["talos-cluster:nodes"] = JSON.stringify(nodes);
    const values = finalAddonValues(inputOf(parseStackConfig(projectConfig(config)))).rookCephCluster as any;
    assert.deepEqual(values.cephClusterSpec.storage.nodes[2], { name: "deepthought-worker-2", devices: [{ name: "/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K0000000" }] });
  });

  it("reads a tolerations override that holds no objects as tolerating nothing", () => {
    assert.deepEqual(refusal("deepthought", { gatewayApi: { enabled: true }, linkerd: { enabled: true, values: { tolerations: [null, "x"] } } }).length, 1);
  });
});

describe("placement: what the preview shows", () => {
  it("lists where every Cilium, Ceph and Linkerd replica of deepthought can run", () => {
    const { placement, problems } = addonPlacement(inputOf(parsed("deepthought")));
    assert.deepEqual(problems, []);
    assert.deepEqual(placement, {
      cilium: {
        operator: { replicas: 2, onePerNode: true, nodes: DT },
        hubbleRelay: { replicas: 1, onePerNode: false, nodes: DT.slice(1) },
        hubbleUi: { replicas: 1, onePerNode: false, nodes: DT.slice(1) },
      },
      rookCeph: {
        monitors: { replicas: 3, onePerNode: true, nodes: DT },
        managers: { replicas: 2, onePerNode: true, nodes: DT },
        osds: { replicas: 5, onePerNode: false, nodes: DT },
      },
      linkerd: { controllers: { replicas: 3, onePerNode: true, nodes: DT } },
    });
  });

  it("gives the releases exactly the values the check reads", () => {
    const values = finalAddonValues(inputOf(parsed("deepthought")));
    assert.deepEqual(values.linkerdControlPlane.tolerations, [CP_TOLERATION]);
    assert.equal(values.linkerdControlPlane.controllerReplicas, 3);
    assert.deepEqual((values.rookCephCluster.cephClusterSpec as any).placement, { all: { tolerations: [CP_TOLERATION] } });
    assert.deepEqual((values.rookCephCluster.cephClusterSpec as any).mon, { count: 3, allowMultiplePerNode: false });
  });
});

describe("placement: refusals name the add-on, the count and the nodes", () => {
  it("refuses more Linkerd HA replicas than nodes can hold, at the override's path", () => {
    assert.deepEqual(refusal("deepthought", { gatewayApi: { enabled: true }, linkerd: { enabled: true, values: { controllerReplicas: 4 } } }), [
      "talos-cluster:addons.linkerd.values.controllerReplicas: Linkerd controllers (destination, identity, proxy-injector): 4 replicas on different nodes wanted, " +
        "but only 3 nodes can hold them (deepthought-cp-1, deepthought-worker-1, deepthought-worker-2); " +
        "lower addons.linkerd.values.controllerReplicas, add nodes, or tolerate their taints in addons.linkerd.values.tolerations",
    ]);
  });

  it("refuses Linkerd HA whose tolerations an override took away, naming the node kept out and its taint", () => {
    assert.deepEqual(refusal("deepthought", { gatewayApi: { enabled: true }, linkerd: { enabled: true, values: { tolerations: [] } } }), [
      "talos-cluster:addons.linkerd.values.tolerations: Linkerd controllers (destination, identity, proxy-injector): 3 replicas on different nodes wanted, " +
        "but only 2 nodes can hold them (deepthought-worker-1, deepthought-worker-2); kept out: deepthought-cp-1 (node-role.kubernetes.io/control-plane:NoSchedule not tolerated); " +
        "lower addons.linkerd.values.controllerReplicas, add nodes, or tolerate their taints in addons.linkerd.values.tolerations",
    ]);
  });

  it("refuses 5 Ceph monitors on 3 nodes and a pool with more copies than OSD hosts", () => {
    const pool = { name: "big", spec: { failureDomain: "host", replicated: { size: 4 } } };
    assert.deepEqual(refusal("deepthought", { rookCeph: { enabled: true, clusterValues: { cephClusterSpec: { mon: { count: 5 } } } } }), [
      "talos-cluster:addons.rookCeph.clusterValues.cephClusterSpec.mon.count: Ceph monitors: 5 replicas on different nodes wanted, " +
        "but only 3 nodes can hold them (deepthought-cp-1, deepthought-worker-1, deepthought-worker-2); " +
        "lower cephClusterSpec.mon.count, add nodes, or tolerate their taints in cephClusterSpec.placement",
    ]);
    assert.deepEqual(refusal("deepthought", { rookCeph: { enabled: true, clusterValues: { cephBlockPools: [pool] } } }), [
      "talos-cluster:addons.rookCeph.clusterValues.cephBlockPools[0].spec.replicated.size: Ceph block pool big keeps 4 copies on different hosts, " +
        "but only 3 nodes hold OSDs (deepthought-cp-1, deepthought-worker-1, deepthought-worker-2); lower its size or give more nodes dataDisks",
    ]);
  });

  it("refuses OSDs on a node whose taints the Ceph placement no longer tolerates, and OSDs on unknown nodes", () => {
    const placement = { all: { tolerations: [] } };
    const keptOut = "kept out: deepthought-cp-1 (node-role.kubernetes.io/control-plane:NoSchedule not tolerated)";
    const onWorkers = "(deepthought-worker-1, deepthought-worker-2)";
    assert.deepEqual(refusal("deepthought", { rookCeph: { enabled: true, clusterValues: { cephClusterSpec: { placement } } } }).sort(), [
      `talos-cluster:addons.rookCeph.clusterValues.cephClusterSpec.placement: Ceph monitors: 3 replicas on different nodes wanted, but only 2 nodes can hold them ${onWorkers}; ` +
        `${keptOut}; lower cephClusterSpec.mon.count, add nodes, or tolerate their taints in cephClusterSpec.placement`,
      "talos-cluster:addons.rookCeph.clusterValues.cephClusterSpec.placement: Ceph OSDs on deepthought-cp-1 (its data disks) cannot run there: " +
        "node-role.kubernetes.io/control-plane:NoSchedule not tolerated; tolerate them in cephClusterSpec.placement.all or .osd, or drop the node from cephClusterSpec.storage.nodes",
      `talos-cluster:addons.rookCeph.clusterValues.cephClusterSpec.placement: Ceph block pool ceph-blockpool keeps 3 copies on different hosts, but only 2 nodes hold OSDs ${onWorkers}; ` +
        "lower its size or give more nodes dataDisks",
    ].sort());
    const storage = { useAllNodes: false, nodes: [{ name: "nas-9", devices: [{ name: "sdb" }] }] };
    assert.deepEqual(refusal("deepthought", { rookCeph: { enabled: true, clusterValues: { cephClusterSpec: { storage } } } }), [
      "talos-cluster:addons.rookCeph.clusterValues.cephClusterSpec.storage: Ceph OSDs are asked on node nas-9, which is not in talos-cluster:nodes; " +
        "name one of deepthought-cp-1, deepthought-worker-1, deepthought-worker-2",
      // and so no OSD host is left for the default pool
      "talos-cluster:addons.rookCeph.clusterValues.cephClusterSpec.storage: Ceph block pool ceph-blockpool keeps 3 copies on different hosts, but no node holds OSDs; " +
        "lower its size or give more nodes dataDisks",
    ]);
  });

  it("refuses Hubble and Linkerd when every node carries a taint they do not tolerate, at the add-on's switch", () => {
    const nodes = [
      { name: "cp-1", role: "controlplane", platform: "bare-metal", address: "10.0.1.50", taints: { dedicated: "infra:NoSchedule" } },
      // control planes: a worker may not set its own taints (NodeRestriction), so these carry them
      { name: "gpu-1", role: "controlplane", platform: "bare-metal", address: "10.0.1.51", taints: { dedicated: "gpu:NoExecute" } },
      { name: "cp-3", role: "controlplane", platform: "bare-metal", address: "10.0.1.52", taints: { dedicated: "infra:NoSchedule" } },
    ];
    // no node is free: Hubble and Linkerd get the control plane's toleration, which is not enough here
    const keptOut =
      "kept out: cp-1 (dedicated=infra:NoSchedule not tolerated), gpu-1 (dedicated=gpu:NoExecute not tolerated), cp-3 (dedicated=infra:NoSchedule not tolerated)";
    const addons = { gatewayApi: { enabled: true }, linkerd: { enabled: true } };
    assert.deepEqual(refusal("homelab", addons, nodes).sort(), [
      `talos-cluster:addons.cilium.enabled: Hubble relay: 1 replica wanted, but no node can hold it; ${keptOut}; add tolerations in addons.cilium.values.hubble.relay.tolerations or untaint a node`,
      `talos-cluster:addons.cilium.enabled: Hubble UI: 1 replica wanted, but no node can hold it; ${keptOut}; add tolerations in addons.cilium.values.hubble.ui.tolerations or untaint a node`,
      `talos-cluster:addons.linkerd.enabled: Linkerd controllers (destination, identity, proxy-injector): 1 replica wanted, but no node can hold it; ${keptOut}; ` +
        "lower addons.linkerd.values.controllerReplicas, add nodes, or tolerate their taints in addons.linkerd.values.tolerations",
    ].sort());
    // tolerations given in the overrides place them: no refusal
    const all = [{ operator: "Exists" }];
    const tolerated = {
      ...addons,
      cilium: { enabled: true, values: { hubble: { relay: { tolerations: all }, ui: { tolerations: all } } } },
      linkerd: { enabled: true, values: { tolerations: all } },
    };
    const config = committedStackConfig("homelab", { "talos-cluster:addons": tolerated, "talos-cluster:cluster": { endpoint: "https://api.tales.internal:6443" } });
    config["talos-cluster:nodes"] = JSON.stringify(nodes);
    delete config["talos-cluster:synology"];
    delete config["talos-cluster:synologyPassword"];
    assert.doesNotThrow(() => parseStackConfig(projectConfig(config)));
  });

  it("refuses more Cilium operators than nodes", () => {
    assert.deepEqual(refusal("homelab", { cilium: { enabled: true, values: { operator: { replicas: 3 } } } }), [
      "talos-cluster:addons.cilium.values.operator.replicas: Cilium operator: 3 replicas on different nodes wanted, but only 2 nodes can hold them (talos-control-1, talos-worker-1); " +
        "lower addons.cilium.values.operator.replicas or add nodes",
    ]);
  });

  it("accepts a default add-on setup on every committed stack", () => {
    for (const stack of ["homelab", "deepthought", "e2e"]) assert.deepEqual(addonPlacement(inputOf(parsed(stack))).problems, [], stack);
    assert.deepEqual(addonsSchema.parse({}).linkerd.values, {});
  });
});

describe("Linkerd HA values: the pinned chart's values-ha.yaml, our settings on top", () => {
  const RESOURCES = { cpu: { limit: "", request: "100m" }, memory: { limit: "250Mi", request: "50Mi" } };

  it("reproduces every key of values-ha.yaml (linkerd2 edge-25.4.4)", () => {
    assert.deepEqual(linkerdHaValues(), {
      enablePodDisruptionBudget: true,
      controller: { podDisruptionBudget: { maxUnavailable: 1 } },
      deploymentStrategy: { rollingUpdate: { maxUnavailable: 1, maxSurge: "25%" } },
      enablePodAntiAffinity: true,
      proxy: { resources: { cpu: { request: "100m" }, memory: { limit: "250Mi", request: "20Mi" } } },
      controllerReplicas: 3,
      controllerResources: RESOURCES,
      destinationResources: RESOURCES,
      identityResources: { cpu: { limit: "", request: "100m" }, memory: { limit: "250Mi", request: "10Mi" } },
      heartbeatResources: RESOURCES,
      proxyInjectorResources: RESOURCES,
      webhookFailurePolicy: "Fail",
      spValidatorResources: RESOURCES,
      highAvailability: true,
    });
  });

  it("puts identity, proxy-init and the tolerations over them, and leaves HA out below 3 nodes", () => {
    const facts = { trustAnchorPem: "A", issuerCertPem: "C", issuerKeyPem: "K", tolerations: [CP_TOLERATION] };
    const ha = linkerdControlPlaneValues({ ...facts, ha: true });
    const ours = {
      identityTrustAnchorsPEM: "A",
      identity: { issuer: { scheme: "linkerd.io/tls", tls: { crtPEM: "C", keyPEM: "K" } } },
      proxyInit: { runAsRoot: true },
      tolerations: [CP_TOLERATION],
    };
    assert.deepEqual(ha, { ...linkerdHaValues(), ...ours });
    assert.deepEqual(linkerdControlPlaneValues({ ...facts, ha: false }), ours);
    assert.equal("tolerations" in linkerdControlPlaneValues({ ...facts, ha: false, tolerations: [] }), false);
  });
});

describe("placement: Rook's OSD requests on machines of stated capacity", () => {
  const stack = (memoryMiB: number, vcpus: number, clusterValues: Record<string, unknown> = {}) => ({
    "talos-cluster:cluster": JSON.stringify({ name: "tales" }),
    "talos-cluster:nodes": JSON.stringify([
      { name: "cp-1", role: "controlplane", platform: "bare-metal", address: "10.0.1.50", dataDisks: ["/dev/sdb"] },
      { name: "worker-1", role: "worker", platform: "bare-metal", address: "10.0.1.100", dataDisks: ["/dev/sdb", "/dev/sdc"], capacity: { vcpus, memoryMiB } },
    ]),
    "talos-cluster:addons": JSON.stringify({ rookCeph: { enabled: true, clusterValues } }),
  });
  const problems = (config: Record<string, string>) => {
    try {
      parseStackConfig(projectConfig(config));
      return [];
    } catch (err) {
      assert.ok(err instanceof StackConfigError, String(err));
      return [...err.issues];
    }
  };

  it("reads Kubernetes quantities", () => {
    assert.deepEqual(["4Gi", "512Mi", "1024Ki", "1G", "1073741824", 1048576, "1.5Gi", "4 Gi", "lots"].map(quantityMiB), [4096, 512, 1, 1e9 / 1048576, 1024, 1, 1536, undefined, undefined]);
    assert.deepEqual(["1000m", "1", "0.5", 2, "250m", "1 cpu"].map(quantityMillis), [1000, 1000, 500, 2000, 250, undefined]);
    assert.deepEqual(ROOK_OSD_DEFAULT_REQUESTS, { cpu: "1000m", memory: "4Gi" });
  });

  it("accepts two default OSDs on exactly enough (2 x 4096 MiB + 1280 MiB reserved, 2 CPUs) and refuses one MiB less", () => {
    assert.deepEqual(problems(stack(9472, 2)), []);
    assert.deepEqual(problems(stack(9471, 2)), [
      "talos-cluster:nodes[1].capacity: Ceph OSDs on worker-1: 2 OSDs (one per device) request 4Gi of memory each, 8192 MiB in all, but pods can request only 8191 MiB there (9471 MiB of nodes[1].capacity.memoryMiB less 1280 MiB of kubelet reservations); give the node more memory, lower cephClusterSpec.resources.osd.requests.memory, or give it fewer devices",
    ]);
    assert.deepEqual(problems(stack(9472, 1)), [
      "talos-cluster:nodes[1].capacity: Ceph OSDs on worker-1: 2 OSDs (one per device) request 1000m CPU each, 2000m in all, but the node has 1000m (nodes[1].capacity.vcpus 1); give the node more CPUs, lower cephClusterSpec.resources.osd.requests.cpu, or give it fewer devices",
    ]);
  });

  it("takes lowered requests from the values, merged over the chart's defaults", () => {
    assert.deepEqual(problems(stack(4096, 1, { cephClusterSpec: { resources: { osd: { requests: { cpu: "500m", memory: "1Gi" } } } } })), []);
    assert.deepEqual(problems(stack(4096, 1, { cephClusterSpec: { resources: { osd: { requests: { cpu: "500m" } } } } })), [
      "talos-cluster:addons.rookCeph.clusterValues.cephClusterSpec.resources.osd.requests: Ceph OSDs on worker-1: 2 OSDs (one per device) request 4Gi of memory each, 8192 MiB in all, but pods can request only 2816 MiB there (4096 MiB of nodes[1].capacity.memoryMiB less 1280 MiB of kubelet reservations); give the node more memory, lower cephClusterSpec.resources.osd.requests.memory, or give it fewer devices",
    ]);
  });

  it("judges nothing where the stack does not state the machine's size", () => {
    const config = stack(1, 1);
    const nodes = JSON.parse(config["talos-cluster:nodes"]!);
    delete nodes[1].capacity;
    assert.deepEqual(problems({ ...config, "talos-cluster:nodes": JSON.stringify(nodes) }), []);
  });
});
