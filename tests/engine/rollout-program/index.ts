// The day-2 chain of components/day2 on its own, wired as index.ts wires it: OS upgrades, then
// Kubernetes, then config rollouts. Five nodes on loopback addresses, each node's "machine
// config" a string from stack config. The engine test puts recording stand-ins for talosctl
// and kubectl first on PATH.
import * as pulumi from "@pulumi/pulumi";
import { ClusterUpgrades } from "./components/day2/cluster-upgrades";
import { ConfigRollout } from "./components/day2/config-rollout";

const config = new pulumi.Config("lab");
const talosVersion = config.require("talosVersion");
const configs = config.requireObject<Record<string, string>>("configs");

const nodes = [
  { name: "cp-1", address: "127.0.0.21", role: "controlplane" as const },
  { name: "cp-2", address: "127.0.0.22", role: "controlplane" as const },
  { name: "cp-3", address: "127.0.0.23", role: "controlplane" as const },
  { name: "worker-1", address: "127.0.0.31", role: "worker" as const },
  { name: "worker-2", address: "127.0.0.32", role: "worker" as const },
];
const talosconfig = pulumi.secret("fake-talosconfig-SECRET-7f3a");
const kubeconfig = pulumi.secret("fake-kubeconfig-SECRET-9c1d");

const upgrades = new ClusterUpgrades("lab-upgrades", {
  nodes: nodes.map((n) => ({ ...n, kernelArgs: [] })),
  talosVersion,
  schematicId: "abc123",
  installerImage: `factory.talos.dev/installer/abc123:${talosVersion}`,
  kubernetesVersion: config.require("kubernetesVersion"),
  timeout: "1m",
  talosconfig,
  kubeconfig,
  after: [],
});
new ConfigRollout("lab-rollout", {
  nodes,
  machineConfigs: Object.fromEntries(nodes.map((n) => [n.name, pulumi.secret(configs[n.name]!)])),
  maxUnavailableWorkers: config.requireNumber("maxUnavailableWorkers"),
  timeout: "1m",
  talosconfig,
  kubeconfig,
  after: [upgrades.kubernetes],
});
