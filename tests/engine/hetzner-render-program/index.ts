// The committed hetzner stack's machine configs, rendered by the real Talos plugin and checked by
// the same gate as the program's (cloud mode). Offline: the Hetzner resources are left out and a
// TEST-NET address stands in for the load balancer, whose real address exists only after `up`.
// The platform patches are the ones HetznerCloud hands the cluster (the same pure function,
// hetznerLayers); a hybrid stack's LAN nodes render beside the servers, validated in metal mode.
import * as pulumi from "@pulumi/pulumi";
import path from "node:path";
import { certSansPatch, hetznerLayers } from "./components/hetzner/plan";
import { talosConfigCheck } from "./components/talos/config-validation";
import { toYaml } from "./components/talos/patches";
import { TalosCluster } from "./components/talos/talos-cluster";
import { readPatchFiles } from "./config/patch-files";
import { patchSources } from "./config/patch-sources";
import { HETZNER_PLATFORM, parseStackConfig, projectConfig } from "./config/schema";

const LOAD_BALANCER = "203.0.113.10";
const parsed = parseStackConfig(projectConfig(pulumi.runtime.allConfig()));
// Render only: no machine, no factory call.
const config = { ...parsed, cluster: { ...parsed.cluster, applyNodes: false, protectSecrets: false }, imageFactory: { ...parsed.imageFactory, register: false } };
const root = path.join(__dirname);
const sources = patchSources(root, config);

const cluster = new TalosCluster(config.cluster.name, {
  config,
  patchFiles: readPatchFiles(root, config),
  infrastructure: {
    endpoint: `https://${LOAD_BALANCER}:6443`,
    talosEndpoint: LOAD_BALANCER,
    // hybrid: LAN nodes beside the servers, as index.ts tells HetznerCloud.
    ...hetznerLayers(config.hetzner!, { cloudController: config.addons.hcloudCcm.enabled === true, hybrid: config.nodes.some((n) => n.platform !== HETZNER_PLATFORM) }, toYaml(certSansPatch(LOAD_BALANCER))),
    hostFor: () => ({ resources: [] }),
  },
  configCheck: { rules: talosConfigCheck(), nodeLayers: sources.nodeLayers, base: sources.base },
});

export const nodes = config.nodes.map((n) => n.name);
export const validatedMachineConfigs = cluster.validatedConfigs;
