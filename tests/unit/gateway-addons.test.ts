// Linkerd Viz, the Gateway API controller (Contour or Cilium) and the post-install checks:
// pure values and scripts, then mocked programs with exact inputs, counts and dependency edges.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import pins from "../../toolchain/versions.json";
import { ciliumGatewayValues, gatewayAddress, gatewayClassSpec, gatewayMetadata, gatewaySpec } from "../../components/addons/gateway-values";
import { linkerdEdgeRelease, linkerdVizNamespaceLabels } from "../../components/addons/linkerd-viz-values";
import { checkPrelude, ciliumStatusScript, linkerdCheckScript, releaseDigest } from "../../components/addons/post-install-check-plan";
import { RecordedResource, Recorder, runValidProgram } from "../support/mocks";
import { committedStackConfig } from "../support/stack-files";

const inputsOf = (r: RecordedResource) => r.inputs as Record<string, any>;
const shortName = (urn: string) => urn.split("::").pop()!;
const LINKERD_CLI = { binary: "linkerd" as const, install: pins.clusterClis.linkerd.install };
const CILIUM_CLI = { binary: "cilium" as const, install: pins.clusterClis.cilium.install };

describe("gateway, Linkerd Viz and checks: pure parts", () => {
  it("pins: Contour's provisioner and the experimental CRDs match the Gateway API pin; viz follows the control plane", () => {
    assert.equal(pins.addons.contourGatewayProvisioner.gatewayApi, pins.addons.gatewayApi.version);
    assert.equal(pins.addons.gatewayApiExperimental.version, pins.addons.gatewayApi.version);
    assert.equal(pins.addons.gatewayApiExperimental.url, pins.addons.gatewayApi.url.replace("standard-install.yaml", "experimental-install.yaml"));
    for (const file of pins.addons.contourGatewayProvisioner.files) {
      assert.match(file, new RegExp(`^https://raw\\.githubusercontent\\.com/projectcontour/contour/${pins.addons.contourGatewayProvisioner.version}/examples/(contour/01-crds|gateway-provisioner/0[0-3]-[a-z-]+)\\.yaml$`));
    }
    assert.ok(!("version" in pins.addons.linkerdViz), "linkerd-viz takes the control plane's version, never its own");
  });

  it("maps edge chart versions to their Linkerd release and refuses anything else", () => {
    assert.equal(linkerdEdgeRelease("2025.1.1"), "edge-25.1.1");
    assert.equal(linkerdEdgeRelease("2025.12.3"), "edge-25.12.3");
    assert.throws(() => linkerdEdgeRelease("1.16.11"), /^Error: linkerd chart version 1\.16\.11 is not an edge chart version \(20YY\.M\.P\)$/);
  });

  it("labels the viz namespace for `linkerd check` and privileged pod security", () => {
    assert.deepEqual(linkerdVizNamespaceLabels(), {
      "pod-security.kubernetes.io/enforce": "privileged",
      "pod-security.kubernetes.io/warn": "privileged",
      "linkerd.io/extension": "viz",
    });
  });

  it("builds the GatewayClass and Gateway from the settings", () => {
    assert.deepEqual(gatewayClassSpec("contour"), { controllerName: "projectcontour.io/gateway-controller" });
    assert.deepEqual(gatewayClassSpec("cilium"), { controllerName: "io.cilium/gateway-controller" });
    const all = { namespaces: { from: "All" } };
    assert.deepEqual(
      gatewaySpec({
        controller: "contour",
        name: "public",
        namespace: "edge",
        listeners: [
          { name: "http", port: 80, protocol: "HTTP" },
          { name: "https", port: 443, protocol: "HTTPS", hostname: "*.example.org", certificateSecret: "wildcard-tls" },
          { name: "db", port: 5432, protocol: "TCP" },
          { name: "sni", port: 8443, protocol: "TLS", hostname: "db.example.org" },
        ],
      }),
      {
        gatewayClassName: "contour",
        listeners: [
          { name: "http", port: 80, protocol: "HTTP", allowedRoutes: all },
          { name: "https", port: 443, protocol: "HTTPS", hostname: "*.example.org", tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: "wildcard-tls" }] }, allowedRoutes: all },
          { name: "db", port: 5432, protocol: "TCP", allowedRoutes: all },
          { name: "sni", port: 8443, protocol: "TLS", hostname: "db.example.org", tls: { mode: "Passthrough" }, allowedRoutes: all },
        ],
      },
    );
  });

  it("reads the Gateway's first address from its status, null while it has none", () => {
    assert.equal(gatewayAddress({ addresses: [{ type: "IPAddress", value: "10.0.1.240" }, { type: "Hostname", value: "lb.example.org" }] }), "10.0.1.240");
    assert.equal(gatewayAddress({ addresses: [{ type: "Hostname", value: "lb.example.org" }] }), "lb.example.org");
    for (const status of [undefined, {}, { addresses: [] }, { addresses: [{ type: "IPAddress", value: "" }] }, { conditions: [] }]) assert.equal(gatewayAddress(status), null, JSON.stringify(status));
  });

  it("asks the provider to wait for an address only where one is handed out", () => {
    assert.deepEqual(gatewayMetadata({ name: "web", namespace: "edge" }, false), { name: "web", namespace: "edge" });
    assert.deepEqual(gatewayMetadata({ name: "web", namespace: "edge" }, true), {
      name: "web",
      namespace: "edge",
      annotations: { "pulumi.com/waitFor": "jsonpath={.status.addresses[*].value}" },
    });
  });

  it("turns on Cilium's Gateway API without its own GatewayClass, restarting agent and operator", () => {
    assert.deepEqual(ciliumGatewayValues(), { gatewayAPI: { enabled: true, gatewayClass: { create: "false" } }, rollOutCiliumPods: true, operator: { rollOutPods: true } });
  });

  it("writes the check scripts exactly", () => {
    const prelude = [
      "set -eu",
      `command -v linkerd >/dev/null 2>&1 || { echo 'linkerd is not on PATH: install the linkerd CLI (${LINKERD_CLI.install}) and run pulumi up again, or turn this check off with addons.postInstallChecks.linkerd: false' >&2; exit 127; }`,
      "umask 077",
      'work="$(mktemp -d)"',
      `trap 'rm -rf "$work"' EXIT`,
      `printf '%s' "$TALOS_CLUSTER_KUBECONFIG" > "$work/kubeconfig"`,
      'export KUBECONFIG="$work/kubeconfig"',
    ];
    assert.equal(checkPrelude(LINKERD_CLI), prelude.join("\n"));
    assert.deepEqual(linkerdCheckScript(LINKERD_CLI, "edge-25.1.1", "10m").split("\n"), [
      ...prelude,
      'client="$(linkerd version --client --short)"',
      `[ "$client" = 'edge-25.1.1' ] || { echo "linkerd CLI $client does not match the control plane edge-25.1.1: install linkerd edge-25.1.1 (${LINKERD_CLI.install})" >&2; exit 1; }`,
      "linkerd check --linkerd-namespace linkerd --wait 10m",
    ]);
    assert.equal(ciliumStatusScript(CILIUM_CLI, "cilium", "5m").split("\n").at(-1), "cilium status --namespace cilium --wait --wait-duration 5m");
  });

  it("refuses without the tool: exit 127 and the message on stderr, nothing else run", () => {
    let failure: any;
    try {
      execFileSync("/bin/sh", ["-c", ciliumStatusScript(CILIUM_CLI, "cilium", "5m")], { env: { PATH: "/nonexistent", TALOS_CLUSTER_KUBECONFIG: "k" }, stdio: "pipe" });
    } catch (err) {
      failure = err;
    }
    assert.equal(failure?.status, 127);
    assert.equal(String(failure.stderr), `cilium is not on PATH: install the cilium CLI (${CILIUM_CLI.install}) and run pulumi up again, or turn this check off with addons.postInstallChecks.cilium: false\n`);
    assert.equal(String(failure.stdout), "");
  });

  it("re-runs a check exactly when its release's chart, version or values change", () => {
    const base = releaseDigest("cilium", "1.17.6", { a: 1 });
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(releaseDigest("cilium", "1.17.6", { a: 1 }), base);
    assert.notEqual(releaseDigest("cilium", "1.17.7", { a: 1 }), base);
    assert.notEqual(releaseDigest("cilium", "1.17.6", { a: 2 }), base);
    assert.notEqual(releaseDigest("cilium-x", "1.17.6", { a: 1 }), base);
  });
});

