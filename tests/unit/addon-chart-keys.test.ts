// Every values key we set exists in the pinned chart: checked against the key paths recorded from
// each chart's source at its pinned tag (components/addons/chart-value-keys.json). Pure: milliseconds.
import assert from "node:assert/strict";
import chartKeys from "../../components/addons/chart-value-keys.json";
import pins from "../../toolchain/versions.json";
import { addonSizing, finalAddonValues } from "../../components/addons/placement";
import { ciliumGatewayValues } from "../../components/addons/gateway-values";
import { hcloudCcmValues } from "../../components/addons/hcloud-values";
import { schedulingNodes } from "../../components/addons/scheduling";
import { ciliumValues, linkerdControlPlaneValues, linkerdCrdsValues, rookClusterValues, rookOperatorValues, Values } from "../../components/addons/values";
import { parseStackConfig, projectConfig } from "../../config/schema";
import { committedStackConfig } from "../support/stack-files";

type Chart = Exclude<keyof typeof chartKeys, "$comment">;

/** Every path we set: nested objects are walked, anything else (lists too: set whole) is a leaf. */
function leafPaths(values: Values, prefix: string[] = []): string[][] {
  return Object.entries(values).flatMap(([key, value]) =>
    value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0 ? leafPaths(value as Values, [...prefix, key]) : [[...prefix, key]],
  );
}

/** Whether a recorded pattern ("*": any one key, trailing "**": anything below) covers the path. */
function covers(pattern: string, path: string[]): boolean {
  const parts = pattern.split(".");
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === "**") return i === parts.length - 1 && path.length > i;
    if (i >= path.length || (parts[i] !== "*" && parts[i] !== path[i])) return false;
  }
  return parts.length === path.length;
}

/** The paths in `values` that the chart does not define. */
function unknownKeys(chart: Chart, values: Values): string[] {
  const patterns = chartKeys[chart].paths;
  const exact = new Set(patterns);
  const wild = patterns.filter((p) => p.includes("*"));
  return leafPaths(values)
    .filter((path) => !exact.has(path.join(".")) && !wild.some((p) => covers(p, path)))
    .map((path) => path.join("."));
}

const CP_TOLERATION = { key: "node-role.kubernetes.io/control-plane", operator: "Exists" as const, effect: "NoSchedule" };
const parsed = (stack: string) => parseStackConfig(projectConfig(committedStackConfig(stack)));

