// Scheduling feasibility of the add-ons, before any of them exists. Pure.
//
// addonSizing: how many replicas each add-on gets and which taints it tolerates, from the nodes
// that can hold its pods. addonPlacement: for the values the releases really get (derived values
// with the stack's overrides on top), which nodes each component can run on, and a refusal for
// every component whose replicas and anti-affinity those nodes cannot hold.
import type { AddonSettings } from "../../config/addons";
import { HCLOUD_CCM_TOLERATIONS } from "./hcloud-values";
import { blockingTaints, CONTROL_PLANE_TAINT, describeTaint, nodesFor, SchedulingNode, Toleration, tolerationFor, tolerationsForNodes } from "./scheduling";
import { CephSizing, ciliumValues, linkerdControlPlaneValues, mergeValues, oddAtMost, rookClusterValues, Values } from "./values";

// Chart defaults the check relies on when the values leave them unset.
/** cilium 1.17.6 values.yaml: operator.replicas 2, tolerations [{operator: Exists}], required anti-affinity on the hostname. */
const CILIUM_OPERATOR_DEFAULT_REPLICAS = 2;
const CILIUM_OPERATOR_DEFAULT_TOLERATIONS: Toleration[] = [{ operator: "Exists" }];
/** linkerd-control-plane edge-25.4.4 values-ha.yaml controllerReplicas. */
const LINKERD_HA_REPLICAS = 3;

const CONTROL_PLANE_TOLERATION = tolerationFor(CONTROL_PLANE_TAINT);

export interface AddonSizing {
  readonly cilium: { readonly operatorReplicas: number; readonly hubbleTolerations: readonly Toleration[] };
  readonly rookCeph: CephSizing;
  readonly linkerd: { readonly ha: boolean; readonly tolerations: readonly Toleration[] };
}

/** Nothing extra when enough nodes are free of taints; else the control plane's toleration (seed 003). */
function controlPlaneIfNeeded(nodes: readonly SchedulingNode[], wanted: number): Toleration[] {
  return nodesFor([], nodes).length >= wanted ? [] : [CONTROL_PLANE_TOLERATION];
}

/** Replicas and tolerations sized from the nodes that can hold each add-on's pods. */
export function addonSizing(nodes: readonly SchedulingNode[]): AddonSizing {
  // Ceph goes wherever a data disk is, whatever that node's taints; mons and mgrs may use the same nodes.
  const cephTolerations = tolerationsForNodes(nodes.filter((n) => n.dataDisks.length > 0));
  const cephNodes = nodesFor(cephTolerations, nodes).length;
  const haTolerations = controlPlaneIfNeeded(nodes, LINKERD_HA_REPLICAS);
  const ha = nodesFor(haTolerations, nodes).length >= LINKERD_HA_REPLICAS;
  return {
    cilium: {
      // The operator tolerates every taint (chart default): every node counts.
      operatorReplicas: Math.max(1, Math.min(CILIUM_OPERATOR_DEFAULT_REPLICAS, nodes.length)),
      hubbleTolerations: controlPlaneIfNeeded(nodes, 1),
    },
    rookCeph: { tolerations: cephTolerations, monCount: oddAtMost(cephNodes, 3), mgrCount: Math.max(1, Math.min(2, cephNodes)) },
    linkerd: { ha, tolerations: ha ? haTolerations : controlPlaneIfNeeded(nodes, 1) },
  };
}

/**
 * What pods may request on a node whose size the stack states (nodes[].capacity,
 * config/addon-placement.ts): its memory less the kubelet's reservations, its CPUs. A figure the
 * stack does not know is absent and not judged.
 */
export interface NodeBudget {
  /** Memory pods may request: the node's memory minus systemMemory + kubeMemory + evictionMemory. */
  readonly memoryMiB?: number;
  /** The node's CPUs in millicores (its capacity: Talos's own CPU reservation is not counted). */
  readonly cpuMillis?: number;
  /** How the figures were reached, for the message, e.g. "8192 MiB of nodes[1].capacity.memoryMiB less 1280 MiB of kubelet reservations". */
  readonly memoryText?: string;
  readonly cpuText?: string;
  /** The config path of the node's size, e.g. nodes[1].capacity. */
  readonly path: readonly (string | number)[];
}

