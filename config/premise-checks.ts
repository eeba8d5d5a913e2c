// Kind 1 of the meaning rules (config/README.md): add-on value overrides (addons.*.values) that
// undo what the program itself relies on. The program derives these values from the stack
// (components/addons/values.ts) and builds the rest of the cluster on them, so an override that
// changes one is refused, naming the key and the premise; the fix is always the stack setting
// the premise comes from, or removing the override.
import { rookDeviceName } from "../components/addons/values";
import { Ctx, issue, list, record, str } from "./check-helpers";

/** The value at a dotted path of nested objects, or undefined. */
export function valueAt(root: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((v, key) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined), root);
}

const isTrue = (v: unknown) => v === true || v === "true";
const isFalse = (v: unknown) => v === false || v === "false";

/** One premise: an override key, whether a value contradicts it, and why the program needs it. */
interface Premise {
  readonly key: string;
  readonly breaks: (v: unknown, facts: Facts) => boolean;
  readonly why: (v: unknown, facts: Facts) => string;
}

interface Facts {
  readonly podCidr: string;
  readonly serviceMonitors: boolean;
  readonly blockPool: boolean;
  /** The cilium Gateway controller is on: its own rule (config/gateway-checks.ts) covers kubeProxyReplacement and l7Proxy. */
  readonly ciliumGateway: boolean;
}

const show = (v: unknown) => JSON.stringify(v);
const REMOVE = "remove the override";

const CILIUM: Premise[] = [
  {
    key: "kubeProxyReplacement",
    breaks: (v, f) => v !== undefined && !isTrue(v) && !f.ciliumGateway,
    why: (v) => `is ${show(v)}, but with Cilium as the CNI the program switches Talos's kube-proxy off (cluster.proxy.disabled), so Cilium must replace it or Services stop working; ${REMOVE}, or set cluster.cni: flannel to keep kube-proxy`,
  },
  {
    key: "k8sServiceHost",
    breaks: (v) => v !== undefined && v !== "localhost",
    why: (v) => `is ${show(v)}, but Cilium starts before any Service address works, so the program points it at KubePrism (localhost:7445, which Talos runs on every node); ${REMOVE}`,
  },
  {
    key: "k8sServicePort",
    breaks: (v) => v !== undefined && v !== 7445 && v !== "7445",
    why: (v) => `is ${show(v)}, but KubePrism, the API endpoint Talos serves on every node for Cilium, listens on 7445; ${REMOVE}`,
  },
  {
    key: "ipam.mode",
    breaks: (v) => v !== undefined && v !== "kubernetes",
    why: (v, f) => `is ${show(v)}, but the program gives each node a /24 of cluster.podCidr (${f.podCidr}) through the controller manager and checks every network against it (ipam.mode kubernetes); another mode hands out pod addresses outside it; ${REMOVE} and set cluster.podCidr instead`,
  },
  {
    key: "ipv4NativeRoutingCIDR",
    breaks: (v, f) => v !== undefined && v !== f.podCidr,
    why: (v, f) => `is ${show(v)}, but the pod network is cluster.podCidr ${f.podCidr}, which the program passes here; ${REMOVE} and set cluster.podCidr instead`,
  },
  {
    key: "cgroup.autoMount.enabled",
    breaks: (v) => v !== undefined && !isFalse(v),
    why: (v) => `is ${show(v)}, but Talos mounts cgroup v2 itself at /sys/fs/cgroup and Cilium must not mount it again; ${REMOVE}`,
  },
  {
    key: "cgroup.hostRoot",
    breaks: (v) => v !== undefined && v !== "/sys/fs/cgroup",
    why: (v) => `is ${show(v)}, but Talos mounts cgroup v2 at /sys/fs/cgroup; ${REMOVE}`,
  },
  {
    key: "securityContext.capabilities.ciliumAgent",
    breaks: (v) => Array.isArray(v) && v.includes("SYS_MODULE"),
    why: () => "includes SYS_MODULE, but Talos refuses to load kernel modules from pods (the program grants every capability the agent needs but that one); remove SYS_MODULE",
  },
  ...["prometheus.serviceMonitor.enabled", "operator.prometheus.serviceMonitor.enabled", "hubble.metrics.serviceMonitor.enabled"].map(
    (key): Premise => ({
      key,
      breaks: (v, f) => isTrue(v) && !f.serviceMonitors,
      why: () => "is true, but addons.prometheusOperatorCrds.enabled is false, so the ServiceMonitor CRD does not exist and the release would fail; set addons.prometheusOperatorCrds.enabled: true, or remove the override",
    }),
  ),
];

