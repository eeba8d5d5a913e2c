// Helm values and labels derived from cluster facts. Pure: tests deep-equal them.
import { KUBEPRISM_PORT } from "../talos/patches";
import type { Toleration } from "./scheduling";

export type Values = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Values => !!v && typeof v === "object" && !Array.isArray(v);

/** `overrides` merged over `defaults`: objects merge key by key, anything else (lists too) replaces. */
export function mergeValues(defaults: Values, overrides: Values = {}): Values {
  const out: Values = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    const base = out[key];
    out[key] = isPlainObject(base) && isPlainObject(value) ? mergeValues(base, value) : value;
  }
  return out;
}

/**
 * Pod-security labels for a namespace whose pods need host access (CNI, storage, mesh init):
 * Talos enforces `baseline` cluster-wide, so these namespaces opt out explicitly (seeds 001, 003).
 */
export function privilegedNamespaceLabels(): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
  };
}

export interface CiliumFacts {
  readonly podCidr: string;
  /** Whether the prometheus-operator CRDs are installed, so ServiceMonitors can be created. */
  readonly serviceMonitors: boolean;
  /** Cilium operator replicas, one per node (the chart's required anti-affinity): at most 2, the chart's default (placement.ts). */
  readonly operatorReplicas: number;
  /** Hubble relay and UI tolerations: the control plane's only when no node is free of taints (placement.ts). */
  readonly hubbleTolerations: readonly Toleration[];
  /**
   * Whether Linkerd meshes the cluster: socket-level load balancing then stays in the host
   * namespace, so pods' ClusterIP connections reach the Linkerd proxy un-rewritten (Linkerd's
   * cluster-configuration docs, "Cilium"). Default: false.
   */
  readonly linkerd?: boolean;
  /** Whether an LB IPAM pool is announced over L2 (addons.loadBalancer.addresses). Default: false. */
  readonly l2Announcements?: boolean;
}

