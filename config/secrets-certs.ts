// The certificates of an imported secrets bundle (`talos-cluster:secretsYaml`): every CA a cluster is
// built from must be a CA, valid now, and come with its own key, or the rebuilt cluster fails at
// bootstrap (etcd, kube-apiserver) or cannot be reached (talosctl). The bundle holds base64 PEM, as
// `talosctl gen secrets` writes it; Talos labels Ed25519 keys "ED25519 PRIVATE KEY" (PKCS#8 inside).
import { createPrivateKey, KeyObject, X509Certificate } from "node:crypto";
import YAML from "yaml";
import { secretsBundleProblems } from "../components/talos/secrets-bundle";

/** The CAs of a Talos secrets bundle (talosctl gen secrets: certs.<name>.crt/key). */
const CAS = ["etcd", "k8s", "k8saggregator", "os"] as const;

const decode = (b64: unknown) => (typeof b64 === "string" ? Buffer.from(b64, "base64").toString("utf8") : "");

function privateKey(b64: unknown): KeyObject | undefined {
  try {
    return createPrivateKey(decode(b64).replace(/ED25519 PRIVATE KEY/g, "PRIVATE KEY"));
  } catch {
    return undefined;
  }
}

/** What makes the bundle's certificates unusable at `now`, one message per problem. */
export function secretsCertificateProblems(doc: Record<string, unknown>, now: Date = new Date()): string[] {
  const certs = (doc.certs ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const problems: string[] = [];
  for (const name of CAS) {
    const pair = certs[name] ?? {};
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(decode(pair.crt));
    } catch {
      problems.push(`certs.${name}.crt is not a base64-encoded PEM certificate`);
      continue;
    }
    if (!cert.ca) problems.push(`certs.${name}.crt is not a CA certificate`);
    if (new Date(cert.validFrom) > now) problems.push(`certs.${name}.crt is not valid before ${new Date(cert.validFrom).toISOString()}`);
    if (new Date(cert.validTo) <= now) problems.push(`certs.${name}.crt expired on ${new Date(cert.validTo).toISOString()}`);
    const key = privateKey(pair.key);
    if (!key) problems.push(`certs.${name}.key is not a base64-encoded PEM private key`);
    else if (!cert.checkPrivateKey(key)) problems.push(`certs.${name}.key does not belong to certs.${name}.crt`);
  }
  if (!privateKey(certs.k8sserviceaccount?.key)) problems.push("certs.k8sserviceaccount.key is not a base64-encoded PEM private key");
  return problems;
}

/** Problems with an imported bundle: its shape first, then (once the shape is right) its certificates. */
export function importedSecretsProblems(text: string, now?: Date): string[] {
  const shape = secretsBundleProblems(text);
  return shape.length ? shape : secretsCertificateProblems(YAML.parse(text) as Record<string, unknown>, now);
}
