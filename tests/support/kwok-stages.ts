// The kwok stages of the test control plane (tests/support/control-plane.ts): what kwok does, in
// place of a kubelet, to the nodes and pods it manages. The kwok binary has no built-in stages
// (its root command refuses to start without any: sigs.k8s.io/kwok v0.8.0, pkg/kwok/cmd/root.go),
// so the helper hands it these through --config. The Stage format and the template functions used
// (Now, Quote, NodeIPWith, PodIPWith) are kwok's (pkg/apis/v1alpha1, pkg/utils/gotpl/funcs.go,
// pkg/kwok/controllers/pod_controller.go at v0.8.0); the stages themselves are ours and do only
// what the tests need.

/** The node annotation kwok's own default selects the nodes it manages by (only nodes we add carry it). */
export const KWOK_MANAGED_ANNOTATION = "kwok.x-k8s.io/node";
/** The node annotation our node stage takes the InternalIP from (the KubeNode's address). */
export const NODE_ADDRESS_ANNOTATION = "talos-cluster.test/internal-ip";
/** The node annotation our node stage takes status.nodeInfo.kubeletVersion from. */
export const KUBELET_VERSION_ANNOTATION = "talos-cluster.test/kubelet-version";

/**
 * Three stages, as one multi-document YAML:
 * - a node that is not Ready becomes Ready, with InternalIP and Hostname addresses, room for
 *   110 pods and the kubelet version from its annotations (status written once; kwok renews the
 *   node's Lease, so the node lifecycle controller keeps it Ready);
 * - a pending pod that is not being deleted becomes Running and Ready, every container running;
 * - a pod being deleted (an eviction by `kubectl drain`, a scale-down) is deleted at once, as a
 *   kubelet does once its containers have stopped.
 */
export function kwokStages(): string {
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: test-node-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ["True"]
  next:
    statusTemplate: |
      {{ $at := Now | Quote }}
      phase: Running
      conditions:
      - type: Ready
        status: "True"
        reason: KubeletReady
        message: kwok stands in for the kubelet
        lastHeartbeatTime: {{ $at }}
        lastTransitionTime: {{ $at }}
      {{ range (list "MemoryPressure" "DiskPressure" "PIDPressure") }}
      - type: {{ . }}
        status: "False"
        reason: KubeletHasSufficient{{ . }}
        message: kwok stands in for the kubelet
        lastHeartbeatTime: {{ $at }}
        lastTransitionTime: {{ $at }}
      {{ end }}
      addresses:
      - type: InternalIP
        address: {{ index .metadata.annotations "${NODE_ADDRESS_ANNOTATION}" | Quote }}
      - type: Hostname
        address: {{ .metadata.name | Quote }}
      capacity: {cpu: "16", memory: 32Gi, pods: "110"}
      allocatable: {cpu: "16", memory: 32Gi, pods: "110"}
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        osImage: kwok
        kernelVersion: kwok
        containerRuntimeVersion: kwok
        kubeletVersion: {{ index .metadata.annotations "${KUBELET_VERSION_ANNOTATION}" | Quote }}
        kubeProxyVersion: ""
        machineID: ""
        systemUUID: ""
        bootID: ""
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: test-pod-running
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: .metadata.deletionTimestamp
      operator: DoesNotExist
    - key: .status.phase
      operator: In
      values: [Pending]
  next:
    statusTemplate: |
      {{ $at := Now | Quote }}
      phase: Running
      startTime: {{ $at }}
      conditions:
      {{ range (list "PodReadyToStartContainers" "Initialized" "ContainersReady" "Ready") }}
      - type: {{ . }}
        status: "True"
        lastTransitionTime: {{ $at }}
      {{ end }}
      {{ with NodeIPWith .spec.nodeName }}
      hostIP: {{ . | Quote }}
      hostIPs: [{ip: {{ . | Quote }}}]
      {{ end }}
      {{ with PodIPWith .spec.nodeName (or .spec.hostNetwork false) (or .metadata.uid "") .metadata.name .metadata.namespace }}
      podIP: {{ . | Quote }}
      podIPs: [{ip: {{ . | Quote }}}]
      {{ end }}
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: true
        started: true
        restartCount: 0
        state: {running: {startedAt: {{ $at }}}}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: test-pod-deleted
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: .metadata.deletionTimestamp
      operator: Exists
  next:
    delete: true
`;
}