const DISKS_FROM_NODES = "Rook gets exactly the disks listed in nodes[].dataDisks (never an install disk, and each wiped only when the stack says so)";
const ROOK_CLUSTER: Premise[] = [
  ...["useAllNodes", "useAllDevices"].map(
    (key): Premise => ({
      key: `cephClusterSpec.storage.${key}`,
      breaks: (v) => v !== undefined && !isFalse(v),
      why: (v) => `is ${show(v)}, but ${DISKS_FROM_NODES}; ${key === "useAllDevices" ? "every empty disk would become an OSD" : "every node would be searched for disks"}; remove the override and list the disks in nodes[].dataDisks`,
    }),
  ),
  ...["deviceFilter", "devicePathFilter"].map(
    (key): Premise => ({
      key: `cephClusterSpec.storage.${key}`,
      breaks: (v) => v !== undefined,
      why: () => `is set, but ${DISKS_FROM_NODES}; remove the override and list the disks in nodes[].dataDisks`,
    }),
  ),
  {
    key: "cephClusterSpec.dataDirHostPath",
    breaks: (v) => v !== undefined && !(typeof v === "string" && /^\/var\/[^\0]+$/.test(v) && !v.split("/").includes("..")),
    why: (v) => `is ${show(v)}, but Talos's root file system is read-only and only /var persists; use a path under /var, e.g. /var/lib/rook`,
  },
  {
    key: "operatorNamespace",
    breaks: (v) => v !== undefined && v !== "rook-ceph",
    why: (v) => `is ${show(v)}, but the program installs Rook's operator into rook-ceph; ${REMOVE}`,
  },
];

/** Hetzner's cloud controller (components/addons/hcloud-values.ts). */
const HCLOUD_CCM: Premise[] = [
  {
    key: "networking.enabled",
    breaks: (v) => isFalse(v),
    why: () =>
      "is false, but the program hands the cloud controller the cluster's private network (HCLOUD_NETWORK, which the chart sets only with networking) so load balancers reach the nodes' private addresses: the firewall admits only the APIs on the public interfaces; remove the override",
  },
  {
    key: "networking.clusterCIDR",
    breaks: (v, f) => v !== undefined && v !== f.podCidr,
    why: (v, f) => `is ${show(v)}, but the pod network is cluster.podCidr ${f.podCidr}, which the program passes here; ${REMOVE} and set cluster.podCidr instead`,
  },
];

const ROOK_OPERATOR: Premise[] = [
  {
    key: "csi.kubeletDirPath",
    breaks: (v) => v !== undefined && v !== "/var/lib/kubelet",
    why: (v) => `is ${show(v)}, but Talos's kubelet keeps its pods' volumes in /var/lib/kubelet; ${REMOVE}`,
  },
  {
    key: "csi.enableRbdDriver",
    breaks: (v, f) => isFalse(v) && f.blockPool,
    why: () => "is false, but addons.rookCeph.blockPool makes the default StorageClass on Ceph RBD, which needs the RBD CSI driver; remove the override, or set addons.rookCeph.blockPool: false",
  },
];

const MADE_BY_THE_PROGRAM = "the program makes Linkerd's trust anchor and issuer (addons.linkerd.trustAnchorValidityHours, issuerValidityHours) and keeps them in the encrypted state";
const LINKERD: Premise[] = [
  ...["identityTrustAnchorsPEM", "identity.issuer.tls.crtPEM", "identity.issuer.tls.keyPEM", "identity.issuer.scheme"].map(
    (key): Premise => ({ key, breaks: (v) => v !== undefined, why: () => `is set, but ${MADE_BY_THE_PROGRAM}; ${REMOVE}` }),
  ),
  {
    key: "proxyInit.runAsRoot",
    breaks: (v) => v !== undefined && !isTrue(v),
    why: (v) => `is ${show(v)}, but Talos has no nsenter for the Linkerd CNI plugin, so proxy-init programs each pod's iptables itself and must run as root (seed 003); ${REMOVE}`,
  },
  {
    key: "cniEnabled",
    breaks: (v) => isTrue(v),
    why: () => "is true, but the program installs no linkerd-cni plugin: meshed pods would wait for network rules nobody writes; remove the override",
  },
];

const LINKERD_VIZ: Premise[] = [
  {
    key: "linkerdNamespace",
    breaks: (v) => v !== undefined && v !== "linkerd",
    why: (v) => `is ${show(v)}, but the program installs Linkerd's control plane into linkerd; ${REMOVE}`,
  },
];

