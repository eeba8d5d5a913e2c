// The add-on layer's `pulumi up` against a real Kubernetes control plane (etcd, kube-apiserver,
// controller-manager, scheduler; kwok nodes), with every chart and manifest from the local chart
// source setup fills from Go modules (.tools/charts): CRDs established, charts rendered with our
// values and accepted by the API server (admission, Pod Security, CRD schemas and CEL rules),
// Deployments Available on kwok nodes, the GatewayClass and Gateway accepted as objects, and a
// second `up` that changes nothing. Linkerd is off: no served module carries its charts.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import type { Stack, UpResult } from "@pulumi/pulumi/automation";
import { engineProject, EngineProject, projectRoot } from "./harness";
import { ControlPlane, startControlPlane } from "../support/control-plane";
import { LAB_NODES } from "../support/lab-cluster";
import { talosServiceAccountCrd } from "../support/talos-service-account-crd";
import pins from "../../toolchain/versions.json";

const LOCAL = path.join(projectRoot, ".tools", "charts");
/** The address the test writes into the Gateway's status, as Contour would from its Envoy Service (the pool's first). */
const GATEWAY_ADDRESS = "10.0.1.240";
const NODES = LAB_NODES.map((n) => ({ name: n.name, role: n.role, dataDisks: n.role === "worker" ? ["/dev/sdb"] : [] }));
const ADDONS = {
  chartSource: { type: "directory", location: LOCAL },
  prometheusOperatorCrds: { enabled: true },
  gatewayApi: { enabled: true },
  cilium: { enabled: true },
  rookCeph: { enabled: true },
  gateway: { enabled: true, controller: "contour" },
  loadBalancer: { addresses: ["10.0.1.240/28"] },
  postInstallChecks: { linkerd: false, cilium: false },
};

/** The etcd backup as index.ts would configure it (components/backup/backup-manifests.ts BackupManifestInput). */
const BACKUP = {
  clusterName: "lab",
  namespace: "talos-backup",
  schedule: "0 */6 * * *",
  image: `${pins.images.talosBackup.image}:${pins.images.talosBackup.version}`,
  endpoint: "https://s3.example.org",
  bucket: "lab-etcd",
  region: "eu-central-1",
  pathStyle: true,
  prefix: "lab",
};

interface Condition { type: string; status: string; reason?: string }
interface Item { metadata: { name: string; namespace?: string }; status?: { conditions?: Condition[] } }

