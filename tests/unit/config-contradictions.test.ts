// The mutation test's deterministic half: for every setting the program derives a resource or a
// premise from, a mutation of a committed stack that contradicts it must be refused, with a line
// at the path named. The committed stacks themselves parse (tests/unit/config.test.ts), so each
// refusal here comes from the one mutation. The premise list is read from the rule itself
// (PREMISE_KEYS), so a premise added without a contradicting mutation fails the completeness test.
import assert from "node:assert/strict";
import { BASE_URL_PATHS } from "../../config/base-urls";
import { PREMISE_KEYS } from "../../config/premise-checks";
import { parseStackConfig, projectConfig, StackConfigError } from "../../config/schema";
import { committedStackConfig, TEST_HCLOUD_TOKEN } from "../support/stack-files";

type Json = any;
const AGE = "age1sjtwfwtgydjpmgq3f9sumgskwlmhm58ksuguutjvtkshas3egl00vhgyma";

/** A committed stack as one object of decoded values. */
function stack(name: string): Record<string, Json> {
  const flat = name === "hetzner" ? { ...committedStackConfig(name), "hcloud:token": TEST_HCLOUD_TOKEN } : committedStackConfig(name);
  return Object.fromEntries(Object.entries(flat).map(([k, v]) => [k, /^\s*[[{]/.test(v) ? JSON.parse(v) : v]));
}

/** Sets `value` at a dotted path (`talos-cluster:addons.cilium.values.x`), creating objects on the way. */
function setPath(root: Record<string, Json>, dotted: string, value: Json) {
  const [top, ...rest] = dotted.split(".");
  if (rest.length === 0) return void (root[top!] = value);
  let at = (root[top!] ??= {});
  rest.slice(0, -1).forEach((k) => (at = at[/^\d+$/.test(k) ? Number(k) : k] ??= {}));
  at[rest[rest.length - 1]!] = value;
}

function refusal(stackName: string, edits: Record<string, Json>): string[] {
  const config = stack(stackName);
  for (const [path, value] of Object.entries(edits)) setPath(config, path, value === undefined ? undefined : structuredClone(value));
  const flat = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  try {
    parseStackConfig(projectConfig(flat));
  } catch (err) {
    assert.ok(err instanceof StackConfigError, String(err));
    return [...err.issues];
  }
  return [];
}

const withBackup = {
  "talos-cluster:backup": { s3: { endpoint: "https://fsn1.your-objectstorage.com", bucket: "dt-etcd", region: "fsn1" } },
  "talos-cluster:backupAccessKey": "access-key-1",
  "talos-cluster:backupSecretKey": "secret-key-12345",
  "talos-cluster:backupAgePublicKey": AGE,
};

/** A value that contradicts each premise, by values path and key (config/premise-checks.ts). */
const PREMISE_CONTRADICTIONS: Record<string, Record<string, Json>> = {
  "addons.cilium.values": {
    kubeProxyReplacement: false,
    k8sServiceHost: "192.168.1.32",
    k8sServicePort: 6443,
    "ipam.mode": "cluster-pool",
    ipv4NativeRoutingCIDR: "10.0.0.0/8",
    "cgroup.autoMount.enabled": true,
    "cgroup.hostRoot": "/run/cilium/cgroupv2",
    "securityContext.capabilities.ciliumAgent": ["NET_ADMIN", "SYS_MODULE"],
    "prometheus.serviceMonitor.enabled": true,
    "operator.prometheus.serviceMonitor.enabled": true,
    "hubble.metrics.serviceMonitor.enabled": true,
  },
  "addons.rookCeph.clusterValues": {
    "cephClusterSpec.storage.useAllNodes": true,
    "cephClusterSpec.storage.useAllDevices": true,
    "cephClusterSpec.storage.deviceFilter": "^sd",
    "cephClusterSpec.storage.devicePathFilter": "^/dev/disk/by-path/",
    "cephClusterSpec.dataDirHostPath": "/opt/rook",
    operatorNamespace: "rook",
  },
  "addons.rookCeph.operatorValues": { "csi.kubeletDirPath": "/var/lib/k0s/kubelet", "csi.enableRbdDriver": false },
  "addons.linkerd.values": {
    identityTrustAnchorsPEM: "pem",
    "identity.issuer.tls.crtPEM": "pem",
    "identity.issuer.tls.keyPEM": "pem",
    "identity.issuer.scheme": "kubernetes.io/tls",
    "proxyInit.runAsRoot": false,
    cniEnabled: true,
  },
  "addons.linkerdViz.values": { linkerdNamespace: "linkerd-system" },
  "addons.hcloudCcm.values": { "networking.enabled": false, "networking.clusterCIDR": "10.42.0.0/16" },
};

/** Extra edits a premise needs to be in force (the ServiceMonitor premises need the CRDs off). */
const PREMISE_CONTEXT: Record<string, Record<string, Json>> = {
  "prometheus.serviceMonitor.enabled": { "talos-cluster:addons.prometheusOperatorCrds.enabled": false },
  "operator.prometheus.serviceMonitor.enabled": { "talos-cluster:addons.prometheusOperatorCrds.enabled": false },
  "hubble.metrics.serviceMonitor.enabled": { "talos-cluster:addons.prometheusOperatorCrds.enabled": false },
};

/** Contradictions of the other meaning rules and of settings the program derives resources from. */
const CONTRADICTIONS: { stack: string; what: string; edits: Record<string, Json>; path: string }[] = [
  // kind 2: roles no machine can fill
  { stack: "deepthought", what: "endpoint at a worker", edits: { "talos-cluster:cluster.endpoint": "https://192.168.1.24:6443" }, path: "talos-cluster:cluster.endpoint" },
  { stack: "homelab", what: "no node takes pods", edits: { "talos-cluster:cluster.allowSchedulingOnControlPlanes": false, "talos-cluster:nodes.1.role": "controlplane", "talos-cluster:cluster.allowEvenControlPlanes": true, "talos-cluster:cluster.vip": { address: "10.0.1.40", interface: "eth0" } }, path: "talos-cluster:cluster.allowSchedulingOnControlPlanes" },
  { stack: "deepthought", what: "backup on a render-only stack", edits: { ...withBackup, "talos-cluster:cluster.applyNodes": false }, path: "talos-cluster:backup.enabled" },
  { stack: "deepthought", what: "Ceph without disks", edits: { "talos-cluster:nodes.0.dataDisks": [], "talos-cluster:nodes.1.dataDisks": [], "talos-cluster:nodes.2.dataDisks": [] }, path: "talos-cluster:addons.rookCeph.enabled" },
  { stack: "deepthought", what: "Linkerd without Gateway API CRDs", edits: { "talos-cluster:addons.gatewayApi.enabled": false }, path: "talos-cluster:addons.linkerd.enabled" },
  { stack: "deepthought", what: "an OSD device no node lists", edits: { "talos-cluster:addons.rookCeph.clusterValues": { cephClusterSpec: { storage: { nodes: [{ name: "deepthought-worker-1", devices: [{ name: "sdc" }] }] } } } }, path: "talos-cluster:addons.rookCeph.clusterValues.cephClusterSpec.storage.nodes[0].devices[0].name" },
  // kind 3: budgets larger than the machine
  { stack: "homelab", what: "a guest smaller than the reservations", edits: { "talos-cluster:nodes.1.vm.memoryMiB": 1024 }, path: "talos-cluster:cluster.kubeletReservations" },
  { stack: "homelab", what: "reservations as large as a guest", edits: { "talos-cluster:cluster.kubeletReservations": { systemMemory: "2Gi", kubeMemory: "2Gi" } }, path: "talos-cluster:cluster.kubeletReservations" },
  { stack: "hetzner", what: "reservations as large as a server type", edits: { "talos-cluster:cluster.kubeletReservations": { systemMemory: "4Gi", kubeMemory: "4Gi" } }, path: "talos-cluster:cluster.kubeletReservations" },
  // kind 5: namespaces that widen privileges
  { stack: "deepthought", what: "backup in kube-system", edits: { ...withBackup, "talos-cluster:backup.namespace": "kube-system" }, path: "talos-cluster:backup.namespace" },
  { stack: "deepthought", what: "backup in Rook's namespace", edits: { ...withBackup, "talos-cluster:backup.namespace": "rook-ceph" }, path: "talos-cluster:backup.namespace" },
  { stack: "deepthought", what: "backup beside the Gateway", edits: { ...withBackup, "talos-cluster:backup.namespace": "gateway" }, path: "talos-cluster:backup.namespace" },
  { stack: "deepthought", what: "Gateway in default", edits: { "talos-cluster:addons.gateway.namespace": "default" }, path: "talos-cluster:addons.gateway.namespace" },
  { stack: "deepthought", what: "Gateway in the reserved kube- prefix", edits: { "talos-cluster:addons.gateway.namespace": "kube-edge" }, path: "talos-cluster:addons.gateway.namespace" },
  { stack: "deepthought", what: "Gateway in Linkerd's namespace", edits: { "talos-cluster:addons.gateway.namespace": "linkerd" }, path: "talos-cluster:addons.gateway.namespace" },
  // kind 6: paths that name nothing
  { stack: "deepthought", what: "an empty by-id", edits: { "talos-cluster:nodes.0.installDisk": "/dev/disk/by-id/" }, path: "talos-cluster:nodes[0].installDisk" },
  { stack: "deepthought", what: "a partition by-id", edits: { "talos-cluster:nodes.1.dataDisks": ["/dev/disk/by-id/ata-WDC-part1"] }, path: "talos-cluster:nodes[1].dataDisks[0]" },
  { stack: "deepthought", what: "an NVMe controller", edits: { "talos-cluster:nodes.2.installDisk": "/dev/nvme0" }, path: "talos-cluster:nodes[2].installDisk" },
  { stack: "homelab", what: "a data disk on a guest with one disk", edits: { "talos-cluster:nodes.0.dataDisks": ["/dev/sdb"] }, path: "talos-cluster:nodes[0].dataDisks[0]" },
  { stack: "homelab", what: "a node patch outside the project", edits: { "talos-cluster:nodes.0.patches": ["../elsewhere/cp.yaml"] }, path: "talos-cluster:nodes[0].patches[0]" },
  { stack: "homelab", what: "a DSM folder through '..'", edits: { "talos-cluster:synology.imageFolder": "/vmm-images/.." }, path: "talos-cluster:synology.imageFolder" },
  // settings resources are derived from (earlier rounds' rules)
  { stack: "homelab", what: "a second control plane (even count)", edits: { "talos-cluster:nodes.1.role": "controlplane", "talos-cluster:cluster.vip": { address: "10.0.1.40", interface: "eth0" } }, path: "talos-cluster:nodes" },
  { stack: "homelab", what: "a node inside the pod network", edits: { "talos-cluster:nodes.1.address": "10.244.3.4" }, path: "talos-cluster:nodes[1].address" },
  { stack: "homelab", what: "the install disk as a data disk", edits: { "talos-cluster:nodes.0.dataDisks": ["/dev/sda"], "talos-cluster:nodes.0.platform": "bare-metal", "talos-cluster:nodes.0.vm": undefined, "talos-cluster:nodes.1.vm": undefined, "talos-cluster:synology": undefined, "talos-cluster:synologyPassword": undefined }, path: "talos-cluster:nodes[0].dataDisks[0]" },
  { stack: "deepthought", what: "Cilium off while it is the CNI", edits: { "talos-cluster:addons.cilium": { enabled: false } }, path: "talos-cluster:addons.cilium.enabled" },
  { stack: "hetzner", what: "the private network over the pods", edits: { "talos-cluster:cluster.podCidr": "10.0.0.0/16" }, path: "talos-cluster:hetzner.networkCidr" },
];

const linesAt = (lines: string[], path: string) => lines.filter((l) => l.startsWith(`${path}: `));

describe("stack config contradictions: a mutation that contradicts a derived setting or premise is refused at its path", () => {
  for (const [valuesPath, contradictions] of Object.entries(PREMISE_CONTRADICTIONS)) {
    // the Hetzner cloud controller runs only on the Hetzner stack
    const stackName = valuesPath.startsWith("addons.hcloudCcm.") ? "hetzner" : "deepthought";
    for (const [key, value] of Object.entries(contradictions)) {
      it(`${valuesPath}.${key} = ${JSON.stringify(value)} (${stackName})`, () => {
        const lines = refusal(stackName, { [`talos-cluster:${valuesPath}.${key}`]: value, ...(PREMISE_CONTEXT[key] ?? {}) });
        assert.equal(linesAt(lines, `talos-cluster:${valuesPath}.${key}`).length, 1, lines.join("\n") || "accepted");
      });
    }
  }

  it("has a contradicting mutation for every premise the rule knows", () => {
    const known = Object.entries(PREMISE_KEYS).flatMap(([p, keys]) => keys.map((k) => `${p}.${k}`)).sort();
    const tried = Object.entries(PREMISE_CONTRADICTIONS).flatMap(([p, c]) => Object.keys(c).map((k) => `${p}.${k}`)).sort();
    assert.deepEqual(tried, known);
  });

  for (const base of BASE_URL_PATHS) {
    for (const [part, extra] of [["a path", "/api"], ["a query", "/?debug=1"], ["a fragment", "/#x"], ["credentials", "user:pw@"]] as const) {
      it(`${base} with ${part} is refused`, () => {
        const original: Record<string, string> = { "imageFactory.url": "https://factory.talos.dev", "synology.url": "https://synology.local.symmatree.com:5001", "backup.s3.endpoint": "https://fsn1.your-objectstorage.com" };
        const url = part === "credentials" ? original[base]!.replace("://", `://${extra}`) : `${original[base]}${extra}`;
        const lines = refusal("homelab", { ...withBackup, [`talos-cluster:${base}`]: url });
        assert.equal(linesAt(lines, `talos-cluster:${base}`).length, 1, lines.join("\n") || "accepted");
      });
    }
  }

  for (const c of CONTRADICTIONS) {
    it(`${c.stack}: ${c.what} is refused at ${c.path}`, () => {
      const lines = refusal(c.stack, c.edits);
      assert.ok(linesAt(lines, c.path).length >= 1, lines.join("\n") || "accepted");
    });
  }

  it("leaves the committed stacks, and the same stacks with a backup section, valid", () => {
    for (const name of ["homelab", "deepthought", "hetzner", "hybrid"]) {
      assert.deepEqual(refusal(name, {}), []);
      assert.deepEqual(refusal(name, withBackup), []);
    }
  });
});
