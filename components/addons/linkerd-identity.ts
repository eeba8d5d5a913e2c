import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

export interface LinkerdIdentityArgs {
  /** Trust anchor lifetime in hours. Default: 87600 (10 years). */
  readonly trustAnchorValidityHours?: number;
  /** Issuer lifetime in hours. Default: 8760 (1 year, seed 003). */
  readonly issuerValidityHours?: number;
}

// ECDSA P-256: what Linkerd's identity service expects for its trust anchor and issuer.
const KEY = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;
const CA_USES = ["cert_signing", "crl_signing"];

/**
 * Linkerd's identity (seed 003's `step certificate create` pair): a trust anchor (root CA) and an
 * issuer (intermediate CA) signed by it, made by @pulumi/tls and kept only in encrypted state.
 */
export class LinkerdIdentity extends pulumi.ComponentResource {
  /** The trust anchor certificate, PEM. Secret. */
  public readonly trustAnchorPem: pulumi.Output<string>;
  /** The issuer certificate and key, PEM. Secret. */
  public readonly issuerCertPem: pulumi.Output<string>;
  public readonly issuerKeyPem: pulumi.Output<string>;

  constructor(name: string, args: LinkerdIdentityArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:LinkerdIdentity", name, {}, opts);
    const child = { parent: this };
    const secretCert = { ...child, additionalSecretOutputs: ["certPem"] };

    const anchorKey = new tls.PrivateKey(`${name}-trust-anchor-key`, { ...KEY }, child);
    const anchor = new tls.SelfSignedCert(
      `${name}-trust-anchor`,
      {
        privateKeyPem: anchorKey.privateKeyPem,
        isCaCertificate: true,
        validityPeriodHours: args.trustAnchorValidityHours ?? 87600,
        subject: { commonName: "root.linkerd.cluster.local" },
        allowedUses: CA_USES,
      },
      secretCert,
    );
    const issuerKey = new tls.PrivateKey(`${name}-issuer-key`, { ...KEY }, child);
    const issuerRequest = new tls.CertRequest(
      `${name}-issuer-request`,
      { privateKeyPem: issuerKey.privateKeyPem, subject: { commonName: "identity.linkerd.cluster.local" } },
      child,
    );
    const issuer = new tls.LocallySignedCert(
      `${name}-issuer`,
      {
        certRequestPem: issuerRequest.certRequestPem,
        caPrivateKeyPem: anchorKey.privateKeyPem,
        caCertPem: anchor.certPem,
        isCaCertificate: true,
        validityPeriodHours: args.issuerValidityHours ?? 8760,
        allowedUses: CA_USES,
      },
      secretCert,
    );
    this.trustAnchorPem = pulumi.secret(anchor.certPem);
    this.issuerCertPem = pulumi.secret(issuer.certPem);
    this.issuerKeyPem = pulumi.secret(issuerKey.privateKeyPem);
    this.registerOutputs({ trustAnchorPem: this.trustAnchorPem, issuerCertPem: this.issuerCertPem });
  }
}