describe("deepthought with Linkerd Viz and Contour's Gateway (seed 003)", () => {
  let recorder: Recorder;
  const deps = (name: string) => recorder.named(name).dependencies.map(shortName);
  const listeners = [
    { name: "http", port: 80, protocol: "HTTP" },
    { name: "https", port: 443, protocol: "HTTPS", hostname: "emoji.example.org", certificateSecret: "emoji-tls" },
  ];
  before(async () => {
    const config = committedStackConfig("deepthought", {
      "talos-cluster:addons": { linkerdViz: { enabled: true }, gateway: { enabled: true, controller: "contour", listeners } },
    });
    recorder = (await runValidProgram(config, "deepthought")).recorder;
  });

  it("registers exactly these new resources", () => {
    const counts: Record<string, number> = {};
    const ours = /^deepthought-addons-(linkerd-viz|gateway(?!-api)|checks)/;
    for (const r of recorder.resources.filter((r) => ours.test(r.name))) counts[r.type] = (counts[r.type] ?? 0) + 1;
    assert.deepEqual(counts, {
      "talos-cluster:addons:LinkerdViz": 1,
      "kubernetes:core/v1:Namespace": 2,
      "kubernetes:helm.sh/v3:Release": 1,
      "talos-cluster:addons:GatewayController": 1,
      "kubernetes:yaml/v2:ConfigGroup": 1,
      "kubernetes:gateway.networking.k8s.io/v1:GatewayClass": 1,
      "kubernetes:gateway.networking.k8s.io/v1:Gateway": 1,
      "talos-cluster:addons:PostInstallChecks": 1,
      "command:local:Command": 2,
    });
  });

  it("installs linkerd-viz at the control plane's version, in its labelled namespace, after the control plane", () => {
    const release = inputsOf(recorder.named("deepthought-addons-linkerd-viz-release"));
    assert.deepEqual(
      [release.chart, release.version, release.repositoryOpts, release.namespace, release.values, release.skipAwait],
      ["linkerd-viz", pins.addons.linkerdControlPlane.version, { repo: "https://helm.linkerd.io/edge" }, "linkerd-viz", { linkerdNamespace: "linkerd" }, false],
    );
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-linkerd-viz-namespace")).metadata, { name: "linkerd-viz", labels: linkerdVizNamespaceLabels() });
    const after = deps("deepthought-addons-linkerd-viz-release");
    for (const d of ["deepthought-addons-linkerd-viz-namespace", "deepthought-addons-linkerd-control-plane", "deepthought-addons-cilium-release", "deepthought-cluster-kubeconfig"]) {
      assert.ok(after.includes(d), d);
    }
  });

  it("applies the experimental channel of the pinned Gateway API release instead of the standard one (Contour watches TCPRoute)", () => {
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-gateway-api-crds-manifests")), { file: pins.addons.gatewayApiExperimental.url });
    assert.equal(recorder.ofType("kubernetes:yaml/v2:ConfigFile").filter((r) => inputsOf(r).file === pins.addons.gatewayApi.url).length, 0);
  });

  it("applies Contour's provisioner (no Gateway API CRDs of its own), then the class, then the Gateway", () => {
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-gateway-contour-provisioner")), { files: pins.addons.contourGatewayProvisioner.files });
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-gateway-class")), {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "GatewayClass",
      metadata: { name: "contour" },
      spec: { controllerName: "projectcontour.io/gateway-controller" },
    });
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-gateway-namespace")).metadata, { name: "gateway" });
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-gateway-gateway")), {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: "gateway", namespace: "gateway" },
      spec: gatewaySpec({ controller: "contour", name: "gateway", namespace: "gateway", listeners: listeners as any }),
    });
    // after the health gate (which carries Cilium and the kubeconfig) and the CRDs
    const provisioner = deps("deepthought-addons-gateway-contour-provisioner");
    for (const d of ["deepthought-addons-gateway-api-crds-manifests", "deepthought-addons-cilium-release", "deepthought-cluster-kubeconfig"]) assert.ok(provisioner.includes(d), d);
    assert.ok(deps("deepthought-addons-gateway-class").includes("deepthought-addons-gateway-contour-provisioner"));
    assert.ok(deps("deepthought-addons-gateway-namespace").includes("deepthought-addons-cilium-release"));
    const gateway = deps("deepthought-addons-gateway-gateway");
    assert.ok(gateway.includes("deepthought-addons-gateway-class") && gateway.includes("deepthought-addons-gateway-namespace"));
  });

  it("checks Linkerd (with viz) and Cilium after them, re-run by their releases' digests, kubeconfig only in the secret environment", () => {
    const linkerd = recorder.named("deepthought-addons-checks-linkerd-check");
    const script = linkerdCheckScript(LINKERD_CLI, linkerdEdgeRelease(pins.addons.linkerdControlPlane.version), "10m");
    assert.deepEqual([inputsOf(linkerd).create, inputsOf(linkerd).update, inputsOf(linkerd).interpreter], [script, script, ["/bin/sh", "-c"]]);
    assert.deepEqual(inputsOf(linkerd).environment, { TALOS_CLUSTER_KUBECONFIG: "kubeconfig of deepthought-cluster-kubeconfig" });
    assert.ok(linkerd.secretInputs.includes("environment"));
    const release = (name: string) => inputsOf(recorder.named(name));
    const digest = (name: string) => releaseDigest(release(name).chart, release(name).version, release(name).values);
    assert.deepEqual(inputsOf(linkerd).triggers, [digest("deepthought-addons-linkerd-control-plane"), digest("deepthought-addons-linkerd-viz-release")]);
    for (const d of ["deepthought-addons-linkerd-control-plane", "deepthought-addons-linkerd-viz-release", "deepthought-addons-cilium-release"]) assert.ok(deps("deepthought-addons-checks-linkerd-check").includes(d), d);

    const cilium = recorder.named("deepthought-addons-checks-cilium-status");
    assert.equal(inputsOf(cilium).create, ciliumStatusScript(CILIUM_CLI, "cilium", "10m"));
    assert.deepEqual(inputsOf(cilium).triggers, [digest("deepthought-addons-cilium-release")]);
    assert.ok(deps("deepthought-addons-checks-cilium-status").includes("deepthought-addons-cilium-release"));
    assert.ok(!JSON.stringify([inputsOf(linkerd).create, inputsOf(cilium).create]).includes("kubeconfig of"), "no secret in a script");
  });
});

