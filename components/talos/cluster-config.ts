import * as pulumi from "@pulumi/pulumi";
import * as talos from "@pulumiverse/talos";
import { secretsBundleYaml, MachineSecrets } from "./secrets-bundle";

/** The Talos machine types a configuration is generated for. */
export type MachineType = "controlplane" | "worker";

/** Patch layers applied in this order by Talos's own merge (later wins). */
export interface PatchLayers {
  /** Patches for every node (cluster-derived first, then patches/all). Default: none. */
  readonly all?: readonly pulumi.Input<string>[];
  /** Patches for control-plane nodes only, after `all`. Default: none. */
  readonly controlplane?: readonly pulumi.Input<string>[];
  /** Patches for workers only, after `all`. Default: none. */
  readonly worker?: readonly pulumi.Input<string>[];
}

export interface ClusterConfigArgs {
  /** Cluster name written into every machine config. Required. */
  readonly clusterName: string;
  /** Kubernetes API endpoint, `https://<host>:<port>` (an output when a load balancer provides it). Required. */
  readonly endpoint: pulumi.Input<string>;
  /**
   * The config contract for a new cluster's secrets, e.g. `v1.10.0`: the Talos version it is
   * created with, capped at the generator's machinery (config/versions.ts creationContract). Kept
   * with the secrets in state and never changed by a later Talos bump. Required.
   */
  readonly talosVersion: string;
  /**
   * The contract to generate configs for instead of the one kept with the secrets: the explicit
   * way to move it. Default: the contract kept with the secrets (required when importing them,
   * since an imported file only says v1.2 or v1.3).
   */
  readonly configContract?: string;
  /** Kubernetes version, e.g. `1.33.3`. Required (the stack config fills the default). */
  readonly kubernetesVersion: string;
  /** YAML patches by layer, handed to the Talos provider's `configPatches`. Default: no patches. */
  readonly patches?: PatchLayers;
  /** Refuse to delete the secrets on `pulumi destroy`. Default: true. */
  readonly protectSecrets?: boolean;
  /**
   * Path of a `talosctl gen secrets` file to import instead of generating new secrets. The
   * path is the import ID, so it must stay the same across runs. Default: generate.
   */
  readonly importSecretsFrom?: string;
  /** The Talos provider. Required. */
  readonly provider: talos.Provider;
}

/** The ordered `configPatches` for one machine type: the `all` layer, then the type's own layer. */
export function configPatchesFor(machineType: MachineType, patches: PatchLayers = {}): pulumi.Input<string>[] {
  return [...(patches.all ?? []), ...(patches[machineType] ?? [])];
}

/**
 * Cluster secrets and the control-plane and worker machine configurations derived from them.
 * Everything here is key material or contains it, so every output is secret.
 */
export class ClusterConfig extends pulumi.ComponentResource {
  /** The Talos machine secrets (CAs, tokens, etcd and secretbox keys). Secret. */
  public readonly machineSecrets: pulumi.Output<talos.types.output.machine.SecretsMachineSecrets>;
  /** The same secrets as a `talosctl gen secrets` file, to keep outside git for rebuilds. Secret. */
  public readonly secretsYaml: pulumi.Output<string>;
  /** Client certificate material for talosctl. Secret. */
  public readonly clientConfiguration: pulumi.Output<talos.types.output.machine.SecretsClientConfiguration>;
  /** Rendered control-plane machine configuration (YAML). Secret. */
  public readonly controlplaneConfig: pulumi.Output<string>;
  /** Rendered worker machine configuration (YAML). Secret. */
  public readonly workerConfig: pulumi.Output<string>;
  /** The Talos version every config is generated for (the config contract). */
  public readonly contract: pulumi.Output<string>;
  /** The secrets resource, for dependency arrays. */
  public readonly secrets: talos.machine.Secrets;
  /**
   * Renders one machine's complete configuration: the role's layers, then `extraPatches`
   * (platform, node). Talos merges them all, so the result is exactly what the node runs. Secret.
   */
  public readonly render: (machineType: MachineType, extraPatches?: readonly string[]) => pulumi.Output<string>;

  constructor(name: string, args: ClusterConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:ClusterConfig", name, {}, opts);

    this.secrets = new talos.machine.Secrets(
      `${name}-secrets`,
      { talosVersion: args.configContract ?? args.talosVersion },
      {
        parent: this,
        provider: args.provider,
        protect: args.protectSecrets ?? true,
        // No additionalSecretOutputs: the provider already marks every key and token secret (the
        // engine test checks the state file), and wrapping the whole object a second time hands
        // programs a doubly wrapped value.
        import: args.importSecretsFrom,
        // The contract stays at the cluster's creation version (a Talos bump moves only the
        // installed OS); an imported file records its own feature level, kept as it is.
        ignoreChanges: ["talosVersion"],
      },
    );
    // What state holds, not what the stack says now: a bump of cluster.talosVersion must not
    // re-render every config (terraform-provider-talos issue 381).
    this.contract = args.configContract !== undefined ? pulumi.output(args.configContract) : this.secrets.talosVersion.apply((v) => v ?? args.talosVersion);
    this.machineSecrets = pulumi.secret(this.secrets.machineSecrets);
    this.clientConfiguration = pulumi.secret(this.secrets.clientConfiguration);
    this.secretsYaml = pulumi.secret(this.secrets.machineSecrets.apply((s) => secretsBundleYaml(s as MachineSecrets)));

    this.render = (machineType, extraPatches = []) =>
      pulumi.secret(
        talos.machine.getConfigurationOutput(
          {
            clusterName: args.clusterName,
            clusterEndpoint: args.endpoint,
            machineType,
            machineSecrets: this.secrets.machineSecrets,
            talosVersion: this.contract,
            kubernetesVersion: args.kubernetesVersion,
            configPatches: [...configPatchesFor(machineType, args.patches), ...extraPatches],
            // Comments and examples only bloat what is stored (encrypted) in state.
            docs: false,
            examples: false,
          },
          { parent: this, provider: args.provider },
        ).machineConfiguration,
      );
    this.controlplaneConfig = this.render("controlplane");
    this.workerConfig = this.render("worker");

    this.registerOutputs({
      machineSecrets: this.machineSecrets,
      secretsYaml: this.secretsYaml,
      clientConfiguration: this.clientConfiguration,
      controlplaneConfig: this.controlplaneConfig,
      workerConfig: this.workerConfig,
      contract: this.contract,
    });
  }
}
