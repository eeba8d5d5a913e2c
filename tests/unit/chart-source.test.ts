// addons.chartSource: charts and manifests from the repositories, a local directory (filled by
// toolchain/chart-source.mjs from Go modules) or an OCI registry; refusals name the path.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import pins from "../../toolchain/versions.json";
import { locateChart, locateManifest } from "../../components/addons/chart";
import { RecordedResource, runProgram, runValidProgram } from "../support/mocks";
import { committedStackConfig } from "../support/stack-files";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const inputsOf = (r: RecordedResource) => r.inputs as Record<string, any>;
const deepthought = (chartSource: unknown) => committedStackConfig("deepthought", { "talos-cluster:addons": { chartSource } });
const LOCAL = path.resolve(__dirname, "..", "..", ".tools", "charts");

describe("addons.chartSource", () => {
  it("locates a chart and a manifest per source type", () => {
    const pin = { repo: "https://helm.cilium.io", chart: "cilium", version: "1.20.2" };
    assert.deepEqual(locateChart(pin, { type: "repository" }), pin);
    assert.deepEqual(locateChart(pin, { type: "directory", location: "/srv/charts" }), { chart: "/srv/charts/cilium", version: "1.20.2" });
    assert.deepEqual(locateChart(pin, { type: "oci", location: "oci://registry.lan/charts" }), { chart: "oci://registry.lan/charts/cilium", version: "1.20.2" });
    const url = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.1/standard-install.yaml";
    assert.equal(locateManifest(url, { type: "repository" }), url);
    assert.equal(locateManifest(url, { type: "oci", location: "oci://registry.lan/charts" }), url);
    assert.equal(locateManifest(url, { type: "directory", location: "/srv/charts" }), "/srv/charts/manifests/standard-install.yaml");
  });

  it("installs every deepthought chart and manifest from a directory, without repositories", async () => {
    const { recorder } = await runValidProgram(deepthought({ type: "directory", location: "/srv/charts" }), "deepthought");
    const releases = recorder.ofType(RELEASE).map((r) => [inputsOf(r).chart, inputsOf(r).version, inputsOf(r).repositoryOpts]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    assert.deepEqual(releases, [
      ["/srv/charts/cilium", pins.addons.cilium.version, undefined],
      ["/srv/charts/linkerd-control-plane", pins.addons.linkerdControlPlane.version, undefined],
      ["/srv/charts/linkerd-crds", pins.addons.linkerdCrds.version, undefined],
      ["/srv/charts/linkerd-viz", pins.addons.linkerdControlPlane.version, undefined],
      ["/srv/charts/rook-ceph", pins.addons.rookCeph.version, undefined],
      ["/srv/charts/rook-ceph-cluster", pins.addons.rookCephCluster.version, undefined],
    ]);
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-prometheus-operator-crds-manifests")), { file: "/srv/charts/manifests/stripped-down-crds.yaml" });
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-gateway-api-crds-manifests")), { file: "/srv/charts/manifests/experimental-install.yaml" });
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-gateway-contour-provisioner")).files, [
      "/srv/charts/manifests/01-crds.yaml", "/srv/charts/manifests/00-common.yaml", "/srv/charts/manifests/01-roles.yaml",
      "/srv/charts/manifests/02-rolebindings.yaml", "/srv/charts/manifests/03-gateway-provisioner.yaml",
    ]);
  });

  it("takes charts from an OCI reference at the pinned versions, manifests from their URLs", async () => {
    const { recorder } = await runValidProgram(deepthought({ type: "oci", location: "oci://registry.lan/charts" }), "deepthought");
    const cilium = inputsOf(recorder.named("deepthought-addons-cilium-release"));
    assert.deepEqual([cilium.chart, cilium.version, cilium.repositoryOpts], ["oci://registry.lan/charts/cilium", pins.addons.cilium.version, undefined]);
    assert.deepEqual(inputsOf(recorder.named("deepthought-addons-prometheus-operator-crds-manifests")), { file: pins.addons.prometheusOperatorCrds.url });
  });

  it("refuses a location that does not fit the type, naming the path", async () => {
    const cases: [unknown, string][] = [
      [{ type: "directory" }, "type directory needs an absolute path"],
      [{ type: "directory", location: "charts" }, "type directory needs an absolute path"],
      [{ type: "oci", location: "registry.lan/charts" }, "type oci needs a reference like oci://registry.example/charts (no trailing '/')"],
      [{ type: "oci", location: "oci://registry.lan/charts/" }, "type oci needs a reference like oci://registry.example/charts (no trailing '/')"],
      [{ location: "/srv/charts" }, "only with type directory or oci"],
    ];
    for (const [source, message] of cases) {
      const run = await runProgram(deepthought(source), "deepthought");
      assert.ok(run.error, JSON.stringify(source));
      assert.match(String(run.error), new RegExp(`talos-cluster:addons\\.chartSource\\.location: ${message.replace(/[.()'/]/g, "\\$&")}`), JSON.stringify(source));
      assert.equal(run.recorder.resources.length, 0);
    }
  });

  it("has the local source setup fills: every chart and manifest the directory type reads, except Linkerd's", () => {
    const stamp = JSON.parse(fs.readFileSync(path.join(LOCAL, ".pins.json"), "utf8"));
    assert.equal(stamp.cilium, `github.com/cilium/cilium@v${pins.addons.cilium.version}`);
    for (const chart of ["cilium", "rook-ceph", "rook-ceph-cluster"]) assert.ok(fs.existsSync(path.join(LOCAL, chart, "Chart.yaml")), chart);
    assert.match(fs.readFileSync(path.join(LOCAL, "cilium", "Chart.yaml"), "utf8"), new RegExp(`^version: ${pins.addons.cilium.version.replace(/\./g, "\\.")}$`, "m"));
    const manifests = fs.readdirSync(path.join(LOCAL, "manifests")).sort();
    const expected = [pins.addons.prometheusOperatorCrds.url, pins.addons.gatewayApi.url, pins.addons.gatewayApiExperimental.url, ...pins.addons.contourGatewayProvisioner.files]
      .map((u) => u.slice(u.lastIndexOf("/") + 1)).sort();
    assert.deepEqual(manifests, expected);
    assert.ok(!fs.existsSync(path.join(LOCAL, "linkerd-control-plane")));
  });
});
