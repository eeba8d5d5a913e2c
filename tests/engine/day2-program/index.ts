// The day-2 chain of components/day2 as index.ts wires it (membership and removal, Talos
// upgrades, Kubernetes, config rollout, kernel args), on its own: the nodes, their machine
// configs and the versions come from stack config. The engine test runs it against a real
// Kubernetes control plane (kwok nodes) and a talosctl stand-in (tests/support).
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { ClusterUpgrades } from "./components/day2/cluster-upgrades";
import { ConfigRollout } from "./components/day2/config-rollout";
import { KernelArgs } from "./components/day2/kernel-args";
import { NodeRemoval } from "./components/day2/node-removal";
import { removalGuard } from "./components/day2/removal-guard";
import { kernelArgsOf } from "./components/talos/patches";

const config = new pulumi.Config("lab");
const talosVersion = config.require("talosVersion");
const schematic = config.get("schematic") ?? "abc123";
const installerImage = `factory.talos.dev/installer/${schematic}:${talosVersion}`;
const members = config.requireObject<{ name: string; address: string; role: "controlplane" | "worker" }[]>("nodes");
/** The patches/all layer every node's config gets (e.g. a kernel arg). Default: none. */
const allPatch = config.get("allPatch") ?? "machine: {}\n";
/** Something else in every config, to change configs without kernel args. Default: 1. */
const configRevision = config.get("configRevision") ?? "1";
const kubernetesVersion = config.require("kubernetesVersion");

// A node's complete config as the stand-in reads it: its role, the installer, the layer above.
const machineConfig = (n: (typeof members)[number]) =>
  YAML.stringify({
    version: "v1alpha1",
    machine: {
      type: n.role,
      install: { image: installerImage, extraKernelArgs: kernelArgsOf([allPatch]) },
      network: { hostname: n.name },
      nodeLabels: { "lab/revision": configRevision },
      kubelet: { image: `ghcr.io/siderolabs/kubelet:v${kubernetesVersion}` },
    },
    // the bootstrap token upgrade-k8s syncs as a Secret (the test looks for it in the state)
    cluster: { token: "lab7f3.0123456789abcdef", apiServer: { image: `registry.k8s.io/kube-apiserver:v${kubernetesVersion}` } },
  });
const day2Nodes = members.map((n) => ({ ...n, kernelArgs: kernelArgsOf([allPatch]) }));
const access = { timeout: "1m", talosconfig: config.requireSecret("talosconfig"), kubeconfig: config.requireSecret("kubeconfig") };

const removal = new NodeRemoval("lab-nodes", {
  nodes: day2Nodes,
  talosVersion,
  unreachable: config.getObject<string[]>("removeUnreachable") ?? [],
  settings: { graceful: true, reset: true, reboot: true },
  checked: removalGuard(members, config.getObject<string[]>("removeUnreachable") ?? []),
  ...access,
  after: [],
});
const upgrades = new ClusterUpgrades("lab-upgrades", {
  nodes: day2Nodes,
  talosVersion,
  schematicId: schematic,
  installerImage,
  kubernetesVersion,
  ...access,
  after: [removal.step],
});
const rollout = new ConfigRollout("lab-rollout", {
  nodes: day2Nodes,
  talosVersion,
  machineConfigs: Object.fromEntries(members.map((n) => [n.name, pulumi.secret(machineConfig(n))])),
  maxUnavailableWorkers: 1,
  ...access,
  after: [upgrades.kubernetes],
});
new KernelArgs("lab-kernel-args", { nodes: day2Nodes, installerImage, ...access, after: rollout.done });

/** The members the next up's removal check reads (as index.ts exports them). */
export const nodes = members;
