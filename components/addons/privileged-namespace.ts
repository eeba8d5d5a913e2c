import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { privilegedNamespaceLabels } from "./values";

/** A namespace whose pods need host access, labelled to opt out of Talos's baseline policy. */
export function privilegedNamespace(name: string, namespace: string, parent: pulumi.Resource, provider: k8s.Provider): k8s.core.v1.Namespace {
  return new k8s.core.v1.Namespace(name, { metadata: { name: namespace, labels: privilegedNamespaceLabels() } }, { parent, provider });
}
