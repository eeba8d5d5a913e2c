// The Talos provider's machineSecrets object <-> the `talosctl gen secrets` file format, so a
// cluster's secrets can be exported, kept outside git (seed 000 keeps them in 1Password) and
// imported again to rebuild the same cluster. Pure.
import YAML from "yaml";

interface CertAndKey {
  readonly cert: string;
  readonly key: string;
}

/** The provider's shape (base64 PEM, as Talos stores them). */
export interface MachineSecrets {
  readonly cluster: { readonly id: string; readonly secret: string };
  readonly secrets: { readonly bootstrapToken: string; readonly secretboxEncryptionSecret: string; readonly aescbcEncryptionSecret?: string };
  readonly trustdinfo: { readonly token: string };
  readonly certs: {
    readonly etcd: CertAndKey;
    readonly k8s: CertAndKey;
    readonly k8sAggregator: CertAndKey;
    readonly k8sServiceaccount: { readonly key: string };
    readonly os: CertAndKey;
  };
}

const pair = (c: CertAndKey) => ({ crt: c.cert, key: c.key });

/** A secrets.yaml that `talosctl gen config --with-secrets` and `talos-cluster:secretsYaml` accept. */
export function secretsBundleYaml(s: MachineSecrets): string {
  const secrets: Record<string, string> = {
    bootstraptoken: s.secrets.bootstrapToken,
    secretboxencryptionsecret: s.secrets.secretboxEncryptionSecret,
  };
  if (s.secrets.aescbcEncryptionSecret) secrets.aescbcencryptionsecret = s.secrets.aescbcEncryptionSecret;
  return YAML.stringify({
    cluster: { id: s.cluster.id, secret: s.cluster.secret },
    secrets,
    trustdinfo: { token: s.trustdinfo.token },
    certs: {
      etcd: pair(s.certs.etcd),
      k8s: pair(s.certs.k8s),
      k8saggregator: pair(s.certs.k8sAggregator),
      k8sserviceaccount: { key: s.certs.k8sServiceaccount.key },
      os: pair(s.certs.os),
    },
  });
}

/** The top-level keys a secrets file must have; checked before anything is imported. */
export function secretsBundleProblems(text: string): string[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    return [`is not YAML: ${(err as Error).message.split("\n")[0]}`];
  }
  if (!doc || typeof doc !== "object") return ["is not a talosctl secrets file (expected a YAML mapping)"];
  const missing = ["cluster", "secrets", "trustdinfo", "certs"].filter((k) => !(k in (doc as object)));
  return missing.length ? [`is not a talosctl secrets file: missing ${missing.join(", ")}`] : [];
}
