// The add-on layer of components/addons as index.ts wires it, on its own (with the etcd backup
// when lab:backup is set): the kubeconfig, the nodes and the add-on settings come from stack
// config (parsed by the project's own schema), and
// the Talos health gates are already resolved (there is no Talos here). The engine test runs it
// against a real Kubernetes control plane with kwok nodes (tests/support/control-plane.ts).
import * as pulumi from "@pulumi/pulumi";
import { PlatformAddons } from "./components/addons/platform-addons";
import { EtcdBackup } from "./components/backup/etcd-backup";
import type { BackupManifestInput } from "./components/backup/backup-manifests";
import { addonsSchema } from "./config/addons";

const config = new pulumi.Config("lab");
const nodes = config.requireObject<{ name: string; role: "controlplane" | "worker"; dataDisks: string[] }[]>("nodes");
const addons = addonsSchema.parse(config.requireObject("addons"));

const platform = new PlatformAddons("lab-addons", {
  addons,
  kubeconfig: config.requireSecret("kubeconfig"),
  podCidr: "10.244.0.0/16",
  nodes,
  allowSchedulingOnControlPlanes: false,
  clusterReady: pulumi.output("ready"),
  healthyAfter: (after) => pulumi.all(after.map((r) => (r as pulumi.CustomResource).urn)).apply(() => "healthy"),
});

// The talos-backup CronJob and its Talos ServiceAccount, as index.ts wires them (after the
// add-ons' health gate); the credentials are stand-ins: nothing is uploaded here.
const backup = config.getObject<BackupManifestInput>("backup");
if (backup) {
  new EtcdBackup("lab-backup", {
    settings: backup,
    accessKey: pulumi.secret("AKIASTANDIN000000000"),
    secretKey: pulumi.secret("stand-in-secret-key-0000000000000000000"),
    agePublicKey: pulumi.secret("age1standin"),
    provider: platform.provider,
    healthy: platform.healthy!,
  });
}

export const placement = platform.placement;
export const gatewayAddress = platform.gatewayAddress;
