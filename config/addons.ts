// The add-ons section of the stack config (`talos-cluster:addons`).
import { z } from "zod";

/** Helm values merged over an add-on's derived values (objects merge, lists replace). */
const valuesOverride = z.record(z.string(), z.unknown()).default({});

/** A DNS label (Gateway API SectionName, Kubernetes namespace and object names). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Gateway API Hostname: a DNS name, optionally with one leading `*.` wildcard label; no IPs. */
const GATEWAY_HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOSTNAME_MESSAGE = "must be a DNS name, optionally starting with '*.' (Gateway API Hostname; no IP addresses)";
const dnsLabel = z.string().max(63).regex(DNS_LABEL, "must be a lowercase DNS label (a-z, 0-9 and '-', starting and ending alphanumeric)");

/** One listener of the Gateway (Gateway API v1 Listener); cross-field rules in config/gateway-checks.ts. */
const gatewayListener = z.strictObject({
  /** Unique within the Gateway; routes attach to it by this name (sectionName). */
  name: dnsLabel,
  port: z.number().int().min(1).max(65535),
  /** Gateway API core protocols; which ones a controller serves is checked per controller. */
  protocol: z.enum(["HTTP", "HTTPS", "TLS", "TCP", "UDP"]),
  /** Only requests for this host (or `*.domain`) match. Default: any host. */
  hostname: z
    .string()
    .max(253)
    .regex(GATEWAY_HOSTNAME, HOSTNAME_MESSAGE)
    // Dotted-quad digits match the DNS pattern too; Gateway API forbids IP addresses here.
    .refine((h) => !/^\d+\.\d+\.\d+\.\d+$/.test(h), HOSTNAME_MESSAGE)
    .optional(),
  /** HTTPS only: the kubernetes.io/tls Secret (in the Gateway's namespace) the listener terminates TLS with. */
  certificateSecret: dnsLabel.optional(),
});

export const GATEWAY_DEFAULTS = {
  enabled: false,
  controller: "contour" as const,
  name: "gateway",
  namespace: "gateway",
  listeners: [{ name: "http", port: 80, protocol: "HTTP" as const }],
};

/**
 * Where the pinned charts and manifests come from. repository: each chart's Helm repository and
 * each manifest's release URL (toolchain/versions.json). directory: a local folder laid out as
 * `node toolchain/chart-source.mjs <dir>` fills it (<dir>/<chart>, <dir>/manifests/<file>).
 * oci: charts from `<location>/<chart>` at the pinned version; manifests still from their URLs.
 */
export const chartSourceSchema = z
  .strictObject({
    type: z.enum(["repository", "directory", "oci"]).default("repository"),
    /** directory: an absolute path; oci: an oci:// reference. Not given for repository. */
    location: z.string().min(1).optional(),
  })
  .superRefine((source, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: "custom", path: ["location"], message });
    if (source.type === "repository" && source.location !== undefined) issue("only with type directory or oci");
    if (source.type === "directory" && !source.location?.startsWith("/")) issue("type directory needs an absolute path");
    if (source.type === "oci" && !/^oci:\/\/[^/]+\/\S*[^/]$/.test(source.location ?? "")) issue("type oci needs a reference like oci://registry.example/charts (no trailing '/')");
  })
  .default({ type: "repository" });

export const addonsSchema = z.strictObject({
  /** Where charts and manifests come from (air-gapped clusters). Default: the repositories. */
  chartSource: chartSourceSchema,
  /** prometheus-operator CRDs, before Cilium so its ServiceMonitors apply (seeds 000/001). Default: on. */
  prometheusOperatorCrds: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
  /** Cilium, the CNI when cluster.cni is cilium. Default: on. */
  cilium: z.strictObject({ enabled: z.boolean().default(true), values: valuesOverride }).default({ enabled: true, values: {} }),
  /**
   * LoadBalancer addresses on a LAN: a Cilium LB IPAM pool of these IPv4 CIDRs, announced by
   * Cilium's L2 announcements (ARP) from the nodes. Checked against the node networks, the nodes'
   * addresses and the pod and service networks (config/load-balancer-checks.ts). Default: none.
   */
  loadBalancer: z.strictObject({ addresses: z.array(z.string()).max(64).default([]) }).default({ addresses: [] }),
  /**
   * Hetzner's cloud controller manager (Hetzner stacks only): LoadBalancer Services (a Gateway's
   * Envoy, too) get a Hetzner load balancer, and nodes their provider ID and addresses. Its token
   * is the stack secret hcloud:token. Default: on for a Hetzner stack, off (and refused) elsewhere.
   */
  hcloudCcm: z.strictObject({ enabled: z.boolean().optional(), values: valuesOverride }).default({ values: {} }),
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
  /** Linkerd Viz (seed 003), at the Linkerd control plane's version; needs linkerd. Default: off. */
  linkerdViz: z.strictObject({ enabled: z.boolean().default(false), values: valuesOverride }).default({ enabled: false, values: {} }),
  /**
   * A Gateway API controller with one GatewayClass and one Gateway (seed 003). contour: Contour's
   * Gateway provisioner (seed 003); cilium: Cilium's own Gateway API support. Default: off, contour.
   */
  gateway: z
    .strictObject({
      enabled: z.boolean().default(GATEWAY_DEFAULTS.enabled),
      controller: z.enum(["contour", "cilium"]).default(GATEWAY_DEFAULTS.controller),
      /** The Gateway's name. Default: gateway. */
      name: dnsLabel.default(GATEWAY_DEFAULTS.name),
      /** The namespace the Gateway (and, for Contour, its Envoy) lives in, created here. Default: gateway. */
      namespace: dnsLabel.default(GATEWAY_DEFAULTS.namespace),
      /** Default: one plain HTTP listener on port 80. */
      listeners: z.array(gatewayListener).min(1).max(64).default(GATEWAY_DEFAULTS.listeners),
    })
    .default(GATEWAY_DEFAULTS),
  /**
   * `up` steps after the add-on changed: `linkerd check` (linkerd, linkerdViz) and
   * `cilium status --wait` (cilium). They need the linkerd and cilium CLIs on PATH. Default: both on.
   */
  postInstallChecks: z
    .strictObject({ linkerd: z.boolean().default(true), cilium: z.boolean().default(true) })
    .default({ linkerd: true, cilium: true }),
});


export type AddonSettings = z.infer<typeof addonsSchema>;
