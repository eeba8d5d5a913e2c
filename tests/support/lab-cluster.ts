// The cluster shape the engine tests on the real control plane share: 3 control planes and 2
// workers on loopback addresses, and a Deployment with one pod per worker, so that draining a
// worker always has a pod to evict.
import type { KubeNode } from "./control-plane";

export const LAB_NODES: readonly KubeNode[] = [
  { name: "cp-1", address: "127.0.0.21", role: "controlplane" },
  { name: "cp-2", address: "127.0.0.22", role: "controlplane" },
  { name: "cp-3", address: "127.0.0.23", role: "controlplane" },
  { name: "worker-1", address: "127.0.0.31", role: "worker" },
  { name: "worker-2", address: "127.0.0.32", role: "worker" },
];

/** Two replicas on the workers (labelled node-role.kubernetes.io/worker), one per worker. */
export const WEB_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {node-role.kubernetes.io/worker: ""}
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      containers: [{name: web, image: registry.k8s.io/pause:3.10}]
`;