function checkPremises(values: unknown, premises: readonly Premise[], path: (string | number)[], facts: Facts, ctx: Ctx) {
  for (const premise of premises) {
    const keys = premise.key.split(".");
    const v = valueAt(values, keys);
    if (premise.breaks(v, facts)) issue(ctx, [...path, ...keys], premise.why(v, facts));
  }
}

/**
 * A storage.nodes override may narrow the OSD nodes (placement.ts checks they exist and can hold
 * OSDs), but every device it names must be one of that node's dataDisks, and no node entry may
 * widen the choice again with useAllDevices or a filter.
 */
function checkStorageNodes(clusterValues: unknown, nodes: Record<string, unknown>[], ctx: Ctx) {
  const base = ["addons", "rookCeph", "clusterValues", "cephClusterSpec", "storage", "nodes"];
  list(valueAt(clusterValues, ["cephClusterSpec", "storage", "nodes"])).forEach((entry, i) => {
    const e = record(entry);
    const name = str(e.name);
    for (const key of ["useAllDevices", "deviceFilter", "devicePathFilter"]) {
      if (e[key] !== undefined && !(key === "useAllDevices" && isFalse(e[key]))) issue(ctx, [...base, i, key], `is set, but ${DISKS_FROM_NODES}; remove it and list the disks in nodes[].dataDisks`);
    }
    const node = nodes.find((n) => str(n.name) === name);
    if (!node) return; // an unknown node: the placement check names it
    const disks = list(node.dataDisks).map((d) => str(typeof d === "string" ? d : record(d).path) ?? "");
    const known = new Set(disks.map(rookDeviceName));
    list(e.devices).forEach((device, j) => {
      const dev = str(record(device).name);
      if (dev !== undefined && !known.has(dev) && !known.has(rookDeviceName(dev))) {
        issue(ctx, [...base, i, "devices", j, "name"], `${dev} is not one of ${name}'s dataDisks (${disks.length ? disks.join(", ") : "it has none"}); ${DISKS_FROM_NODES}; add it to that node's dataDisks`);
      }
    });
  });
}

/** Overrides of enabled add-ons against the values the program derives and relies on. */
export function checkValuePremises(addons: Record<string, unknown>, cluster: Record<string, unknown>, nodes: Record<string, unknown>[], ctx: Ctx): void {
  const enabled = (name: string, byDefault: boolean) => {
    const v = record(addons[name]).enabled;
    return typeof v === "boolean" ? v : byDefault;
  };
  const gateway = record(addons.gateway);
  const facts: Facts = {
    podCidr: str(cluster.podCidr) ?? "10.244.0.0/16",
    serviceMonitors: enabled("prometheusOperatorCrds", true),
    blockPool: record(addons.rookCeph).blockPool !== false,
    ciliumGateway: enabled("gateway", false) && (gateway.controller ?? "contour") === "cilium",
  };
  if (enabled("cilium", true) && (cluster.cni ?? "cilium") === "cilium") checkPremises(record(addons.cilium).values, CILIUM, ["addons", "cilium", "values"], facts, ctx);
  if (enabled("rookCeph", false)) {
    checkPremises(record(addons.rookCeph).clusterValues, ROOK_CLUSTER, ["addons", "rookCeph", "clusterValues"], facts, ctx);
    checkStorageNodes(record(addons.rookCeph).clusterValues, nodes, ctx);
    checkPremises(record(addons.rookCeph).operatorValues, ROOK_OPERATOR, ["addons", "rookCeph", "operatorValues"], facts, ctx);
  }
  if (enabled("linkerd", false)) checkPremises(record(addons.linkerd).values, LINKERD, ["addons", "linkerd", "values"], facts, ctx);
  // On by default where it runs at all (a Hetzner stack; elsewhere it is refused, config/checks.ts).
  if (enabled("hcloudCcm", true)) checkPremises(record(addons.hcloudCcm).values, HCLOUD_CCM, ["addons", "hcloudCcm", "values"], facts, ctx);
  if (enabled("linkerdViz", false)) checkPremises(record(addons.linkerdViz).values, LINKERD_VIZ, ["addons", "linkerdViz", "values"], facts, ctx);
}

/** The premises by add-on and values key, for the rule table's test. */
export const PREMISE_KEYS = {
  "addons.cilium.values": CILIUM.map((p) => p.key),
  "addons.rookCeph.clusterValues": ROOK_CLUSTER.map((p) => p.key),
  "addons.rookCeph.operatorValues": ROOK_OPERATOR.map((p) => p.key),
  "addons.linkerd.values": LINKERD.map((p) => p.key),
  "addons.linkerdViz.values": LINKERD_VIZ.map((p) => p.key),
  "addons.hcloudCcm.values": HCLOUD_CCM.map((p) => p.key),
} as const;