/** What the placement check needs to know about the stack. */
export interface PlacementInput {
  readonly addons: AddonSettings;
  readonly nodes: readonly SchedulingNode[];
  readonly podCidr: string;
  /** Node sizes where the stack knows them, by node name. Default: none known. */
  readonly budgets?: Readonly<Record<string, NodeBudget>>;
}

/** rook-ceph-cluster v1.20.6 values.yaml cephClusterSpec.resources.osd.requests: what each OSD asks when the values leave it. */
export const ROOK_OSD_DEFAULT_REQUESTS = { cpu: "1000m", memory: "4Gi" } as const;

const MEMORY_UNITS: Record<string, number> = { "": 1 / 1048576, k: 1000 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576, T: 1e12 / 1048576, Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1048576 };

/** A Kubernetes memory quantity in MiB ("4Gi", "512Mi", "4G", bytes), or undefined. */
export function quantityMiB(q: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(typeof q === "number" ? String(q) : typeof q === "string" ? q : "");
  return m ? Number(m[1]) * MEMORY_UNITS[m[2] ?? ""]! : undefined;
}

/** A Kubernetes CPU quantity in millicores ("1000m", "1", "0.5", 2), or undefined. */
export function quantityMillis(q: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(typeof q === "number" ? String(q) : typeof q === "string" ? q : "");
  return m ? (m[2] ? Number(m[1]) : Number(m[1]) * 1000) : undefined;
}

/** The values each scheduling add-on's release gets (Linkerd's certificates left empty: they place nothing). */
export function finalAddonValues(input: PlacementInput, sizing = addonSizing(input.nodes)): { cilium: Values; rookCephCluster: Values; linkerdControlPlane: Values } {
  const { addons } = input;
  return {
    cilium: mergeValues(
      ciliumValues({ podCidr: input.podCidr, serviceMonitors: addons.prometheusOperatorCrds.enabled, ...sizing.cilium }),
      addons.cilium.values,
    ),
    rookCephCluster: mergeValues(rookClusterValues(input.nodes, addons.rookCeph.blockPool, sizing.rookCeph), addons.rookCeph.clusterValues),
    linkerdControlPlane: mergeValues(
      linkerdControlPlaneValues({ trustAnchorPem: "", issuerCertPem: "", issuerKeyPem: "", ...sizing.linkerd }),
      addons.linkerd.values,
    ),
  };
}

/** Where one component's replicas can run. */
export interface ComponentPlacement {
  readonly replicas: number;
  /** Required pod anti-affinity on the hostname (or Ceph's allowMultiplePerNode: false). */
  readonly onePerNode: boolean;
  /** The nodes whose taints its tolerations cover. */
  readonly nodes: readonly string[];
}

/** Per add-on, per component: the stack output `addonPlacement`. */
export type AddonPlacement = Record<string, Record<string, ComponentPlacement>>;

