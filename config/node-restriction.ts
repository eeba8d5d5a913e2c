// Which node labels a kubelet may set on its own Node, as the NodeRestriction admission plugin
// decides (kubernetes plugin/pkg/admission/noderestriction/admission.go, getForbiddenLabels: any
// label under node-restriction.kubernetes.io, and any kubernetes.io / k8s.io label that
// k8s.io/kubelet/pkg/apis IsKubeletLabel does not list, on create and on update alike; and
// admitNode: no change to spec.taints after registration, "node %q is not allowed to modify
// taints"). Talos enables the plugin on every cluster it bootstraps.
//
// Why it matters here: Talos's NodeApplyController (siderolabs/talos
// internal/app/machined/pkg/controllers/k8s/node_apply.go, getK8sClient) writes
// machine.nodeLabels and machine.nodeTaints to the Node with one Update, using admin
// credentials on a control plane but the kubelet's own on a worker. On a worker one refused label
// or one changed taint fails that whole Update, so those go through the Kubernetes API instead
// (components/talos/node-metadata.ts); everything else stays in the machine config.

/** Labels the kubelet sets itself (k8s.io/kubelet/pkg/apis well_known_labels.go, kubeletLabels). */
const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/arch",
  "kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
]);
/** Label domains (and their subdomains) a kubelet may set freely (the same file, kubeletLabelNamespaces). */
const KUBELET_LABEL_DOMAINS = ["kubelet.kubernetes.io", "node.kubernetes.io"];
const inDomain = (prefix: string, domain: string) => prefix === domain || prefix.endsWith(`.${domain}`);

/** Whether NodeRestriction refuses this label when a node sets it on itself. */
export function kubeletMayNotSet(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return false;
  const prefix = key.slice(0, slash);
  if (inDomain(prefix, "node-restriction.kubernetes.io")) return true;
  if (!inDomain(prefix, "kubernetes.io") && !inDomain(prefix, "k8s.io")) return false;
  return !KUBELET_LABELS.has(key) && !KUBELET_LABEL_DOMAINS.some((d) => inDomain(prefix, d));
}
