// The run-time secrets bundles other tests import instead of committed keys: real certificates and
// keys as talosctl writes them, and each broken variant broken in exactly the asked way.
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import YAML from "yaml";
import { secretsCertificateProblems } from "../../config/secrets-certs";
import { CaName, TALOS_CAS, testSecretsBundle } from "../support/test-pki";

const CAS = Object.keys(TALOS_CAS) as CaName[];
const unb64 = (text: string) => Buffer.from(text, "base64").toString("utf8");
const parse = (text: string) => YAML.parse(text) as { certs: Record<string, { crt?: string; key: string }>; [k: string]: unknown };
const certOf = (doc: ReturnType<typeof parse>, name: CaName) => new X509Certificate(unb64(doc.certs[name]!.crt!));
const keyOf = (doc: ReturnType<typeof parse>, name: string) => createPrivateKey(unb64(doc.certs[name]!.key).replace(/ED25519 PRIVATE KEY/g, "PRIVATE KEY"));

describe("test PKI: secrets bundles generated at run time", () => {
  const doc = parse(testSecretsBundle());

  it("has the talosctl gen secrets layout, with fresh tokens and 32-byte secrets", () => {
    assert.deepEqual(Object.keys(doc), ["cluster", "secrets", "trustdinfo", "certs"]);
    assert.deepEqual(Object.keys(doc.certs), ["etcd", "k8s", "k8saggregator", "k8sserviceaccount", "os"]);
    const { cluster, secrets, trustdinfo } = doc as unknown as Record<string, Record<string, string>>;
    for (const value of [cluster!.id, cluster!.secret, secrets!.secretboxencryptionsecret]) assert.equal(Buffer.from(value!, "base64").length, 32);
    for (const value of [secrets!.bootstraptoken, trustdinfo!.token]) assert.match(value!, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.notEqual((parse(testSecretsBundle()) as any).cluster.id, cluster!.id);
  });

  for (const name of CAS) {
    it(`${name}: a self-signed v3 CA, 2020 to 9999, signed by the key stored beside it`, () => {
      const cert = certOf(doc, name);
      const key = keyOf(doc, name);
      assert.equal(cert.subject, `O=${TALOS_CAS[name].organization}`);
      assert.equal(cert.issuer, cert.subject);
      assert.equal(cert.ca, true);
      assert.equal(new Date(cert.validFrom).toISOString(), "2020-01-01T00:00:00.000Z");
      assert.equal(new Date(cert.validTo).toISOString(), "9999-12-31T23:59:59.000Z");
      assert.equal(cert.publicKey.asymmetricKeyType, TALOS_CAS[name].keyType);
      assert.equal(cert.checkPrivateKey(key), true);
      assert.equal(cert.verify(createPublicKey(key)), true);
      assert.equal(cert.verify(createPublicKey(keyOf(parse(testSecretsBundle()), name))), false); // another bundle's key
      // Talos's labels: SEC1 "EC PRIVATE KEY" for ECDSA, "ED25519 PRIVATE KEY" (PKCS#8 inside) for Ed25519.
      assert.match(unb64(doc.certs[name]!.key), TALOS_CAS[name].keyType === "ec" ? /^-----BEGIN EC PRIVATE/ : /^-----BEGIN ED25519 PRIVATE/);
    });
  }

  it("k8sserviceaccount: a P-256 key", () => {
    const key = keyOf(doc, "k8sserviceaccount");
    assert.equal(key.asymmetricKeyType, "ec");
    assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
  });

  it("the certificate checks accept it", () => {
    assert.deepEqual(secretsCertificateProblems(doc), []);
  });

  it("variants break exactly what they name", () => {
    const broken = parse(testSecretsBundle({ certs: { etcd: { notAfter: new Date("2021-01-01T00:00:00Z") }, k8s: { foreignKey: true }, k8saggregator: { ca: false } } }));
    assert.equal(new Date(certOf(broken, "etcd").validTo).toISOString(), "2021-01-01T00:00:00.000Z");
    assert.equal(certOf(broken, "etcd").checkPrivateKey(keyOf(broken, "etcd")), true);
    assert.equal(certOf(broken, "k8s").checkPrivateKey(keyOf(broken, "k8s")), false);
    assert.equal(certOf(broken, "k8s").ca, true);
    assert.equal(certOf(broken, "k8saggregator").ca, false);
    assert.equal(certOf(broken, "os").ca, true);
    assert.deepEqual(secretsCertificateProblems(broken, new Date("2020-06-01T00:00:00Z")), [
      "certs.k8s.key does not belong to certs.k8s.crt",
      "certs.k8saggregator.crt is not a CA certificate",
    ]);
  });
});
