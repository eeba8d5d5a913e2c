// The node metadata steps as index.ts wires them, on their own: the nodes (with their labels and
// taints) and the kubeconfig come from stack config, each node's enrollment is a stand-in command
// (there is no Talos here: the test's kwok nodes are registered already, or registered by the test
// while the step waits), and the Talos health gate is already resolved. The engine test runs it
// against a real Kubernetes control plane (tests/support/control-plane.ts).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeMetadata } from "./components/talos/node-metadata";

interface LabNode {
  name: string;
  role: "controlplane" | "worker";
  labels: Record<string, string>;
  taints: Record<string, string>;
}

const config = new pulumi.Config("lab");
const nodes = config.requireObject<LabNode[]>("nodes");
const enrolled = Object.fromEntries(nodes.map((n) => [n.name, new command.local.Command(`${n.name}-enrolled`, { create: "true" })]));

const metadata = new NodeMetadata("lab-node-metadata", {
  nodes: nodes.map((n) => ({ ...n, apply: enrolled[n.name]! })),
  kubeconfig: config.requireSecret("kubeconfig"),
  ready: pulumi.output("ready"),
  timeout: config.get("timeout") ?? "60s",
});

/** Each step's record (its stdout): what it applied. */
export const records = Object.fromEntries(Object.entries(metadata.steps).map(([node, step]) => [node, step.stdout]));
