// Platform add-ons under mocks: charts, pinned versions, namespaces, derived values, overrides,
// switches, ordering, and the Linkerd certificates.
import assert from "node:assert/strict";
import pins from "../../toolchain/versions.json";
import { ciliumValues, mergeValues, oddAtMost, rookClusterValues } from "../../components/addons/values";
import { addonSizing } from "../../components/addons/placement";
import { schedulingNodes } from "../../components/addons/scheduling";
import { RecordedResource, Recorder, runProgram, runValidProgram } from "../support/mocks";
import { committedStackConfig } from "../support/stack-files";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile";
const PRIVILEGED = { "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "privileged" };

const inputsOf = (r: RecordedResource) => r.inputs as Record<string, any>;
const shortName = (urn: string) => urn.split("::").pop();

const withAddons = (stack: string, addons: Record<string, unknown>, cluster: Record<string, unknown> = {}) =>
  committedStackConfig(stack, { "talos-cluster:addons": addons, "talos-cluster:cluster": cluster });

describe("add-ons: homelab (Cilium and prometheus-operator CRDs only, seed 000)", () => {
  let recorder: Recorder;
  before(async () => {
    recorder = (await runValidProgram(committedStackConfig("homelab"), "homelab")).recorder;
  });

  it("builds the Kubernetes provider from the cluster's kubeconfig and passes it to every add-on", () => {
    const provider = recorder.named("tales-addons-kubernetes");
    assert.deepEqual(inputsOf(provider), { kubeconfig: "kubeconfig of tales-cluster-kubeconfig", enableServerSideApply: "true" });
    assert.deepEqual(provider.secretInputs, ["kubeconfig"]);
    for (const r of recorder.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
      assert.ok(r.provider.startsWith(`${provider.urn}::`), r.name);
    }
  });

  it("applies the pinned prometheus-operator CRDs", () => {
    assert.deepEqual(inputsOf(recorder.named("tales-addons-prometheus-operator-crds-manifests")), { file: pins.addons.prometheusOperatorCrds.url });
  });

  it("installs the pinned Cilium chart with values derived from the cluster", () => {
    const release = inputsOf(recorder.named("tales-addons-cilium-release"));
    assert.equal(release.chart, "cilium");
    assert.equal(release.version, pins.addons.cilium.version);
    assert.deepEqual(release.repositoryOpts, { repo: "https://helm.cilium.io" });
    assert.equal(release.namespace, "cilium");
    const values = release.values; // any: read before deepEqual narrows it
    assert.equal(values.k8sServiceHost, "localhost");
    assert.equal(values.k8sServicePort, 7445);
    assert.equal(values.ipv4NativeRoutingCIDR, "10.244.0.0/16");
    assert.equal(values.kubeProxyReplacement, true);
    assert.ok(!values.securityContext.capabilities.ciliumAgent.includes("SYS_MODULE"));
    assert.deepEqual(values.hubble.relay, { enabled: true }); // a worker exists: no control-plane toleration
    assert.equal(values.operator.replicas, 2); // one control plane and one worker: one operator on each
    assert.deepEqual(release.values, ciliumValues({ podCidr: "10.244.0.0/16", serviceMonitors: true, operatorReplicas: 2, hubbleTolerations: [] }));
  });

  it("gives only Cilium's namespace the privileged pod-security labels", () => {
    const namespaces = recorder.ofType(NAMESPACE);
    assert.deepEqual(namespaces.map((n) => inputsOf(n).metadata), [{ name: "cilium", labels: PRIVILEGED }]);
  });

  it("orders kubeconfig -> day 2 (last kernel-args step, after the rollout) -> cluster ready -> CRDs -> Cilium", () => {
    // the first health gate waits for the end of the day-2 chain, which waits for every apply
    const ready = ["tales-cluster-kubeconfig", "tales-config-secrets", "talos-worker-1-kernel-args"];
    const crds = recorder.named("tales-addons-prometheus-operator-crds-manifests");
    assert.deepEqual(crds.dependencies.map(shortName).sort(), ready);
    const cilium = recorder.named("tales-addons-cilium-release");
    assert.deepEqual(cilium.dependencies.map(shortName).sort(), ["tales-addons-cilium-namespace", "tales-addons-prometheus-operator-crds-manifests", ...ready].sort());
    // the add-ons' first object waits for the API server (the Talos health gate), never before it
    assert.deepEqual(recorder.named("tales-addons-cilium-namespace").dependencies.map(shortName).sort(), ready);
  });

  it("registers nothing for disabled add-ons", () => {
    assert.equal(recorder.resources.filter((r) => /rook|linkerd|gateway/.test(r.name)).length, 0);
    assert.equal(recorder.resources.filter((r) => r.type.startsWith("tls:")).length, 0);
  });
});

describe("add-ons: deepthought (Rook on the HDDs, Linkerd HA and Viz, Contour Gateway, seed 003)", () => {
  let recorder: Recorder;
  let exports: Record<string, unknown>;
  before(async () => {
    ({ recorder, exports } = await runValidProgram(committedStackConfig("deepthought"), "deepthought"));
  });

  it("shows where every Ceph monitor, manager, OSD and Linkerd replica can run (stack output addonPlacement)", () => {
    const all = ["deepthought-cp-1", "deepthought-worker-1", "deepthought-worker-2"];
    const placement = exports.addonPlacement as any; // plain data: known in a preview
    assert.deepEqual(placement.rookCeph, {
      monitors: { replicas: 3, onePerNode: true, nodes: all },
      managers: { replicas: 2, onePerNode: true, nodes: all },
      osds: { replicas: 5, onePerNode: false, nodes: all },
    });
    assert.deepEqual(placement.linkerd, { controllers: { replicas: 3, onePerNode: true, nodes: all } });
    assert.deepEqual(placement.cilium.hubbleRelay, { replicas: 1, onePerNode: false, nodes: all.slice(1) });
  });

  it("lets Ceph and the Linkerd controllers onto the control plane through the keys their charts read", () => {
    const cp = [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }];
    const rook = inputsOf(recorder.named("deepthought-addons-rook-ceph-cluster")).values;
    assert.deepEqual(rook.cephClusterSpec.placement, { all: { tolerations: cp } });
    assert.deepEqual([rook.cephClusterSpec.mon, rook.cephClusterSpec.mgr], [{ count: 3, allowMultiplePerNode: false }, { count: 2, allowMultiplePerNode: false }]);
    const linkerd = inputsOf(recorder.named("deepthought-addons-linkerd-control-plane")).values;
    assert.deepEqual(linkerd.tolerations, cp);
    assert.equal("controllerTolerations" in linkerd, false);
    // values-ha.yaml in full: resources and PDBs too
    assert.deepEqual(linkerd.destinationResources, { cpu: { limit: "", request: "100m" }, memory: { limit: "250Mi", request: "50Mi" } });
    assert.deepEqual(linkerd.controller, { podDisruptionBudget: { maxUnavailable: 1 } });
    assert.equal(linkerd.highAvailability, true);
  });

  it("registers exactly these add-on resources", () => {
    const counts: Record<string, number> = {};
    for (const r of recorder.resources.filter((r) => r.name.startsWith("deepthought-addons"))) counts[r.type] = (counts[r.type] ?? 0) + 1;
    assert.deepEqual(counts, {
      "talos-cluster:addons:Platform": 1,
      "pulumi:providers:kubernetes": 1,
      "talos-cluster:addons:CrdManifests": 2,
      [CONFIG_FILE]: 2,
      "talos-cluster:addons:Cilium": 1,
      "talos-cluster:addons:RookCeph": 1,
      "talos-cluster:addons:Linkerd": 1,
      "talos-cluster:addons:LinkerdIdentity": 1,
      // cilium, rook-ceph, linkerd, linkerd-viz, and the Gateway's own
      [NAMESPACE]: 5,
      // cilium, rook operator and cluster, linkerd CRDs and control plane, linkerd-viz
      [RELEASE]: 6,
      "tls:index/privateKey:PrivateKey": 2,
      "tls:index/selfSignedCert:SelfSignedCert": 1,
      "tls:index/certRequest:CertRequest": 1,
      "tls:index/locallySignedCert:LocallySignedCert": 1,
      "talos-cluster:addons:LinkerdViz": 1,
      // Contour's Gateway provisioner files, its GatewayClass and the Gateway (seed 003)
      "talos-cluster:addons:GatewayController": 1,
      "kubernetes:yaml/v2:ConfigGroup": 1,
      "kubernetes:gateway.networking.k8s.io/v1:GatewayClass": 1,
      "kubernetes:gateway.networking.k8s.io/v1:Gateway": 1,
      // linkerd check and cilium status (tests/unit/gateway-addons.test.ts)
      "talos-cluster:addons:PostInstallChecks": 1,
      "command:local:Command": 2,
    });
  });

  it("labels exactly the namespaces that need host access", () => {
    assert.deepEqual(
      recorder.ofType(NAMESPACE).map((n) => inputsOf(n).metadata).sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: "cilium", labels: PRIVILEGED },
        { name: "gateway" }, // Contour and Envoy run unprivileged: the cluster default
        { name: "linkerd", labels: PRIVILEGED },
        { name: "linkerd-viz", labels: { ...PRIVILEGED, "linkerd.io/extension": "viz" } },
        { name: "rook-ceph", labels: PRIVILEGED },
      ],
    );
  });

  it("applies the pinned Gateway API experimental channel, which Contour's Gateway provisioner watches", () => {
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-gateway-api-crds-manifests")), { file: pins.addons.gatewayApiExperimental.url });
  });

  it("installs the Rook operator, then a cluster on exactly the listed data disks", () => {
    const operator = inputsOf(recorder.named("deepthought-addons-rook-ceph-operator"));
    assert.deepEqual([operator.chart, operator.version, operator.repositoryOpts.repo, operator.namespace], ["rook-ceph", pins.addons.rookCeph.version, "https://charts.rook.io/release", "rook-ceph"]);
    const cluster = recorder.named("deepthought-addons-rook-ceph-cluster");
    const values = inputsOf(cluster).values;
    assert.equal(inputsOf(cluster).chart, "rook-ceph-cluster");
    // the operator is awaited; the cluster chart (its only workload: the toolbox, which needs the
    // mons' Secret) is not, so a slow first Ceph start cannot fail the up
    assert.equal(operator.skipAwait, false);
    assert.equal(inputsOf(cluster).skipAwait, true);
    assert.deepEqual(values.cephClusterSpec.storage, {
      useAllNodes: false,
      useAllDevices: false,
      nodes: [
        { name: "deepthought-cp-1", devices: [{ name: "sda" }] },
        { name: "deepthought-worker-1", devices: [{ name: "sda" }, { name: "sdb" }] },
        { name: "deepthought-worker-2", devices: [{ name: "sda" }, { name: "sdb" }] },
      ],
    });
    assert.equal(values.cephClusterSpec.mon.count, 3);
    assert.equal(values.cephBlockPools[0].spec.replicated.size, 3);
    assert.equal(values.cephBlockPools[0].storageClass.isDefault, true);
    assert.ok(!JSON.stringify(values).includes("nvme0n1"), "the install disk is never given to Ceph");
    assert.ok(cluster.dependencies.map(shortName).includes("deepthought-addons-rook-ceph-operator"));
  });

  it("installs Linkerd's CRDs, then an HA control plane with our certificates and proxy-init as root", () => {
    const crds = inputsOf(recorder.named("deepthought-addons-linkerd-crds"));
    assert.deepEqual([crds.chart, crds.version, crds.namespace, crds.values], ["linkerd-crds", pins.addons.linkerdCrds.version, "linkerd", { installGatewayAPI: false }]);
    const controlPlane = recorder.named("deepthought-addons-linkerd-control-plane");
    const values = inputsOf(controlPlane).values;
    assert.equal(inputsOf(controlPlane).chart, "linkerd-control-plane");
    assert.equal(values.proxyInit.runAsRoot, true);
    assert.equal(values.controllerReplicas, 3);
    assert.equal(values.enablePodAntiAffinity, true);
    assert.equal(values.identityTrustAnchorsPEM, "deepthought-addons-linkerd-identity-trust-anchor-cert");
    assert.deepEqual(values.identity.issuer.tls, { crtPEM: "deepthought-addons-linkerd-identity-issuer-cert", keyPEM: "deepthought-addons-linkerd-identity-issuer-key-private-key" });
    assert.deepEqual(controlPlane.secretInputs, ["values"]);
    assert.ok(controlPlane.dependencies.map(shortName).includes("deepthought-addons-linkerd-crds"));
    assert.ok(recorder.named("deepthought-addons-linkerd-crds").dependencies.map(shortName).includes("deepthought-addons-gateway-api-crds-manifests"));
  });

  it("signs the issuer (1 year, CA) with the trust anchor (10 years, CA), both ECDSA P-256 and secret", () => {
    const anchorKey = inputsOf(recorder.named("deepthought-addons-linkerd-identity-trust-anchor-key"));
    const issuerKey = inputsOf(recorder.named("deepthought-addons-linkerd-identity-issuer-key"));
    assert.deepEqual(anchorKey, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    assert.deepEqual(issuerKey, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const anchor = recorder.named("deepthought-addons-linkerd-identity-trust-anchor");
    assert.equal(inputsOf(anchor).isCaCertificate, true);
    assert.equal(inputsOf(anchor).validityPeriodHours, 87600);
    assert.equal(inputsOf(anchor).privateKeyPem, "deepthought-addons-linkerd-identity-trust-anchor-key-private-key");
    const issuer = recorder.named("deepthought-addons-linkerd-identity-issuer");
    assert.deepEqual(
      { ca: inputsOf(issuer).caCertPem, caKey: inputsOf(issuer).caPrivateKeyPem, isCa: inputsOf(issuer).isCaCertificate, hours: inputsOf(issuer).validityPeriodHours },
      { ca: "deepthought-addons-linkerd-identity-trust-anchor-cert", caKey: "deepthought-addons-linkerd-identity-trust-anchor-key-private-key", isCa: true, hours: 8760 },
    );
    assert.deepEqual(issuer.dependencies.map(shortName).sort(), ["deepthought-addons-linkerd-identity-issuer-request", "deepthought-addons-linkerd-identity-trust-anchor", "deepthought-addons-linkerd-identity-trust-anchor-key"]);
    assert.ok(anchor.additionalSecretOutputs.includes("certPem"));
    assert.ok(issuer.additionalSecretOutputs.includes("certPem"));
    for (const key of ["deepthought-addons-linkerd-identity-trust-anchor-key", "deepthought-addons-linkerd-identity-issuer-key"]) {
      assert.ok(recorder.named(key).additionalSecretOutputs.includes("privateKeyPem"), key);
    }
  });

  it("orders kubeconfig -> CRDs -> Cilium -> healthy cluster -> Rook and Linkerd", () => {
    const deps = (name: string) => recorder.named(name).dependencies.map(shortName);
    // the first health gate (Talos only: etcd, API, nodes) carries the kubeconfig and the end of
    // the day-2 chain (the last kernel-args step, after every apply, upgrade and rollout), then every
    // data disk's one wipe (seed 003: Rook only gets clean disks)
    const wipes = ["deepthought-cp-1-wipe-sda", "deepthought-worker-1-wipe-sda", "deepthought-worker-1-wipe-sdb", "deepthought-worker-2-wipe-sda", "deepthought-worker-2-wipe-sdb"];
    const ready = ["deepthought-cluster-kubeconfig", "deepthought-config-secrets", "deepthought-worker-2-kernel-args", ...wipes].sort();
    for (const crds of ["deepthought-addons-gateway-api-crds-manifests", "deepthought-addons-prometheus-operator-crds-manifests"]) {
      assert.deepEqual(deps(crds).sort(), ready, crds);
    }
    assert.deepEqual(deps("deepthought-addons-cilium-release").sort(), [
      "deepthought-addons-cilium-namespace",
      "deepthought-addons-gateway-api-crds-manifests",
      "deepthought-addons-prometheus-operator-crds-manifests",
      ...ready,
    ].sort());
    // the health gate carries its own dependencies (Cilium, the kubeconfig) into the releases after it
    for (const later of ["deepthought-addons-rook-ceph-operator", "deepthought-addons-linkerd-crds"]) {
      assert.ok(deps(later).includes("deepthought-addons-cilium-release"), later);
      assert.ok(deps(later).includes("deepthought-cluster-kubeconfig"), later);
    }
    // their namespaces are held back by the same gates
    assert.deepEqual(deps("deepthought-addons-cilium-namespace").sort(), ready);
    for (const ns of ["deepthought-addons-rook-ceph-namespace", "deepthought-addons-linkerd-namespace", "deepthought-addons-linkerd-viz-namespace"]) {
      assert.ok(deps(ns).includes("deepthought-addons-cilium-release"), ns);
    }
    const health = recorder.invokesOf("talos:cluster/getHealth:getHealth");
    assert.deepEqual(health.map((h) => h.inputs.skipKubernetesChecks).sort(), [false, true]);
  });
});

