// Linkerd's trust anchor and issuer made by the real tls plugin, checked as X.509.
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { engineProject, EngineProject } from "./harness";

const HOUR = 3600_000;

describe("engine: Linkerd identity certificates", function () {
  this.timeout(300_000);
  let project: EngineProject;
  let stack: Stack;
  let anchor: X509Certificate;
  let issuer: X509Certificate;
  let issuerKeyPem: string;

  before(async () => {
    project = engineProject(undefined, "tests/engine/linkerd-identity-program");
    stack = await project.stack("identity", {});
    await stack.up({ color: "never" });
    const outputs = await stack.outputs();
    anchor = new X509Certificate(outputs.trustAnchorPem!.value);
    issuer = new X509Certificate(outputs.issuerCertPem!.value);
    issuerKeyPem = outputs.issuerKeyPem!.value;
    for (const name of ["trustAnchorPem", "issuerCertPem", "issuerKeyPem"]) assert.equal(outputs[name]!.secret, true, name);
  });

  after(async () => {
    await stack?.destroy({ color: "never" }).catch(() => undefined);
    project?.cleanup();
  });

  it("signs the issuer with the trust anchor", () => {
    assert.equal(issuer.verify(anchor.publicKey), true);
    assert.equal(issuer.checkIssued(anchor), true);
    assert.equal(anchor.verify(anchor.publicKey), true, "the trust anchor is self-signed");
    assert.match(anchor.subject, /CN=root\.linkerd\.cluster\.local/);
    assert.match(issuer.subject, /CN=identity\.linkerd\.cluster\.local/);
  });

  it("makes both CAs, the trust anchor for 10 years and the issuer for 1 year", () => {
    assert.equal(anchor.ca, true);
    assert.equal(issuer.ca, true);
    const hours = (c: X509Certificate) => Math.round((Date.parse(c.validTo) - Date.parse(c.validFrom)) / HOUR);
    assert.equal(hours(anchor), 87600);
    assert.equal(hours(issuer), 8760);
  });

  it("uses ECDSA P-256 keys, the issuer's key matching its certificate", () => {
    for (const cert of [anchor, issuer]) {
      assert.equal(cert.publicKey.asymmetricKeyType, "ec");
      assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
    }
    assert.equal(issuer.checkPrivateKey(createPrivateKey(issuerKeyPem)), true);
  });

  it("keeps the private keys out of the state file in plaintext", () => {
    const state = project.stateFile("identity");
    assert.doesNotMatch(state, /PRIVATE KEY/);
    assert.ok(!state.includes(issuerKeyPem.split("\n")[1]!), "a line of the issuer key is in the state file");
  });
});