/** Cilium on Talos (Talos docs "Deploying Cilium CNI", seeds 000/001/004). */
export function ciliumValues(facts: CiliumFacts): Values {
  const hubbleTolerations = facts.hubbleTolerations.length ? { tolerations: [...facts.hubbleTolerations] } : {};
  return {
    // Talos runs no kube-proxy (cluster patch); Cilium takes over services and reaches the API
    // server through KubePrism on every node, since there is no service IP before Cilium runs.
    kubeProxyReplacement: true,
    k8sServiceHost: "localhost",
    k8sServicePort: KUBEPRISM_PORT,
    ipam: { mode: "kubernetes" },
    // The pod CIDR Talos hands to the controller manager; Cilium masquerades traffic leaving it.
    ipv4NativeRoutingCIDR: facts.podCidr,
    // Talos mounts cgroup v2 itself; Cilium must not try to mount it again.
    cgroup: { autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" },
    securityContext: {
      capabilities: {
        // Talos forbids loading kernel modules from pods: everything but SYS_MODULE.
        ciliumAgent: ["CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_ADMIN", "SYS_RESOURCE", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
        cleanCiliumState: ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"],
      },
    },
    prometheus: { enabled: true, serviceMonitor: { enabled: facts.serviceMonitors } },
    // Never more operator replicas than nodes: the chart wants each on its own node.
    operator: { replicas: facts.operatorReplicas, prometheus: { enabled: true, serviceMonitor: { enabled: facts.serviceMonitors } } },
    hubble: {
      enabled: true,
      metrics: { enabled: ["dns", "drop", "tcp", "flow", "icmp", "http"], serviceMonitor: { enabled: facts.serviceMonitors } },
      relay: { enabled: true, ...hubbleTolerations },
      ui: { enabled: true, ...hubbleTolerations },
    },
    ...(facts.linkerd ? { socketLB: { hostNamespaceOnly: true } } : {}),
    // Cilium answers ARP for the pool's addresses (Documentation/network/l2-announcements.rst).
    ...(facts.l2Announcements ? { l2announcements: { enabled: true } } : {}),
  };
}

export interface StorageNode {
  readonly name: string;
  readonly dataDisks: readonly string[];
}

/** The largest odd count not above `n` nor `max`: etcd-like quorums for mons and replicas. */
export function oddAtMost(n: number, max: number): number {
  const capped = Math.max(1, Math.min(n, max));
  return capped % 2 === 1 ? capped : capped - 1;
}

/** Where Ceph's daemons may run and how many (placement.ts sizes them from the nodes that can hold them). */
export interface CephSizing {
  /** Tolerations for every taint of the nodes holding data disks (e.g. an unschedulable control plane's). */
  readonly tolerations: readonly Toleration[];
  /** Monitors, an odd count of at most 3, one per node. */
  readonly monCount: number;
  /** Managers, at most 2, one per node. */
  readonly mgrCount: number;
}

/**
 * A data disk as Rook's `devices[].name` matches it: a kernel name (sdb) as the bare name, as
 * Rook's docs write it; anything deeper (/dev/disk/by-id/...) as the full path, which Rook matches
 * against the disk's udev links (pkg/daemon/ceph/osd/daemon.go). `disk/by-id/...` matches nothing.
 */
export function rookDeviceName(disk: string): string {
  const rest = disk.replace(/^\/dev\//, "");
  return rest.includes("/") ? disk : rest;
}

/** The rook-ceph-cluster chart values: only the listed data disks, sized for the nodes Ceph can run on. */
export function rookClusterValues(nodes: readonly StorageNode[], blockPool: boolean, sizing: CephSizing): Values {
  const storageNodes = nodes.filter((n) => n.dataDisks.length > 0);
  const replicas = Math.min(3, storageNodes.length);
  return {
    operatorNamespace: "rook-ceph",
    // Ceph Dashboard and toolbox are optional; the toolbox helps debugging (`ceph status`).
    toolbox: { enabled: true },
    cephClusterSpec: {
      // Monitors form a Paxos quorum: an odd number, at most 3, never more than nodes they can run on.
      mon: { count: sizing.monCount, allowMultiplePerNode: false },
      mgr: { count: sizing.mgrCount, allowMultiplePerNode: false },
      // A node that holds data disks gets Ceph's daemons even when tainted (seed 003 gives its
      // control plane's HDD to Ceph): `all` reaches mons, mgrs, OSDs and their prepare jobs.
      ...(sizing.tolerations.length ? { placement: { all: { tolerations: [...sizing.tolerations] } } } : {}),
      storage: {
        // Never every disk: only the data disks each node lists, never its install disk (seed 003).
        useAllNodes: false,
        useAllDevices: false,
        nodes: storageNodes.map((n) => ({ name: n.name, devices: n.dataDisks.map((d) => ({ name: rookDeviceName(d) })) })),
      },
    },
    cephBlockPools: blockPool
      ? [
          {
            name: "ceph-blockpool",
            spec: { failureDomain: "host", replicated: { size: replicas } },
            storageClass: {
              enabled: true,
              name: "ceph-block",
              isDefault: true,
              reclaimPolicy: "Delete",
              allowVolumeExpansion: true,
              parameters: {
                "csi.storage.k8s.io/fstype": "ext4",
                "csi.storage.k8s.io/provisioner-secret-name": "rook-csi-rbd-provisioner",
                "csi.storage.k8s.io/provisioner-secret-namespace": "rook-ceph",
                "csi.storage.k8s.io/controller-expand-secret-name": "rook-csi-rbd-provisioner",
                "csi.storage.k8s.io/controller-expand-secret-namespace": "rook-ceph",
                "csi.storage.k8s.io/node-stage-secret-name": "rook-csi-rbd-node",
                "csi.storage.k8s.io/node-stage-secret-namespace": "rook-ceph",
                imageFormat: "2",
                imageFeatures: "layering",
              },
            },
          },
        ]
      : [],
    // File systems and object stores are not set up by default; enable them through values.
    cephFileSystems: [],
    cephObjectStores: [],
  };
}

/** The rook-ceph operator chart values. */
export function rookOperatorValues(): Values {
  return {
    // Rook v1.20 installs the RBD and CephFS drivers through its ceph-csi-operator subchart
    // (csi.installCsiOperator, on by default); the old csi.enable*Driver keys are gone.
    monitoring: { enabled: false },
  };
}

export interface LinkerdFacts {
  /** The trust anchor (root CA) certificate, PEM. */
  readonly trustAnchorPem: string;
  /** The issuer (intermediate CA) certificate and key, PEM. */
  readonly issuerCertPem: string;
  readonly issuerKeyPem: string;
  /** High availability (values-ha.yaml): when 3 nodes can hold the controllers (placement.ts). */
  readonly ha: boolean;
  /** Tolerations of every control-plane workload (the chart's top-level `tolerations`). */
  readonly tolerations: readonly Toleration[];
}

const LINKERD_CONTROLLER_RESOURCES = { cpu: { limit: "", request: "100m" }, memory: { limit: "250Mi", request: "50Mi" } };

/**
 * Everything in the pinned linkerd-control-plane chart's values-ha.yaml (linkerd2 edge-25.4.4,
 * charts/linkerd-control-plane/values-ha.yaml), as the seed installs it with `-f values-ha.yaml`.
 */
export function linkerdHaValues(): Values {
  return {
    // A PodDisruptionBudget for each controller: a drain never takes more than one away.
    enablePodDisruptionBudget: true,
    controller: { podDisruptionBudget: { maxUnavailable: 1 } },
    deploymentStrategy: { rollingUpdate: { maxUnavailable: 1, maxSurge: "25%" } },
    // Required anti-affinity on the hostname: each replica on its own node.
    enablePodAntiAffinity: true,
    proxy: { resources: { cpu: { request: "100m" }, memory: { limit: "250Mi", request: "20Mi" } } },
    controllerReplicas: 3,
    controllerResources: LINKERD_CONTROLLER_RESOURCES,
    destinationResources: LINKERD_CONTROLLER_RESOURCES,
    identityResources: { cpu: LINKERD_CONTROLLER_RESOURCES.cpu, memory: { limit: "250Mi", request: "10Mi" } },
    heartbeatResources: LINKERD_CONTROLLER_RESOURCES,
    proxyInjectorResources: LINKERD_CONTROLLER_RESOURCES,
    // With three replicas the webhook can refuse instead of letting unmeshed pods through.
    webhookFailurePolicy: "Fail",
    spValidatorResources: LINKERD_CONTROLLER_RESOURCES,
    // Read by `linkerd check` from the stored values.
    highAvailability: true,
  };
}

/** linkerd-control-plane values (seed 003): values-ha.yaml when HA, our settings on top. */
export function linkerdControlPlaneValues(facts: LinkerdFacts): Values {
  const ours: Values = {
    identityTrustAnchorsPEM: facts.trustAnchorPem,
    identity: { issuer: { scheme: "linkerd.io/tls", tls: { crtPEM: facts.issuerCertPem, keyPEM: facts.issuerKeyPem } } },
    // Talos has no nsenter for the Linkerd CNI, so proxy-init programs iptables itself and
    // must run as root (seed 003).
    proxyInit: { runAsRoot: true },
    // Seed 003 lets the controllers onto its one control plane so three nodes hold them.
    ...(facts.tolerations.length ? { tolerations: [...facts.tolerations] } : {}),
  };
  return facts.ha ? mergeValues(linkerdHaValues(), ours) : ours;
}

/**
 * linkerd-crds values: the Gateway API CRDs come from their own pinned release (addons.gatewayApi),
 * so the chart must not install its copies (`installGatewayAPI`, since edge-25.3.1).
 */
export function linkerdCrdsValues(): Values {
  return { installGatewayAPI: false };
}
