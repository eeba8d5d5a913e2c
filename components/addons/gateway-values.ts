// The Gateway API objects and Cilium values of the Gateway controller. Pure: tests deep-equal them.
import type { Values } from "./values";

export type GatewayControllerName = "contour" | "cilium";

/** The controllerName each controller claims GatewayClasses by (its docs and flags' defaults). */
export const GATEWAY_CONTROLLER_NAMES: Readonly<Record<GatewayControllerName, string>> = {
  // contour gateway-provisioner --gateway-controller-name default
  contour: "projectcontour.io/gateway-controller",
  // Cilium's operator (Cilium docs, Gateway API Support)
  cilium: "io.cilium/gateway-controller",
};

export interface GatewayListenerSettings {
  readonly name: string;
  readonly port: number;
  readonly protocol: "HTTP" | "HTTPS" | "TLS" | "TCP" | "UDP";
  readonly hostname?: string;
  readonly certificateSecret?: string;
}

export interface GatewaySettings {
  readonly controller: GatewayControllerName;
  readonly name: string;
  readonly namespace: string;
  readonly listeners: readonly GatewayListenerSettings[];
}

/** The GatewayClass's name: the controller's, so `kubectl get gatewayclass` says who serves it. */
export const gatewayClassName = (controller: GatewayControllerName) => controller;

/** GatewayClass spec: claimed by the chosen controller. */
export function gatewayClassSpec(controller: GatewayControllerName): Values {
  return { controllerName: GATEWAY_CONTROLLER_NAMES[controller] };
}

/** One Gateway API v1 Listener from the stack config. */
export function gatewayListener(l: GatewayListenerSettings): Values {
  const tls =
    l.protocol === "HTTPS"
      ? { tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: l.certificateSecret }] } }
      : l.protocol === "TLS"
        ? // TLSRoutes pass the encrypted stream through to the backend.
          { tls: { mode: "Passthrough" } }
        : {};
  return {
    name: l.name,
    port: l.port,
    protocol: l.protocol,
    ...(l.hostname === undefined ? {} : { hostname: l.hostname }),
    ...tls,
    // Routes live beside their apps (seed 003's HTTPRoute is in the app's namespace), not
    // beside the Gateway: accept routes from every namespace.
    allowedRoutes: { namespaces: { from: "All" } },
  };
}

/** Gateway spec: the class and the configured listeners, in config order. */
export function gatewaySpec(settings: GatewaySettings): Values {
  return { gatewayClassName: gatewayClassName(settings.controller), listeners: settings.listeners.map(gatewayListener) };
}

/**
 * Cilium values for its Gateway API controller (Cilium 1.17 docs, Gateway API Support; chart
 * values.yaml at 1.17.6), merged over the derived Cilium values; kubeProxyReplacement and l7Proxy,
 * which it needs, are already true there and the config checks keep them so.
 */
export function ciliumGatewayValues(): Values {
  return {
    // The chart would create its own GatewayClass "cilium" ("auto"); this program creates it,
    // with the Gateway, so there is exactly one.
    gatewayAPI: { enabled: true, gatewayClass: { create: "false" } },
    // The docs restart agent and operator after turning it on: rolling out on config change does that.
    rollOutCiliumPods: true,
    operator: { rollOutPods: true },
  };
}

/**
 * Where the Gateway's address is read: the controller copies its LoadBalancer Service's address
 * into the Gateway's status.addresses (Gateway API v1 GatewayStatus). `up` waits for a first
 * address only where something hands out LoadBalancer addresses (Cilium LB IPAM on a LAN, the
 * Hetzner cloud controller): Pulumi's Kubernetes provider waits for a JSONPath that has any value
 * (annotation pulumi.com/waitFor, provider v4.17+; an empty list has none).
 */
export function gatewayMetadata(settings: Pick<GatewaySettings, "name" | "namespace">, awaitAddress: boolean): Values {
  return {
    name: settings.name,
    namespace: settings.namespace,
    ...(awaitAddress ? { annotations: { "pulumi.com/waitFor": "jsonpath={.status.addresses[*].value}" } } : {}),
  };
}

/** The Gateway's first address (an IP or a hostname), or null while it has none. */
export function gatewayAddress(status: unknown): string | null {
  const addresses = (status as { addresses?: unknown } | undefined)?.addresses;
  if (!Array.isArray(addresses)) return null;
  const first = addresses.find((a) => a && typeof a === "object" && typeof (a as { value?: unknown }).value === "string" && (a as { value: string }).value !== "");
  return first ? (first as { value: string }).value : null;
}