describe("Cilium's own Gateway API, and switching the checks off", () => {
  let recorder: Recorder;
  before(async () => {
    const config = committedStackConfig("homelab", {
      "talos-cluster:addons": {
        gatewayApi: { enabled: true },
        gateway: { enabled: true, controller: "cilium", name: "web", namespace: "web", listeners: [{ name: "http", port: 8080, protocol: "HTTP", hostname: "tales.lan" }] },
        postInstallChecks: { cilium: false },
      },
    });
    recorder = (await runValidProgram(config, "homelab")).recorder;
  });

  it("adds the Gateway API values to Cilium, keeps the standard CRDs before it, and creates no Contour", () => {
    const values = inputsOf(recorder.named("tales-addons-cilium-release")).values;
    assert.deepEqual(values.gatewayAPI, { enabled: true, gatewayClass: { create: "false" } });
    assert.equal(values.kubeProxyReplacement, true);
    assert.equal(values.rollOutCiliumPods, true);
    assert.deepEqual(values.operator.rollOutPods, true);
    assert.deepEqual(inputsOf(recorder.named("tales-addons-gateway-api-crds-manifests")), { file: pins.addons.gatewayApi.url });
    assert.ok(recorder.named("tales-addons-cilium-release").dependencies.map(shortName).includes("tales-addons-gateway-api-crds-manifests"));
    assert.equal(recorder.ofType("kubernetes:yaml/v2:ConfigGroup").length, 0);
  });

  it("creates the cilium class after Cilium and the health gate, then the Gateway with the configured listener", () => {
    const cls = recorder.named("tales-addons-gateway-class");
    assert.deepEqual(inputsOf(cls).spec, { controllerName: "io.cilium/gateway-controller" });
    assert.deepEqual(inputsOf(cls).metadata, { name: "cilium" });
    const after = cls.dependencies.map(shortName);
    for (const d of ["tales-addons-cilium-release", "tales-addons-gateway-api-crds-manifests", "tales-cluster-kubeconfig"]) assert.ok(after.includes(d), d);
    assert.deepEqual(inputsOf(recorder.named("tales-addons-gateway-gateway")), {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: "web", namespace: "web" },
      spec: { gatewayClassName: "cilium", listeners: [{ name: "http", port: 8080, protocol: "HTTP", hostname: "tales.lan", allowedRoutes: { namespaces: { from: "All" } } }] },
    });
  });

  it("registers no check when switched off, and no Linkerd check without Linkerd", () => {
    assert.equal(recorder.resources.filter((r) => r.name.startsWith("tales-addons-checks")).length, 0);
    assert.equal(recorder.ofType("command:local:Command").filter((c) => /check|status/.test(c.name)).length, 0);
  });
});