describe("add-on values against the pinned charts' own keys", () => {
  it("records the keys of exactly the charts we pin, at the pinned versions", () => {
    assert.deepEqual(Object.keys(chartKeys).filter((k) => k !== "$comment").sort(), ["cilium", "hcloudCloudControllerManager", "linkerdControlPlane", "linkerdCrds", "rookCeph", "rookCephCluster"]);
    const tag = {
      cilium: `v${pins.addons.cilium.version}`,
      rookCeph: pins.addons.rookCeph.version,
      rookCephCluster: pins.addons.rookCephCluster.version,
      hcloudCloudControllerManager: `v${pins.addons.hcloudCloudControllerManager.version}`,
    };
    for (const [chart, version] of Object.entries(tag)) assert.match(chartKeys[chart as Chart].$comment, new RegExp(` tag ${version.replace(/\./g, "\\.")}[ :]`), chart);
    // Linkerd edge charts are versioned YYYY.M.P for the tag edge-YY.M.P
    for (const chart of ["linkerdCrds", "linkerdControlPlane"] as const) {
      const [year, month, patch] = pins.addons[chart].version.split(".");
      assert.match(chartKeys[chart].$comment, new RegExp(` tag edge-${year!.slice(2)}\\.${month}\\.${patch}:`), chart);
    }
  });

  it("finds a key the chart does not have (the old Linkerd toleration key, a misspelt Cilium key)", () => {
    assert.deepEqual(unknownKeys("linkerdControlPlane", { controllerTolerations: [], tolerations: [], proxy: { resources: { cpu: { request: "1" } } } }), ["controllerTolerations"]);
    assert.deepEqual(unknownKeys("cilium", { hubble: { relay: { enabled: true, tolerationz: [] } }, operator: { replicas: 1 } }), ["hubble.relay.tolerationz"]);
    assert.deepEqual(unknownKeys("linkerdCrds", { installGatewayAPI: false, enableHttpRoutez: false }), ["enableHttpRoutez"]);
    // below a CR spec the chart passes on as-is: the CRD's keys, "*" for the daemon names of placement
    assert.deepEqual(unknownKeys("rookCephCluster", { cephClusterSpec: { placement: { mon: { tolerations: [] } }, mon: { cnt: 3 } } }), ["cephClusterSpec.mon.cnt"]);
  });

  it("sets only keys the pinned charts define, for every sizing the program derives", () => {
    const clusters = [
      schedulingNodes([{ name: "cp", role: "controlplane", dataDisks: ["/dev/sdb"] }, { name: "w", role: "worker", dataDisks: ["/dev/disk/by-id/wwn-1"] }], false),
      schedulingNodes([{ name: "cp", role: "controlplane", dataDisks: ["/dev/sdb"] }], false),
    ];
    for (const nodes of clusters) {
      const sizing = addonSizing(nodes);
      assert.deepEqual(unknownKeys("cilium", ciliumValues({ podCidr: "10.244.0.0/16", serviceMonitors: true, ...sizing.cilium })), []);
      assert.deepEqual(unknownKeys("cilium", ciliumValues({ podCidr: "10.244.0.0/16", serviceMonitors: true, linkerd: true, ...sizing.cilium })), []);
      assert.deepEqual(unknownKeys("rookCephCluster", rookClusterValues(nodes, true, sizing.rookCeph)), []);
    }
    assert.deepEqual(unknownKeys("rookCeph", rookOperatorValues()), []);
    // any environment variable name is a key of the hcloud chart's env (its templates range over it)
    assert.deepEqual(unknownKeys("hcloudCloudControllerManager", hcloudCcmValues({ location: "fsn1", subnetCidr: "10.0.1.0/24", podCidr: "10.244.0.0/16" })), []);
    assert.deepEqual(unknownKeys("hcloudCloudControllerManager", { networking: { enabled: true, clusterCidr: "x" } }), ["networking.clusterCidr"]);
    // what gateway.controller: cilium merges under the Cilium values
    assert.deepEqual(unknownKeys("cilium", ciliumGatewayValues()), []);
    assert.deepEqual(unknownKeys("linkerdCrds", linkerdCrdsValues()), []);
    for (const ha of [true, false]) {
      assert.deepEqual(unknownKeys("linkerdControlPlane", linkerdControlPlaneValues({ trustAnchorPem: "A", issuerCertPem: "C", issuerKeyPem: "K", ha, tolerations: [CP_TOLERATION] })), [], `ha ${ha}`);
    }
  });

  it("sets only keys the pinned charts define in every committed stack (derived values and the stack's overrides)", () => {
    for (const stack of ["homelab", "deepthought", "e2e"]) {
      const config = parsed(stack);
      const values = finalAddonValues({ addons: config.addons, nodes: schedulingNodes(config.nodes, config.cluster.allowSchedulingOnControlPlanes), podCidr: config.cluster.podCidr });
      assert.deepEqual(unknownKeys("cilium", values.cilium), [], stack);
      assert.deepEqual(unknownKeys("rookCephCluster", values.rookCephCluster), [], stack);
      assert.deepEqual(unknownKeys("linkerdControlPlane", values.linkerdControlPlane), [], stack);
      assert.deepEqual(unknownKeys("rookCeph", { ...rookOperatorValues(), ...config.addons.rookCeph.operatorValues }), [], stack);
    }
  });
});
