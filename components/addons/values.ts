// Helm values and labels derived from cluster facts. Pure: tests deep-equal them.
import { KUBEPRISM_PORT } from "../talos/patches";

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
  /** Whether any worker exists: without workers, Hubble must tolerate the control-plane taint. */
  readonly hasWorkers: boolean;
  /** Whether the prometheus-operator CRDs are installed, so ServiceMonitors can be created. */
  readonly serviceMonitors: boolean;
}

const CONTROL_PLANE_TOLERATION = { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" };

/** Cilium on Talos (Talos docs "Deploying Cilium CNI", seeds 000/001/004). */
export function ciliumValues(facts: CiliumFacts): Values {
  const hubbleTolerations = facts.hasWorkers ? {} : { tolerations: [CONTROL_PLANE_TOLERATION] };
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
    operator: { prometheus: { enabled: true, serviceMonitor: { enabled: facts.serviceMonitors } } },
    hubble: {
      enabled: true,
      metrics: { enabled: ["dns", "drop", "tcp", "flow", "icmp", "http"], serviceMonitor: { enabled: facts.serviceMonitors } },
      relay: { enabled: true, ...hubbleTolerations },
      ui: { enabled: true, ...hubbleTolerations },
    },
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

/** The rook-ceph-cluster chart values: only the listed data disks, sized for the node count. */
export function rookClusterValues(nodes: readonly StorageNode[], blockPool: boolean): Values {
  const storageNodes = nodes.filter((n) => n.dataDisks.length > 0);
  const replicas = Math.min(3, storageNodes.length);
  return {
    operatorNamespace: "rook-ceph",
    // Ceph Dashboard and toolbox are optional; the toolbox helps debugging (`ceph status`).
    toolbox: { enabled: true },
    cephClusterSpec: {
      // Monitors form a Paxos quorum: an odd number, at most 3, never more than nodes.
      mon: { count: oddAtMost(nodes.length, 3), allowMultiplePerNode: false },
      mgr: { count: Math.min(2, nodes.length), allowMultiplePerNode: false },
      storage: {
        // Never every disk: only the data disks each node lists, never its install disk (seed 003).
        useAllNodes: false,
        useAllDevices: false,
        nodes: storageNodes.map((n) => ({ name: n.name, devices: n.dataDisks.map((d) => ({ name: d.replace(/^\/dev\//, "") })) })),
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
    // The CSI drivers need the kernel's rbd module, which Talos loads itself.
    csi: { enableRbdDriver: true, enableCephfsDriver: true },
    monitoring: { enabled: false },
  };
}

export interface LinkerdFacts {
  /** The trust anchor (root CA) certificate, PEM. */
  readonly trustAnchorPem: string;
  /** The issuer (intermediate CA) certificate and key, PEM. */
  readonly issuerCertPem: string;
  readonly issuerKeyPem: string;
  /** High availability: 3 replicas spread over nodes, when the cluster has at least 3 nodes. */
  readonly ha: boolean;
}

/** linkerd-control-plane values (seed 003). */
export function linkerdControlPlaneValues(facts: LinkerdFacts): Values {
  const values: Values = {
    identityTrustAnchorsPEM: facts.trustAnchorPem,
    identity: { issuer: { scheme: "linkerd.io/tls", tls: { crtPEM: facts.issuerCertPem, keyPEM: facts.issuerKeyPem } } },
    // Talos has no nsenter for the Linkerd CNI, so proxy-init programs iptables itself and
    // must run as root (seed 003).
    proxyInit: { runAsRoot: true },
  };
  if (!facts.ha) return values;
  // The parts of the chart's values-ha.yaml that matter: replicas, spreading, strict webhooks.
  return mergeValues(values, {
    enablePodDisruptionBudget: true,
    enablePodAntiAffinity: true,
    controllerReplicas: 3,
    webhookFailurePolicy: "Fail",
    deploymentStrategy: { rollingUpdate: { maxUnavailable: 1, maxSurge: "25%" } },
    // With three nodes one of them is a control plane: tolerate it so all replicas can spread.
    controllerTolerations: [CONTROL_PLANE_TOLERATION],
  });
}

/** linkerd-crds values: the Gateway API CRDs come from their own pinned release. */
export function linkerdCrdsValues(): Values {
  return { installGatewayAPI: false };
}