describe("the stack output gatewayAddress", () => {
  const output = (exports: Record<string, unknown>) => new Promise((resolve) => (exports.gatewayAddress as { apply: (f: (v: unknown) => void) => void }).apply(resolve));

  it("is null without a gateway", async () => {
    const { exports } = await runValidProgram(committedStackConfig("homelab"), "homelab");
    assert.equal(await output(exports as Record<string, unknown>), null);
  });

  it("is the Gateway's first status address; with an LB IPAM pool, up waits for it", async () => {
    const config = committedStackConfig("homelab", {
      "talos-cluster:addons": { gatewayApi: { enabled: true }, gateway: { enabled: true, controller: "cilium" }, loadBalancer: { addresses: ["10.0.1.240/28"] } },
    });
    const { recorder, exports } = await runValidProgram(config, "homelab");
    assert.deepEqual(inputsOf(recorder.named("tales-addons-gateway-gateway")).metadata, gatewayMetadata({ name: "gateway", namespace: "gateway" }, true));
    // the mocked Gateway carries the status its controller would write (tests/support/mocks.ts)
    assert.equal(await output(exports as Record<string, unknown>), "198.51.100.20");
  });

  it("is read but not waited for where nothing hands out addresses (no pool, not Hetzner)", async () => {
    const config = committedStackConfig("homelab", { "talos-cluster:addons": { gatewayApi: { enabled: true }, gateway: { enabled: true, controller: "cilium" } } });
    const { recorder, exports } = await runValidProgram(config, "homelab");
    assert.deepEqual(inputsOf(recorder.named("tales-addons-gateway-gateway")).metadata, { name: "gateway", namespace: "gateway" });
    assert.equal(await output(exports as Record<string, unknown>), "198.51.100.20");
  });
});
