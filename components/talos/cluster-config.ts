import * as pulumi from "@pulumi/pulumi";
import * as talos from "@pulumiverse/talos";

/** The Talos machine types a configuration is generated for. */
export type MachineType = "controlplane" | "worker";

/** Patch layers applied in this order by Talos's own merge (later wins). */
export interface PatchLayers {
  /** Patches for every node. Default: none. */
  readonly all?: readonly string[];
  /** Patches for control-plane nodes only, after `all`. Default: none. */
  readonly controlplane?: readonly string[];
  /** Patches for workers only, after `all`. Default: none. */
  readonly worker?: readonly string[];
}

export interface ClusterConfigArgs {
  /** Cluster name written into every machine config. Required. */
  readonly clusterName: string;
  /** Kubernetes API endpoint, `https://<host>:<port>`. Required. */
  readonly endpoint: string;
  /** Talos version the configs are generated for, e.g. `v1.11.5`. Required (the stack config fills the default). */
  readonly talosVersion: string;
  /** Kubernetes version, e.g. `1.34.1`. Required (the stack config fills the default). */
  readonly kubernetesVersion: string;
  /** YAML patches by layer, handed to the Talos provider's `configPatches`. Default: no patches. */
  readonly patches?: PatchLayers;
  /** Refuse to delete the generated secrets on `pulumi destroy`. Default: true. */
  readonly protectSecrets?: boolean;
}

/** The ordered `configPatches` for one machine type: the `all` layer, then the type's own layer. */
export function configPatchesFor(machineType: MachineType, patches: PatchLayers = {}): string[] {
  return [...(patches.all ?? []), ...(patches[machineType] ?? [])];
}

/**
 * Cluster secrets and the control-plane and worker machine configurations derived from them.
 * Everything here is key material or contains it, so every output is secret.
 */
export class ClusterConfig extends pulumi.ComponentResource {
  /** The Talos machine secrets (CAs, tokens, etcd and secretbox keys). Secret. */
  public readonly machineSecrets: pulumi.Output<talos.types.output.machine.SecretsMachineSecrets>;
  /** Client certificate material for talosctl. Secret. */
  public readonly clientConfiguration: pulumi.Output<talos.types.output.machine.SecretsClientConfiguration>;
  /** Rendered control-plane machine configuration (YAML). Secret. */
  public readonly controlplaneConfig: pulumi.Output<string>;
  /** Rendered worker machine configuration (YAML). Secret. */
  public readonly workerConfig: pulumi.Output<string>;

  constructor(name: string, args: ClusterConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:ClusterConfig", name, {}, opts);

    const secrets = new talos.machine.Secrets(
      `${name}-secrets`,
      { talosVersion: args.talosVersion },
      {
        parent: this,
        protect: args.protectSecrets ?? true,
        // Encrypted in state whatever the provider schema marks: these are the cluster's keys.
        additionalSecretOutputs: ["machineSecrets", "clientConfiguration"],
      },
    );
    this.machineSecrets = pulumi.secret(secrets.machineSecrets);
    this.clientConfiguration = pulumi.secret(secrets.clientConfiguration);

    const configFor = (machineType: MachineType) =>
      pulumi.secret(
        talos.machine.getConfigurationOutput(
          {
            clusterName: args.clusterName,
            clusterEndpoint: args.endpoint,
            machineType,
            machineSecrets: secrets.machineSecrets,
            talosVersion: args.talosVersion,
            kubernetesVersion: args.kubernetesVersion,
            configPatches: configPatchesFor(machineType, args.patches),
            // Comments and examples only bloat what is stored (encrypted) in state.
            docs: false,
            examples: false,
          },
          { parent: this },
        ).machineConfiguration,
      );
    this.controlplaneConfig = configFor("controlplane");
    this.workerConfig = configFor("worker");

    this.registerOutputs({
      machineSecrets: this.machineSecrets,
      clientConfiguration: this.clientConfiguration,
      controlplaneConfig: this.controlplaneConfig,
      workerConfig: this.workerConfig,
    });
  }
}
