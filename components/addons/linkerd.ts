import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { PinnedChart, releaseArgs } from "./chart";
import { privilegedNamespace } from "./privileged-namespace";
import { linkerdControlPlaneValues, linkerdCrdsValues, mergeValues, Values } from "./values";

export interface LinkerdArgs {
  readonly crdsChart: PinnedChart;
  readonly controlPlaneChart: PinnedChart;
  /** High-availability values; the stack turns it on with 3 or more nodes. Required. */
  readonly ha: boolean;
  /** Trust anchor lifetime in hours. Default: 87600 (10 years). */
  readonly trustAnchorValidityHours?: number;
  /** Issuer lifetime in hours. Default: 8760 (1 year, seed 003). */
  readonly issuerValidityHours?: number;
  /** Stack-config values merged over the derived control-plane values. Default: none. */
  readonly values?: Values;
  readonly provider: k8s.Provider;
  /** What must exist first (the Gateway API CRDs). Default: none. */
  readonly after?: readonly pulumi.Resource[];
  /** Gates the releases' values (e.g. on the cluster being healthy with its CNI). Default: none. */
  readonly gate?: (values: pulumi.Input<Values>) => pulumi.Input<Values>;
}

// ECDSA P-256: what Linkerd's identity service expects for its trust anchor and issuer.
const KEY = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;
const CA_USES = ["cert_signing", "crl_signing"];

/**
 * Linkerd (seed 003): its CRDs, then the control plane with a trust anchor (root CA) and an
 * issuer (intermediate CA) made here and kept only in encrypted state.
 */
export class Linkerd extends pulumi.ComponentResource {
  public readonly trustAnchorPem: pulumi.Output<string>;
  public readonly issuerPem: pulumi.Output<string>;
  public readonly controlPlane: k8s.helm.v3.Release;

  constructor(name: string, args: LinkerdArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:addons:Linkerd", name, {}, opts);
    const child = { parent: this };
    const gate = args.gate ?? ((v: pulumi.Input<Values>) => v);
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
    this.issuerPem = pulumi.secret(issuer.certPem);

    const namespace = privilegedNamespace(`${name}-namespace`, "linkerd", this, args.provider);
    const crds = new k8s.helm.v3.Release(`${name}-crds`, releaseArgs(args.crdsChart, "linkerd", gate(linkerdCrdsValues())), {
      ...child,
      provider: args.provider,
      dependsOn: [namespace, ...(args.after ?? [])],
    });
    const values = pulumi
      .all([anchor.certPem, issuer.certPem, issuerKey.privateKeyPem])
      .apply(([trustAnchorPem, issuerCertPem, issuerKeyPem]) =>
        mergeValues(linkerdControlPlaneValues({ trustAnchorPem, issuerCertPem, issuerKeyPem, ha: args.ha }), args.values),
      );
    const controlPlaneAfter = [crds];
    this.controlPlane = new k8s.helm.v3.Release(`${name}-control-plane`, releaseArgs(args.controlPlaneChart, "linkerd", gate(pulumi.secret(values))), {
      ...child,
      provider: args.provider,
      dependsOn: controlPlaneAfter,
    });
    this.registerOutputs({ trustAnchorPem: this.trustAnchorPem, issuerPem: this.issuerPem });
  }
}
