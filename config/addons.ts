// The add-ons section of the stack config (`talos-cluster:addons`).
import { z } from "zod";

/** Helm values merged over an add-on's derived values (objects merge, lists replace). */
const valuesOverride = z.record(z.string(), z.unknown()).default({});

export const addonsSchema = z.strictObject({
  /** prometheus-operator CRDs, before Cilium so its ServiceMonitors apply (seeds 000/001). Default: on. */
  prometheusOperatorCrds: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
  /** Cilium, the CNI when cluster.cni is cilium. Default: on. */
  cilium: z.strictObject({ enabled: z.boolean().default(true), values: valuesOverride }).default({ enabled: true, values: {} }),
  /** Gateway API standard-channel CRDs (seed 003). Default: off. */
  gatewayApi: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
  /** Rook Ceph on the nodes' dataDisks (seed 003). Default: off. */
  rookCeph: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** A replicated CephBlockPool with the default StorageClass. Default: true. */
      blockPool: z.boolean().default(true),
      operatorValues: valuesOverride,
      clusterValues: valuesOverride,
    })
    .default({ enabled: false, blockPool: true, operatorValues: {}, clusterValues: {} }),
  /** Linkerd with its own trust anchor and issuer (seed 003). Default: off. */
  linkerd: z
    .strictObject({
      enabled: z.boolean().default(false),
      trustAnchorValidityHours: z.number().int().positive().default(87600),
      issuerValidityHours: z.number().int().positive().default(8760),
      values: valuesOverride,
    })
    .default({ enabled: false, trustAnchorValidityHours: 87600, issuerValidityHours: 8760, values: {} }),
});


export type AddonSettings = z.infer<typeof addonsSchema>;