describe("engine: the add-on layer against a real control plane, charts from the local source", function () {
  this.timeout(600_000);
  let cluster: ControlPlane | undefined;
  let project: EngineProject | undefined;
  let stack: Stack;
  let first: UpResult;

  const items = (args: string[]): Item[] => JSON.parse(cluster!.kubectl([...args, "-o", "json"])).items;
  const condition = (item: Item, type: string) => item.status?.conditions?.find((c) => c.type === type);

  before(async () => {
    cluster = await startControlPlane({ name: "addons" });
    for (const n of LAB_NODES) await cluster.addNode(n);
    // What Cilium's operator registers when it starts; kwok runs no operator (from the same module).
    for (const crd of ["v2/ciliumloadbalancerippools.yaml", "v2alpha1/ciliuml2announcementpolicies.yaml"]) {
      cluster.kubectl(["apply", "--server-side", "-f", path.join(LOCAL, "cilium-operator-crds", crd)]);
    }
    // What Talos installs itself when kubernetesTalosAPIAccess is on (stand-in from its source).
    cluster.kubectl(["apply", "--server-side", "-f", "-"], JSON.stringify(talosServiceAccountCrd()));
    project = engineProject(undefined, "tests/engine/addons-program", { PATH: path.join(projectRoot, ".tools", "test-bin") });
    stack = await project.stack("addons", {});
    await stack.setConfig("lab:kubeconfig", { value: cluster.kubeconfig, secret: true });
    await stack.setAllConfig({ "lab:nodes": { value: JSON.stringify(NODES) }, "lab:addons": { value: JSON.stringify(ADDONS) }, "lab:backup": { value: JSON.stringify(BACKUP) } });
    // The Gateway waits for an address (a pool hands them out); kwok runs neither Contour nor
    // Cilium, so the test plays their part once the Gateway exists: it copies the pool's first
    // address into the Gateway's status, as Contour does from its Envoy Service's.
    const kubectl = (args: string[]) =>
      promisify(execFile)("kubectl", ["--kubeconfig", cluster!.kubeconfigPath, ...args], { env: { ...process.env, PATH: `${path.join(projectRoot, ".tools", "test-bin")}:${process.env.PATH}` } });
    const crd = "crd/gateways.gateway.networking.k8s.io";
    const controller = kubectl(["wait", "--for=create", crd, "--timeout=540s"])
      .then(() => kubectl(["wait", "--for=condition=Established", crd, "--timeout=120s"]))
      .then(() => kubectl(["wait", "--for=create", "gateway/gateway", "-n", "gateway", "--timeout=540s"]))
      .then(() =>
      kubectl(["patch", "gateway", "gateway", "-n", "gateway", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { addresses: [{ type: "IPAddress", value: GATEWAY_ADDRESS }] } })]),
    );
    [first] = await Promise.all([stack.up({ color: "never" }), controller]);
  });

  after(async () => {
    project?.cleanup();
    await cluster?.stop();
  });

  it("runs the first up to the end", () => {
    assert.equal(first.summary.result, "succeeded");
  });

  it("establishes every CRD of the local source: prometheus-operator, Gateway API experimental, Contour, Rook's", () => {
    const crds = items(["get", "crd"]);
    const notEstablished = crds.filter((c) => condition(c, "Established")?.status !== "True").map((c) => c.metadata.name);
    assert.deepEqual(notEstablished, []);
    const groups = (suffix: string) => crds.filter((c) => c.metadata.name.endsWith(suffix)).length;
    assert.equal(groups(".monitoring.coreos.com"), 10);
    assert.equal(groups(".gateway.networking.k8s.io") + groups(".gateway.networking.x-k8s.io"), 13);
    assert.equal(groups(".projectcontour.io"), 5);
    assert.ok(groups(".ceph.rook.io") > 0, "Rook's CRDs");
  });

  it("has every Deployment of Cilium, Rook and Contour Available on kwok nodes", () => {
    for (const ns of ["cilium", "rook-ceph", "projectcontour"]) {
      const deployments = items(["get", "deployments", "-n", ns]);
      assert.ok(deployments.length > 0, ns);
      const unavailable = deployments.filter((d) => condition(d, "Available")?.status !== "True").map((d) => d.metadata.name);
      assert.deepEqual(unavailable, [], ns);
    }
  });

  it("accepts the GatewayClass and Gateway as objects; no controller runs to accept them (kwok runs no containers)", () => {
    const [cls] = items(["get", "gatewayclasses"]);
    assert.equal(cls!.metadata.name, "contour");
    assert.deepEqual(condition(cls!, "Accepted"), { type: "Accepted", status: "Unknown", reason: "Pending", ...pick(condition(cls!, "Accepted")) });
    const gateways = items(["get", "gateways", "-n", "gateway"]);
    assert.deepEqual(gateways.map((g) => g.metadata.name), ["gateway"]);
  });

  it("waits for the Gateway's address and exports it as gatewayAddress", () => {
    assert.equal(first.outputs.gatewayAddress?.value, GATEWAY_ADDRESS);
  });

  it("creates the CephCluster from rook-ceph-cluster with our values", () => {
    const [ceph] = items(["get", "cephclusters", "-n", "rook-ceph"]);
    assert.equal(ceph!.metadata.name, "rook-ceph");
  });

  it("has the LB IPAM pool and the L2 announcement policy accepted by Cilium's CRD schemas", () => {
    const pools = JSON.parse(cluster!.kubectl(["get", "ciliumloadbalancerippools", "-o", "json"])).items;
    assert.deepEqual(pools.map((p: { metadata: { name: string }; spec: unknown }) => [p.metadata.name, p.spec]), [["lan", { blocks: [{ cidr: "10.0.1.240/28" }], disabled: false }]]); // disabled: the CRD's default, set by the API server
    const policies = JSON.parse(cluster!.kubectl(["get", "ciliuml2announcementpolicies", "-o", "json"])).items;
    assert.deepEqual(policies.map((p: { metadata: { name: string }; spec: unknown }) => [p.metadata.name, p.spec]), [["lan", { loadBalancerIPs: true, externalIPs: false }]]);
  });

  it("accepts the Talos ServiceAccount (os:etcd:backup) and the talos-backup CronJob in the restricted backup namespace", () => {
    const [account] = JSON.parse(cluster!.kubectl(["get", "serviceaccounts.talos.dev", "-n", BACKUP.namespace, "-o", "json"])).items;
    assert.deepEqual([account.metadata.name, account.spec], ["talos-backup-talosconfig", { roles: ["os:etcd:backup"] }]);
    const [job] = JSON.parse(cluster!.kubectl(["get", "cronjobs", "-n", BACKUP.namespace, "-o", "json"])).items;
    assert.deepEqual([job.metadata.name, job.spec.schedule, job.spec.jobTemplate.spec.template.spec.containers[0].image], ["talos-backup", BACKUP.schedule, BACKUP.image]);
    const ns = JSON.parse(cluster!.kubectl(["get", "namespace", BACKUP.namespace, "-o", "json"]));
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
  });

  it("has the stand-in CRD refuse what Talos's refuses: roles that are not a list of strings", () => {
    const bad = { apiVersion: "talos.dev/v1alpha1", kind: "ServiceAccount", metadata: { name: "bad", namespace: BACKUP.namespace }, spec: { roles: "os:etcd:backup" } };
    assert.throws(() => cluster!.kubectl(["create", "-f", "-"], JSON.stringify(bad)), /spec\.roles: Invalid value: "string": spec\.roles in body must be of type array/);
  });

  it("changes nothing on a second up", async () => {
    const second = await stack.up({ color: "never" });
    const changes = Object.entries(second.summary.resourceChanges ?? {}).filter(([op]) => op !== "same");
    assert.deepEqual(changes, []);
  });
});

/** The condition's message and timestamps, which the assertion does not pin. */
function pick(c: Condition | undefined): Record<string, unknown> {
  if (!c) return {};
  const { type: _t, status: _s, reason: _r, ...rest } = c as Condition & Record<string, unknown>;
  return rest;
}
