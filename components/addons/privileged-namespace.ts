import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { privilegedNamespaceLabels, Values } from "./values";

/** A namespace whose pods need host access, labelled to opt out of Talos's baseline policy. */
export function privilegedNamespace(
  name: string,
  namespace: string,
  parent: pulumi.Resource,
  provider: k8s.Provider,
  /** Holds the namespace back until the API server is ready (the add-ons' first object). Default: none. */
  gate?: (values: pulumi.Input<Values>) => pulumi.Input<Values>,
): k8s.core.v1.Namespace {
  const labels = privilegedNamespaceLabels();
  return new k8s.core.v1.Namespace(name, { metadata: { name: namespace, labels: (gate ? gate(labels) : labels) as pulumi.Input<Record<string, string>> } }, { parent, provider });
}
