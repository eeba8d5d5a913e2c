// Linkerd's identity certificates on their own, so the engine test can check the real chain.
import { LinkerdIdentity } from "./components/addons/linkerd-identity";

const identity = new LinkerdIdentity("mesh-identity");

export const trustAnchorPem = identity.trustAnchorPem;
export const issuerCertPem = identity.issuerCertPem;
export const issuerKeyPem = identity.issuerKeyPem;
