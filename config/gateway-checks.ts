// Cross-field checks for the Gateway API controller, Linkerd Viz and the post-install checks
// (config/addons.ts). They read the raw value defensively, like every cross-field check.
import { Ctx, issue, list, record, str } from "./check-helpers";

/** What each controller serves with the CRDs this program installs (toolchain/versions.json). */
export const GATEWAY_PROTOCOLS: Readonly<Record<"contour" | "cilium", readonly string[]>> = {
  // Contour watches TLSRoute and TCPRoute too: the experimental-channel CRDs it gets have them.
  // It does not implement UDPRoute.
  contour: ["HTTP", "HTTPS", "TLS", "TCP"],
  // Cilium 1.17 serves HTTPRoute and GRPCRoute (and TLSRoute only with that experimental CRD,
  // which the standard channel it gets does not have).
  cilium: ["HTTP", "HTTPS"],
};

const enabledIn = (addons: Record<string, unknown>, name: string, byDefault: boolean) => {
  const v = record(addons[name]).enabled;
  return typeof v === "boolean" ? v : byDefault;
};

export function checkGatewayAndViz(addons: Record<string, unknown>, ctx: Ctx): void {
  if (enabledIn(addons, "linkerdViz", false) && !enabledIn(addons, "linkerd", false)) {
    issue(ctx, ["addons", "linkerdViz", "enabled"], "needs Linkerd's control plane; set addons.linkerd.enabled: true");
  }
  const gateway = record(addons.gateway);
  if (!enabledIn(addons, "gateway", false)) return;
  const controller = gateway.controller === "cilium" ? "cilium" : gateway.controller === undefined || gateway.controller === "contour" ? "contour" : undefined;
  if (controller === undefined) return; // the schema reports the bad value
  if (!enabledIn(addons, "gatewayApi", false)) {
    issue(ctx, ["addons", "gateway", "enabled"], `needs the Gateway API CRDs: set addons.gatewayApi.enabled: true (${controller} installs none of them itself here)`);
  }
  if (controller === "cilium") checkCiliumGateway(record(addons.cilium), enabledIn(addons, "cilium", true), ctx);
  const namespace = str(gateway.namespace) ?? "gateway";
  checkListeners(list(gateway.listeners).map(record), controller, namespace, ctx);
}

/** Cilium's Gateway API prerequisites (Cilium 1.17 docs, "Gateway API Support": Prerequisites). */
function checkCiliumGateway(cilium: Record<string, unknown>, enabled: boolean, ctx: Ctx) {
  if (!enabled) {
    issue(ctx, ["addons", "gateway", "controller"], "is cilium but addons.cilium.enabled is false; enable Cilium or use controller: contour");
  }
  const values = record(cilium.values);
  if (values.kubeProxyReplacement !== undefined && values.kubeProxyReplacement !== true && values.kubeProxyReplacement !== "true") {
    issue(ctx, ["addons", "cilium", "values", "kubeProxyReplacement"], "must stay true with gateway.controller: cilium (Cilium's Gateway API needs the kube-proxy replacement)");
  }
  if (values.l7Proxy !== undefined && values.l7Proxy !== true && values.l7Proxy !== "true") {
    issue(ctx, ["addons", "cilium", "values", "l7Proxy"], "must stay true with gateway.controller: cilium (Cilium's Gateway API runs on its L7 proxy)");
  }
}

/** Gateway API listener rules, checked here so a bad Gateway never reaches the cluster. */
function checkListeners(listeners: Record<string, unknown>[], controller: "contour" | "cilium", namespace: string, ctx: Ctx) {
  const at = (i: number, field: string) => ["addons", "gateway", "listeners", i, field];
  const names = new Map<string, number>();
  const byPort = new Map<number, number>();
  listeners.forEach((l, i) => {
    const name = str(l.name);
    const protocol = str(l.protocol);
    const port = typeof l.port === "number" ? l.port : undefined;
    const hostname = str(l.hostname);
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) issue(ctx, at(i, "name"), `"${name}" is already the name of listener ${first}; listener names must be unique`);
      else names.set(name, i);
    }
    if (protocol !== undefined && ["HTTP", "HTTPS", "TLS", "TCP", "UDP"].includes(protocol) && !GATEWAY_PROTOCOLS[controller].includes(protocol)) {
      issue(ctx, at(i, "protocol"), `${protocol} is not served by the ${controller} Gateway controller; use one of ${GATEWAY_PROTOCOLS[controller].join(", ")}`);
    }
    if (hostname !== undefined && (protocol === "TCP" || protocol === "UDP")) {
      issue(ctx, at(i, "hostname"), `has no meaning on a ${protocol} listener (no host to match); remove it`);
    }
    if (protocol === "HTTPS" && l.certificateSecret === undefined) {
      issue(ctx, at(i, "certificateSecret"), `required for an HTTPS listener: the name of a kubernetes.io/tls Secret in namespace ${namespace}`);
    }
    if (protocol !== undefined && protocol !== "HTTPS" && l.certificateSecret !== undefined) {
      issue(ctx, at(i, "certificateSecret"), `only an HTTPS listener terminates TLS; remove it from this ${protocol} listener`);
    }
    if (port === undefined || protocol === undefined) return;
    // Listeners may share a port only with the same protocol and different hostnames.
    const first = byPort.get(port);
    if (first === undefined) {
      byPort.set(port, i);
      return;
    }
    const other = listeners[first];
    if (str(other.protocol) !== protocol) {
      issue(ctx, at(i, "port"), `${port} is already used by listener ${first} with protocol ${str(other.protocol)}; listeners on one port must share the protocol`);
    } else if (listeners.slice(0, i).some((o) => o.port === port && str(o.hostname) === hostname)) {
      issue(ctx, at(i, "hostname"), `${hostname ?? "(none)"} is already used on port ${port}; listeners sharing a port need different hostnames`);
    }
  });
}
