// The upgrade chain of components/day2 on its own: five nodes on loopback addresses, fake
// configs, versions from stack config. The engine test puts recording stand-ins for talosctl
// and kubectl first on PATH.
import * as pulumi from "@pulumi/pulumi";
import { ClusterUpgrades } from "./components/day2/cluster-upgrades";

const config = new pulumi.Config("lab");
const talosVersion = config.require("talosVersion");
/** Kernel args by node name (seed 000's vga=792 on one node). Default: none. */
const kernelArgs = config.getObject<Record<string, string[]>>("kernelArgs") ?? {};

export const nodes = [
  { name: "cp-1", address: "127.0.0.21", role: "controlplane" as const },
  { name: "cp-2", address: "127.0.0.22", role: "controlplane" as const },
  { name: "cp-3", address: "127.0.0.23", role: "controlplane" as const },
  { name: "worker-1", address: "127.0.0.31", role: "worker" as const },
  { name: "worker-2", address: "127.0.0.32", role: "worker" as const },
];

const upgrades = new ClusterUpgrades("lab-upgrades", {
  nodes: nodes.map((n) => ({ ...n, kernelArgs: kernelArgs[n.name] ?? [] })),
  talosVersion,
  schematicId: "abc123",
  installerImage: `factory.talos.dev/installer/abc123:${talosVersion}`,
  kubernetesVersion: config.require("kubernetesVersion"),
  timeout: "1m",
  talosconfig: pulumi.secret("fake-talosconfig-SECRET-7f3a"),
  kubeconfig: pulumi.secret("fake-kubeconfig-SECRET-9c1d"),
  after: [],
});

/** What worker-2's step keeps in its state (its stdout ends with the kernel-args record). Steps: the minor steps, 5 nodes, Kubernetes. */
export const worker2Record = upgrades.steps[5]!.stdout;