export interface PlacementProblem {
  /** The config path to change, below `talos-cluster:`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const obj = (v: unknown): Values => (v && typeof v === "object" && !Array.isArray(v) ? (v as Values) : {});
// Anything but an object in a tolerations list tolerates nothing (Kubernetes would refuse the pod spec).
const tolerationList = (v: unknown): Toleration[] => (Array.isArray(v) ? v.filter((t): t is Toleration => !!t && typeof t === "object" && !Array.isArray(t)) : []);
const has = (values: Values, keys: readonly string[]): boolean => {
  let at: unknown = values;
  for (const k of keys) {
    if (!at || typeof at !== "object" || !(k in (at as Values))) return false;
    at = (at as Values)[k];
  }
  return true;
};

/** Required anti-affinity that spreads replicas one per node. */
function spreadsByHostname(affinity: unknown): boolean {
  const terms = obj(obj(affinity).podAntiAffinity).requiredDuringSchedulingIgnoredDuringExecution;
  return Array.isArray(terms) && terms.some((t) => obj(t).topologyKey === "kubernetes.io/hostname");
}

interface Demand {
  /** Names the component in messages, e.g. "Linkerd controllers". */
  readonly label: string;
  readonly replicas: number;
  readonly onePerNode: boolean;
  readonly tolerations: readonly Toleration[];
  readonly path: readonly (string | number)[];
  /** What to do about it. */
  readonly fix: string;
}

function place(d: Demand, nodes: readonly SchedulingNode[], problems: PlacementProblem[]): ComponentPlacement {
  const fit = nodesFor(d.tolerations, nodes);
  const need = d.replicas <= 0 ? 0 : d.onePerNode ? d.replicas : 1;
  if (fit.length < need) {
    const kept = nodes.filter((n) => !fit.includes(n)).map((n) => `${n.name} (${blockingTaints(d.tolerations, n).map(describeTaint).join(", ")} not tolerated)`);
    const count = `${d.replicas} replica${d.replicas === 1 ? "" : "s"}${d.onePerNode && d.replicas > 1 ? " on different nodes" : ""}`;
    const room = fit.length === 0 ? `no node can hold ${d.replicas === 1 ? "it" : "them"}` : `only ${fit.length} node${fit.length === 1 ? "" : "s"} can hold them (${fit.map((n) => n.name).join(", ")})`;
    problems.push({ path: d.path, message: `${d.label}: ${count} wanted, but ${room}${kept.length ? `; kept out: ${kept.join(", ")}` : ""}; ${d.fix}` });
  }
  return { replicas: d.replicas, onePerNode: d.onePerNode, nodes: fit.map((n) => n.name) };
}

/**
 * Which nodes every replica of every enabled add-on can run on, and a problem for each that
 * cannot be placed, naming the add-on, the count and the nodes.
 */
export function addonPlacement(input: PlacementInput): { placement: AddonPlacement; problems: PlacementProblem[] } {
  const { addons, nodes } = input;
  const values = finalAddonValues(input);
  const problems: PlacementProblem[] = [];
  const placement: AddonPlacement = {};
  // A problem points at the first override that shaped it, else at the add-on's switch.
  const at = (base: string[], overrides: Values, ...candidates: string[][]) => {
    const keys = candidates.find((k) => has(overrides, k));
    return keys ? [...base, ...keys] : [base[0]!, base[1]!, "enabled"];
  };

  if (addons.cilium.enabled) {
    const v = values.cilium;
    const o = addons.cilium.values;
    const base = ["addons", "cilium", "values"];
    const operator = obj(v.operator);
    const out: Record<string, ComponentPlacement> = {};
    if (operator.enabled !== false) {
      const replicas = typeof operator.replicas === "number" ? operator.replicas : CILIUM_OPERATOR_DEFAULT_REPLICAS;
      out.operator = place(
        {
          label: "Cilium operator",
          replicas,
          onePerNode: operator.affinity === undefined || spreadsByHostname(operator.affinity),
          tolerations: operator.tolerations === undefined ? CILIUM_OPERATOR_DEFAULT_TOLERATIONS : tolerationList(operator.tolerations),
          path: at(base, o, ["operator", "replicas"], ["operator", "tolerations"], ["operator", "affinity"]),
          fix: "lower addons.cilium.values.operator.replicas or add nodes",
        },
        nodes,
        problems,
      );
    }
    const hubble = obj(v.hubble);
    for (const [key, label] of [["relay", "Hubble relay"], ["ui", "Hubble UI"]] as const) {
      const part = obj(hubble[key]);
      if (hubble.enabled === false || part.enabled !== true) continue;
      out[`hubble${key === "relay" ? "Relay" : "Ui"}`] = place(
        {
          label,
          replicas: typeof part.replicas === "number" ? part.replicas : 1,
          onePerNode: false,
          tolerations: tolerationList(part.tolerations),
          path: at(base, o, ["hubble", key, "tolerations"], ["hubble", key, "replicas"]),
          fix: `add tolerations in addons.cilium.values.hubble.${key}.tolerations or untaint a node`,
        },
        nodes,
        problems,
      );
    }
    placement.cilium = out;
  }

  if (addons.rookCeph.enabled) {
    const spec = obj(values.rookCephCluster.cephClusterSpec);
    const o = addons.rookCeph.clusterValues;
    const base = ["addons", "rookCeph", "clusterValues"];
    const specPath = (...keys: string[][]) => at(base, o, ...keys.map((k) => ["cephClusterSpec", ...k]));
    const placementSpec = obj(spec.placement);
    // Rook appends a daemon's own placement tolerations to those of `all` (ceph.rook.io/v1 Placement.Merge).
    const tolerationsOf = (daemon: string) => [...tolerationList(obj(placementSpec.all).tolerations), ...tolerationList(obj(placementSpec[daemon]).tolerations)];
    const out: Record<string, ComponentPlacement> = {};
    for (const [key, label] of [["mon", "Ceph monitors"], ["mgr", "Ceph managers"]] as const) {
      const daemon = obj(spec[key]);
      out[key === "mon" ? "monitors" : "managers"] = place(
        {
          label,
          replicas: typeof daemon.count === "number" ? daemon.count : 0,
          onePerNode: daemon.allowMultiplePerNode !== true,
          tolerations: tolerationsOf(key),
          path: specPath([key, "count"], [key, "allowMultiplePerNode"], ["placement"]),
          fix: `lower cephClusterSpec.${key}.count, add nodes, or tolerate their taints in cephClusterSpec.placement`,
        },
        nodes,
        problems,
      );
    }
    const storage = obj(spec.storage);
    const osdNodes = storage.useAllNodes === true ? nodes.map((n) => n.name) : (Array.isArray(storage.nodes) ? storage.nodes : []).map((n) => String(obj(n).name));
    const unknown = osdNodes.filter((name) => !nodes.some((n) => n.name === name));
    for (const name of unknown) {
      problems.push({ path: specPath(["storage"]), message: `Ceph OSDs are asked on node ${name}, which is not in talos-cluster:nodes; name one of ${nodes.map((n) => n.name).join(", ")}` });
    }
    // One OSD pod per disk, each bound to its node: every OSD node must take them.
    const osd = tolerationsOf("osd");
    const osdFit = nodesFor(osd, nodes.filter((n) => osdNodes.includes(n.name)));
    for (const node of nodes.filter((n) => osdNodes.includes(n.name) && !osdFit.includes(n))) {
      const taints = blockingTaints(osd, node).map(describeTaint).join(", ");
      problems.push({
        path: specPath(["placement"], ["storage"]),
        message: `Ceph OSDs on ${node.name} (its data disks) cannot run there: ${taints} not tolerated; tolerate them in cephClusterSpec.placement.all or .osd, or drop the node from cephClusterSpec.storage.nodes`,
      });
    }
    // One OSD per listed data disk.
    out.osds = { replicas: osdFit.reduce((sum, n) => sum + n.dataDisks.length, 0), onePerNode: false, nodes: osdFit.map((n) => n.name) };
    // Every OSD requests its share of the node (Helm merges an override over the chart's default
    // requests key by key); a node whose size the stack knows must hold all of its OSDs at once.
    const requests = { ...ROOK_OSD_DEFAULT_REQUESTS, ...obj(obj(obj(spec.resources).osd).requests) };
    const osdMemory = quantityMiB(requests.memory);
    const osdCpu = quantityMillis(requests.cpu);
    const requestsPath = has(o, ["cephClusterSpec", "resources", "osd"]) ? [...base, "cephClusterSpec", "resources", "osd", "requests"] : undefined;
    const storageNodes = Array.isArray(storage.nodes) ? storage.nodes.map(obj) : [];
    for (const node of osdFit) {
      const budget = input.budgets?.[node.name];
      if (!budget) continue;
      // The devices the values list for the node (the program lists its dataDisks), else its dataDisks.
      const listed = storageNodes.find((n) => n.name === node.name)?.devices;
      const osds = Array.isArray(listed) ? listed.length : node.dataDisks.length;
      if (osds === 0) continue;
      const disks = `${osds} OSD${osds === 1 ? "" : "s"} (one per device)`;
      const fix = (what: string, key: string) => `give the node more ${what}, lower cephClusterSpec.resources.osd.requests.${key}, or give it fewer devices`;
      if (osdMemory !== undefined && budget.memoryMiB !== undefined && osds * osdMemory > budget.memoryMiB) {
        problems.push({
          path: requestsPath ?? budget.path,
          message: `Ceph OSDs on ${node.name}: ${disks} request ${requests.memory} of memory each, ${osds * osdMemory} MiB in all, but pods can request only ${budget.memoryMiB} MiB there (${budget.memoryText}); ${fix("memory", "memory")}`,
        });
      }
      if (osdCpu !== undefined && budget.cpuMillis !== undefined && osds * osdCpu > budget.cpuMillis) {
        problems.push({
          path: requestsPath ?? budget.path,
          message: `Ceph OSDs on ${node.name}: ${disks} request ${requests.cpu} CPU each, ${osds * osdCpu}m in all, but the node has ${budget.cpuMillis}m (${budget.cpuText}); ${fix("CPUs", "cpu")}`,
        });
      }
    }
    // A replicated pool with failure domain `host` (Rook's default) needs as many OSD nodes as copies.
    (Array.isArray(values.rookCephCluster.cephBlockPools) ? values.rookCephCluster.cephBlockPools : []).forEach((pool, i) => {
      const poolSpec = obj(obj(pool).spec);
      const size = obj(poolSpec.replicated).size;
      if ((poolSpec.failureDomain ?? "host") === "host" && typeof size === "number" && size > osdFit.length) {
        problems.push({
          path: has(o, ["cephBlockPools"]) ? [...base, "cephBlockPools", i, "spec", "replicated", "size"] : specPath(["placement"], ["storage"]),
          message: `Ceph block pool ${String(obj(pool).name)} keeps ${size} copies on different hosts, but ${osdFit.length === 0 ? "no node holds OSDs" : `only ${osdFit.length} node${osdFit.length === 1 ? "" : "s"} hold OSDs (${osdFit.map((n) => n.name).join(", ")})`}; lower its size or give more nodes dataDisks`,
        });
      }
    });
    placement.rookCeph = out;
  }

  if (addons.hcloudCcm.enabled === true) {
    const o = addons.hcloudCcm.values;
    const networking = obj(o.networking).enabled !== false;
    const monitoring = obj(o.monitoring).enabled !== false;
    placement.hcloudCcm = {
      controller: place(
        {
          label: "Hetzner cloud controller manager",
          // A DaemonSet (kind) needs one node at least, like one replica.
          replicas: o.kind === "DaemonSet" ? 1 : typeof o.replicaCount === "number" ? o.replicaCount : 1,
          // On the host network (networking.enabled) its metrics port 8233 is a host port: one per node.
          onePerNode: networking && monitoring,
          tolerations: [...HCLOUD_CCM_TOLERATIONS, ...tolerationList(o.additionalTolerations)],
          path: at(["addons", "hcloudCcm", "values"], o, ["replicaCount"], ["additionalTolerations"], ["kind"]),
          fix: "lower addons.hcloudCcm.values.replicaCount or tolerate the nodes' taints in addons.hcloudCcm.values.additionalTolerations",
        },
        nodes,
        problems,
      ),
    };
  }

  if (addons.linkerd.enabled) {
    const v = values.linkerdControlPlane;
    placement.linkerd = {
      controllers: place(
        {
          label: "Linkerd controllers (destination, identity, proxy-injector)",
          replicas: typeof v.controllerReplicas === "number" ? v.controllerReplicas : 1,
          onePerNode: v.enablePodAntiAffinity === true,
          tolerations: tolerationList(v.tolerations),
          path: at(["addons", "linkerd", "values"], addons.linkerd.values, ["controllerReplicas"], ["tolerations"], ["enablePodAntiAffinity"]),
          fix: "lower addons.linkerd.values.controllerReplicas, add nodes, or tolerate their taints in addons.linkerd.values.tolerations",
        },
        nodes,
        problems,
      ),
    };
  }
  return { placement, problems };
}