describe("add-on switches and overrides", () => {
  it("merges stack values over the derived ones, objects key by key, lists replaced", () => {
    assert.deepEqual(mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 }), { a: { b: 1, c: [3] }, d: 1, e: 2 });
  });

  it("passes a Cilium override through to the release", async () => {
    const run = await runProgram(withAddons("homelab", { cilium: { enabled: true, values: { hubble: { ui: { enabled: false } }, debug: { enabled: true } } } }), "override");
    const values = inputsOf(run.recorder.named("tales-addons-cilium-release")).values;
    assert.deepEqual(values.hubble.ui, { enabled: false });
    assert.deepEqual(values.hubble.relay, { enabled: true });
    assert.deepEqual(values.debug, { enabled: true });
  });

  it("lets Hubble tolerate control planes when no node is free of taints", () => {
    const sizing = addonSizing(schedulingNodes([{ name: "cp-1", role: "controlplane" }], false));
    assert.equal(sizing.cilium.operatorReplicas, 1);
    const values = ciliumValues({ podCidr: "10.244.0.0/16", serviceMonitors: false, ...sizing.cilium }) as any;
    assert.deepEqual(values.hubble.relay.tolerations, [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }]);
    assert.equal(values.prometheus.serviceMonitor.enabled, false);
  });

  it("keeps socket load balancing in the host namespace exactly when Linkerd meshes the cluster", () => {
    const sizing = addonSizing(schedulingNodes([{ name: "cp-1", role: "controlplane" }], true));
    const withLinkerd = ciliumValues({ podCidr: "10.244.0.0/16", serviceMonitors: false, linkerd: true, ...sizing.cilium }) as any;
    assert.deepEqual(withLinkerd.socketLB, { hostNamespaceOnly: true });
    const without = ciliumValues({ podCidr: "10.244.0.0/16", serviceMonitors: false, linkerd: false, ...sizing.cilium }) as any;
    assert.equal("socketLB" in without, false);
  });

  it("sizes Ceph for small clusters", () => {
    assert.equal(oddAtMost(2, 3), 1);
    assert.equal(oddAtMost(5, 3), 3);
    const single = rookClusterValues([{ name: "a", dataDisks: ["/dev/sdb"] }], false, { tolerations: [], monCount: 1, mgrCount: 1 }) as any;
    assert.equal(single.cephClusterSpec.mon.count, 1);
    assert.deepEqual(single.cephBlockPools, []);
  });

  it("registers no add-on at all when the stack only renders configs", async () => {
    const run = await runProgram(withAddons("deepthought", {}, { applyNodes: false }), "render");
    assert.equal(run.recorder.resources.filter((r) => r.type.startsWith("kubernetes:") || r.type.startsWith("tls:") || r.type.includes(":addons:")).length, 0);
  });
});
