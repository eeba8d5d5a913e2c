// Talos secrets bundles for tests, made at run time: the repository must hold no private key or
// Talos secret, even a test one. Keys come from node:crypto, certificates are written with ./der
// and signed by their own key (every CA in a Talos bundle is self-signed).
//
// Shape as `talosctl gen secrets` writes it (and config/secrets-certs.ts checks it): etcd, k8s and
// k8saggregator CAs on ECDSA P-256 keys in SEC1 PEM, the os CA on an Ed25519 key in PKCS#8 PEM
// labelled "ED25519 PRIVATE KEY", a P-256 service-account key; every value base64 of the PEM.
import { generateKeyPairSync, KeyObject, randomBytes, randomInt, sign, X509Certificate } from "node:crypto";
import { secretsBundleYaml } from "../../components/talos/secrets-bundle";
import { bitString, boolean, explicit, integer, octetString, oid, sequence, set, time, utf8String } from "./der";

const OID = {
  organizationName: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  ed25519: "1.3.101.112",
};

export type KeyType = "ec" | "ed25519";

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A fresh key pair: ECDSA on P-256 (what Talos uses for etcd and Kubernetes) or Ed25519 (Talos API). */
export function newKeyPair(type: KeyType): KeyPair {
  return type === "ec" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
}

export interface CertificateOptions {
  /** Subject and issuer O= (self-signed). */
  readonly organization: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints cA; a CA also gets keyUsage keyCertSign and cRLSign. */
  readonly ca: boolean;
}

/** A self-signed X.509 v3 certificate for `keys`, PEM. */
export function selfSignedCertificate(keys: KeyPair, options: CertificateOptions): string {
  const ed25519 = keys.privateKey.asymmetricKeyType === "ed25519";
  // ECDSA: SHA-256, no parameters (RFC 5758 §3.2); Ed25519: no parameters, no separate hash (RFC 8410 §3).
  const algorithm = sequence(oid(ed25519 ? OID.ed25519 : OID.ecdsaWithSha256));
  const name = sequence(set(sequence(oid(OID.organizationName), utf8String(options.organization))));
  // keyUsage bits (RFC 5280 §4.2.1.3): digitalSignature(0), keyCertSign(5), cRLSign(6); trailing zero bits dropped.
  const keyUsage = options.ca ? bitString(Buffer.from([0x86]), 1) : bitString(Buffer.from([0x80]), 7);
  const extensions = sequence(
    sequence(oid(OID.basicConstraints), boolean(true), octetString(sequence(...(options.ca ? [boolean(true)] : [])))),
    sequence(oid(OID.keyUsage), boolean(true), octetString(keyUsage)),
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, no leading zero octet, at most 20 octets (RFC 5280 §4.1.2.2)
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(serial),
    algorithm,
    name,
    sequence(time(options.notBefore), time(options.notAfter)),
    name,
    keys.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, extensions),
  );
  const signature = sign(ed25519 ? null : "sha256", tbs, keys.privateKey); // ECDSA: DER Ecdsa-Sig-Value
  return new X509Certificate(sequence(tbs, algorithm, bitString(signature))).toString();
}

/** A private key as a Talos bundle stores it (before base64): SEC1 for EC, PKCS#8 relabelled for Ed25519. */
export function talosKeyPem(privateKey: KeyObject): string {
  if (privateKey.asymmetricKeyType === "ed25519") {
    return (privateKey.export({ type: "pkcs8", format: "pem" }) as string).replace(/PRIVATE KEY/g, "ED25519 PRIVATE KEY");
  }
  return privateKey.export({ type: "sec1", format: "pem" }) as string;
}

export type CaName = "etcd" | "k8s" | "k8saggregator" | "os";

/** Each CA of a Talos bundle: its subject organization and key type (as talosctl gen secrets makes them). */
export const TALOS_CAS: Readonly<Record<CaName, { readonly organization: string; readonly keyType: KeyType }>> = {
  etcd: { organization: "etcd", keyType: "ec" },
  k8s: { organization: "kubernetes", keyType: "ec" },
  k8saggregator: { organization: "aggregator", keyType: "ec" },
  os: { organization: "talos", keyType: "ed25519" },
};

/** Default validity of the generated CAs: from 2020 to the RFC 5280 "no expiry" date, so tests never age. */
export const VALID_FROM = new Date("2020-01-01T00:00:00Z");
export const VALID_TO = new Date("9999-12-31T23:59:59Z");

/** How one CA of a generated bundle differs from a good one. */
export interface CaVariant {
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** false: basicConstraints cA false (a leaf certificate where a CA belongs). */
  readonly ca?: boolean;
  /** true: the key stored beside the certificate is another fresh key of the same type. */
  readonly foreignKey?: boolean;
}

export interface BundleVariant {
  readonly certs?: Partial<Record<CaName, CaVariant>>;
  /** The stored (base64) service-account key instead of a fresh P-256 key. */
  readonly serviceAccountKey?: string;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const secret32 = () => randomBytes(32).toString("base64");
// Bootstrap and trustd tokens: [a-z0-9]{6}.[a-z0-9]{16}, as Talos generates them.
const token = () => {
  const chars = (n: number) => Array.from({ length: n }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[randomInt(36)]).join("");
  return `${chars(6)}.${chars(16)}`;
};

function caPair(name: CaName, variant: CaVariant): { cert: string; key: string } {
  const { organization, keyType } = TALOS_CAS[name];
  const keys = newKeyPair(keyType);
  const cert = selfSignedCertificate(keys, {
    organization,
    notBefore: variant.notBefore ?? VALID_FROM,
    notAfter: variant.notAfter ?? VALID_TO,
    ca: variant.ca ?? true,
  });
  const stored = variant.foreignKey ? newKeyPair(keyType).privateKey : keys.privateKey;
  return { cert: b64(cert), key: b64(talosKeyPem(stored)) };
}

/**
 * A secrets bundle in `talosctl gen secrets` format with fresh keys, certificates, tokens and
 * secrets; valid unless `variant` breaks parts of it.
 */
export function testSecretsBundle(variant: BundleVariant = {}): string {
  const certs = variant.certs ?? {};
  return secretsBundleYaml({
    cluster: { id: secret32(), secret: secret32() },
    secrets: { bootstrapToken: token(), secretboxEncryptionSecret: secret32() },
    trustdinfo: { token: token() },
    certs: {
      etcd: caPair("etcd", certs.etcd ?? {}),
      k8s: caPair("k8s", certs.k8s ?? {}),
      k8sAggregator: caPair("k8saggregator", certs.k8saggregator ?? {}),
      k8sServiceaccount: { key: variant.serviceAccountKey ?? b64(talosKeyPem(newKeyPair("ec").privateKey)) },
      os: caPair("os", certs.os ?? {}),
    },
  });
}
