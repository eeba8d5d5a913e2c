// The edge: read and validate the stack config once, read patch files, then build components.
import * as pulumi from "@pulumi/pulumi";
import path from "node:path";
import { ClusterConfig } from "./components/talos/cluster-config";
import { readPatchLayer } from "./config/patch-files";
import { parseStackConfig, projectConfig, StackConfigError } from "./config/schema";

function loadConfig() {
  try {
    return parseStackConfig(projectConfig(pulumi.runtime.allConfig()));
  } catch (err) {
    // A RunError prints just the message (every problem with its path), no stack trace.
    if (err instanceof StackConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const config = loadConfig();
const patchDir = (layer: string) => readPatchLayer(path.join(__dirname, "patches", layer)).map((p) => p.content);

const clusterConfig = new ClusterConfig(config.cluster.name, {
  clusterName: config.cluster.name,
  endpoint: config.cluster.endpoint,
  talosVersion: config.cluster.talosVersion,
  kubernetesVersion: config.cluster.kubernetesVersion,
  protectSecrets: config.cluster.protectSecrets,
  patches: {
    all: patchDir("all"),
    controlplane: patchDir("controlplane"),
    worker: patchDir("worker"),
  },
});

export const clusterName = config.cluster.name;
export const endpoint = config.cluster.endpoint;
export const talosVersion = config.cluster.talosVersion;
export const kubernetesVersion = config.cluster.kubernetesVersion;
export const controlplaneMachineConfig = clusterConfig.controlplaneConfig;
export const workerMachineConfig = clusterConfig.workerConfig;
