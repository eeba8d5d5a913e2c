import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { backupCronJobSpec, BACKUP_NAMES, backupNamespaceLabels, BackupManifestInput, CREDENTIAL_KEYS, talosServiceAccount } from "./backup-manifests";

export interface EtcdBackupArgs {
  /** Everything the manifests are built from (names, schedule, image, S3 target). Required. */
  readonly settings: BackupManifestInput;
  /** S3 credentials and the age recipient. Required; secret. */
  readonly accessKey: pulumi.Input<string>;
  readonly secretKey: pulumi.Input<string>;
  readonly agePublicKey: pulumi.Input<string>;
  /** The cluster's Kubernetes provider (the add-ons' one). Required. */
  readonly provider: k8s.Provider;
  /**
   * Resolves once the cluster is healthy with its CNI (the add-ons' health gate): the namespace,
   * and so everything in it, waits for it. Required.
   */
  readonly healthy: pulumi.Output<string>;
}

/**
 * Scheduled etcd snapshots off the cluster: namespace (Pod Security `restricted`) -> Talos
 * ServiceAccount with os:etcd:backup (Talos writes its talosconfig Secret), the credentials
 * Secret -> the talos-backup CronJob. The control planes' kubernetesTalosAPIAccess patch
 * (components/talos/patches.ts) admits exactly this namespace.
 */
export class EtcdBackup extends pulumi.ComponentResource {
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly cronJob: k8s.batch.v1.CronJob;

  constructor(name: string, args: EtcdBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:backup:EtcdBackup", name, {}, opts);
    const { settings, provider } = args;
    const child = { parent: this, provider };

    // Gated through its input: nothing here is created before the cluster is healthy. The gate's
    // value is secret (it comes from the Talos client material); the namespace name is not.
    const namespaceName = pulumi.unsecret(pulumi.all([args.healthy]).apply(() => settings.namespace));
    this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: namespaceName, labels: backupNamespaceLabels() } }, child);
    const inNamespace = { ...child, dependsOn: [this.namespace] };
    const namespace = this.namespace.metadata.name;

    const account = talosServiceAccount(settings.namespace);
    const serviceAccount = new k8s.apiextensions.CustomResource(
      `${name}-talos-service-account`,
      { apiVersion: account.apiVersion, kind: account.kind, metadata: { ...account.metadata, namespace }, spec: account.spec },
      inNamespace,
    );
    const credentials = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: BACKUP_NAMES.credentials, namespace },
        type: "Opaque",
        stringData: pulumi.secret({
          [CREDENTIAL_KEYS.accessKey]: args.accessKey,
          [CREDENTIAL_KEYS.secretKey]: args.secretKey,
          [CREDENTIAL_KEYS.agePublicKey]: args.agePublicKey,
        }),
      },
      // @pulumi/kubernetes itself marks a Secret's data and stringData outputs secret.
      inNamespace,
    );

    const cronJobAfter = [serviceAccount, credentials];
    this.cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      { metadata: { name: BACKUP_NAMES.cronJob, namespace }, spec: backupCronJobSpec(settings) },
      { ...child, dependsOn: cronJobAfter },
    );
    this.registerOutputs({ namespace, cronJob: this.cronJob.metadata.name });
  }
}
