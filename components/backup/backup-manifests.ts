// The scheduled etcd snapshot job's Kubernetes objects as plain objects (no secret values in
// them: those stay in the Secret), so tests deep-equal them. Pure.
//
// The job is siderolabs/talos-backup, pinned in toolchain/versions.json (images.talosBackup).
// What it reads, at that tag (v0.1.0-beta.3):
// - pkg/config/service.go: CUSTOM_S3_ENDPOINT, BUCKET, AWS_REGION, S3_PREFIX, CLUSTER_NAME,
//   USE_PATH_STYLE, DISABLE_ENCRYPTION, AGE_X25519_PUBLIC_KEY. Path style is on when
//   USE_PATH_STYLE is the string "false" (`os.Getenv(usePathStyleEnvVar) == "false"`), which is
//   why hcloud-k8s/terraform-hcloud-kubernetes documents talos_backup_s3_path_style as "set this
//   to false ... such as minio"; pathStyleValue() hides that inversion.
// - the AWS SDK's default chain (pkg/s3/s3.go, config.LoadDefaultConfig): AWS_ACCESS_KEY_ID and
//   AWS_SECRET_ACCESS_KEY.
// - the talosconfig at /var/run/secrets/talos.dev, the Secret Talos writes for a talos.dev/v1alpha1
//   ServiceAccount of the same name (cronjob.sample.yaml).
import { ETCD_BACKUP_ROLE } from "../talos/patches";

export interface BackupManifestInput {
  readonly clusterName: string;
  readonly namespace: string;
  readonly schedule: string;
  /** `<image>:<tag>` from toolchain/versions.json. */
  readonly image: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly pathStyle: boolean;
  /** Key prefix in the bucket. */
  readonly prefix: string;
}

/** Names of the objects, fixed so the runbook can name them. */
export const BACKUP_NAMES = {
  /** The Talos ServiceAccount, and the Secret (talosconfig) Talos creates for it. */
  talosServiceAccount: "talos-backup-talosconfig",
  /** Our Secret: S3 keys and the age recipient. */
  credentials: "talos-backup-s3",
  cronJob: "talos-backup",
} as const;

/** Keys of the credentials Secret. */
export const CREDENTIAL_KEYS = { accessKey: "access-key", secretKey: "secret-key", agePublicKey: "age-public-key" } as const;

/**
 * The job needs no host access, no privileges and no root, so the namespace enforces the
 * `restricted` Pod Security level, stricter than Talos's cluster default (baseline): a future
 * change that weakens the pod is refused instead of silently admitted.
 */
export function backupNamespaceLabels(): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
  };
}

/** The Talos API identity: the etcd backup role and nothing else. */
export function talosServiceAccount(namespace: string) {
  return {
    apiVersion: "talos.dev/v1alpha1",
    kind: "ServiceAccount",
    metadata: { name: BACKUP_NAMES.talosServiceAccount, namespace },
    spec: { roles: [ETCD_BACKUP_ROLE] },
  };
}

/** The value talos-backup v0.1.0-beta.3 reads as "use path-style addressing" (see the file header). */
export function pathStyleValue(pathStyle: boolean): string {
  return pathStyle ? "false" : "true";
}

const fromSecret = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: BACKUP_NAMES.credentials, key } } });

/** The CronJob: one snapshot at a time, age-encrypted, uploaded; a pod that passes `restricted`. */
export function backupCronJobSpec(input: BackupManifestInput) {
  return {
    schedule: input.schedule,
    // A slow upload must not overlap the next snapshot.
    concurrencyPolicy: "Forbid",
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
    jobTemplate: {
      spec: {
        backoffLimit: 3,
        template: {
          spec: {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "talos-backup",
                image: input.image,
                command: ["/talos-backup"],
                workingDir: "/tmp",
                env: [
                  fromSecret("AWS_ACCESS_KEY_ID", CREDENTIAL_KEYS.accessKey),
                  fromSecret("AWS_SECRET_ACCESS_KEY", CREDENTIAL_KEYS.secretKey),
                  fromSecret("AGE_X25519_PUBLIC_KEY", CREDENTIAL_KEYS.agePublicKey),
                  { name: "CUSTOM_S3_ENDPOINT", value: input.endpoint },
                  { name: "AWS_REGION", value: input.region },
                  { name: "BUCKET", value: input.bucket },
                  { name: "S3_PREFIX", value: input.prefix },
                  { name: "CLUSTER_NAME", value: input.clusterName },
                  { name: "USE_PATH_STYLE", value: pathStyleValue(input.pathStyle) },
                  // Snapshots hold every Kubernetes Secret: never upload one unencrypted.
                  { name: "DISABLE_ENCRYPTION", value: "false" },
                ],
                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [
                  { name: "tmp", mountPath: "/tmp" },
                  { name: "talosconfig", mountPath: "/var/run/secrets/talos.dev", readOnly: true },
                ],
              },
            ],
            volumes: [
              // The snapshot is written here before upload: scratch space, never a host path.
              { name: "tmp", emptyDir: {} },
              { name: "talosconfig", secret: { secretName: BACKUP_NAMES.talosServiceAccount } },
            ],
          },
        },
      },
    },
  };
}
