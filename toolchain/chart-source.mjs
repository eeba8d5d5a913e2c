// Fills a local chart source (stack config addons.chartSource: {type: directory}) with the
// pinned add-ons that ship in a module the Go module proxy serves, read from the module zips:
//
//   <dir>/cilium             github.com/cilium/cilium          install/kubernetes/cilium
//   <dir>/rook-ceph          github.com/rook/rook              deploy/charts/rook-ceph (+ charts/library)
//   <dir>/rook-ceph-cluster  github.com/rook/rook              deploy/charts/rook-ceph-cluster (+ charts/library)
//   <dir>/manifests/standard-install.yaml, experimental-install.yaml
//                            sigs.k8s.io/gateway-api           config/crd/<channel>/gateway*.yaml, concatenated
//                                                              as the release's hack/build-install-yaml.sh does
//   <dir>/manifests/stripped-down-crds.yaml
//                            github.com/prometheus-operator/prometheus-operator
//                                                              example/prometheus-operator-crd/*.yaml without
//                                                              descriptions, as its Makefile target does
//   <dir>/manifests/<file>   github.com/projectcontour/contour the pinned contourGatewayProvisioner files
//   <dir>/cilium-operator-crds github.com/cilium/cilium        pkg/k8s/apis/cilium.io/client/crds (tests only)
//
// Not here (no served module carries them; README, Known limits): the Linkerd charts, Hetzner's
// hcloud-cloud-controller-manager chart (`go list -m -versions
// github.com/hetznercloud/hcloud-cloud-controller-manager`: 403 from the proxy), and the
// ceph-csi-operator subchart rook-ceph pulls from its own repository (dropped from the local
// rook-ceph's dependencies, so the local operator installs no CSI drivers).
//
//   node toolchain/chart-source.mjs [<dir>]     (default .tools/charts; setup --chart-source runs it)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments, stringify } from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const pins = JSON.parse(fs.readFileSync(path.join(here, "versions.json"), "utf8"));

/** The module each local item is read from, at the version its pin names. */
export function chartSourceModules(addons = pins.addons) {
  return {
    cilium: `github.com/cilium/cilium@v${addons.cilium.version}`,
    rook: `github.com/rook/rook@${addons.rookCeph.version}`,
    gatewayApi: `sigs.k8s.io/gateway-api@${addons.gatewayApi.version}`,
    prometheusOperator: `github.com/prometheus-operator/prometheus-operator@${addons.prometheusOperatorCrds.version}`,
    contour: `github.com/projectcontour/contour@${addons.contourGatewayProvisioner.version}`,
  };
}

function moduleDir(mod, env) {
  const out = execFileSync("go", ["mod", "download", "-json", mod], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const info = JSON.parse(out);
  if (info.Error || !info.Dir) throw new Error(`go mod download ${mod}: ${info.Error ?? "no Dir"}`);
  return info.Dir;
}

/** Copies a module folder; module cache files are read-only, the copy is made writable. */
function copyTree(from, to) {
  fs.cpSync(from, to, { recursive: true });
  const walk = (p) => {
    fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o755 : 0o644);
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(to);
}

/** Removes every `description` whose value is not an object (the Makefile's jq walk). */
function stripDescriptions(value) {
  if (Array.isArray(value)) return value.map(stripDescriptions);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([k, v]) => !(k === "description" && (typeof v !== "object" || v === null))).map(([k, v]) => [k, stripDescriptions(v)]));
  }
  return value;
}

/** Fills `dir` (replaced as a whole) and writes a stamp of the pins it was made from. */
export function fillChartSource(dir, env = process.env) {
  const mods = chartSourceModules();
  const stampFile = path.join(dir, ".pins.json");
  const stamp = JSON.stringify({ ...mods, contourFiles: pins.addons.contourGatewayProvisioner.files, layout: 2 });
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === stamp) return "up to date";
  const work = `${dir}.work`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, "manifests"), { recursive: true });
  const goEnv = { ...env, GOFLAGS: "-mod=mod", GOSUMDB: env.GOSUMDB ?? "off", GOTOOLCHAIN: "local", GOWORK: "off" };

  const cilium = moduleDir(mods.cilium, goEnv);
  copyTree(path.join(cilium, "install", "kubernetes", "cilium"), path.join(work, "cilium"));
  // The CRDs Cilium's operator registers at start (not in the chart): for tests whose nodes run
  // no operator (kwok), never applied by the program.
  copyTree(path.join(cilium, "pkg", "k8s", "apis", "cilium.io", "client", "crds"), path.join(work, "cilium-operator-crds"));

  const rook = path.join(moduleDir(mods.rook, goEnv), "deploy", "charts");
  for (const chart of ["rook-ceph", "rook-ceph-cluster"]) {
    const to = path.join(work, chart);
    copyTree(path.join(rook, chart), to);
    // The file://../library dependency, where Helm looks for it: the chart's charts/ folder.
    copyTree(path.join(rook, "library"), path.join(to, "charts", "library"));
    const chartFile = path.join(to, "Chart.yaml");
    const meta = parse(fs.readFileSync(chartFile, "utf8"));
    meta.dependencies = (meta.dependencies ?? []).filter((d) => d.name === "library");
    fs.writeFileSync(chartFile, stringify(meta));
    fs.rmSync(path.join(to, "Chart.lock"), { force: true });
  }

  const gatewayApi = moduleDir(mods.gatewayApi, goEnv);
  for (const channel of ["standard", "experimental"]) {
    const crdDir = path.join(gatewayApi, "config", "crd", channel);
    const files = fs.readdirSync(crdDir).filter((f) => f.startsWith("gateway") && f.endsWith(".yaml")).sort();
    const text = files.map((f) => `---\n# config/crd/${channel}/${f}\n${fs.readFileSync(path.join(crdDir, f), "utf8")}`).join("");
    fs.writeFileSync(path.join(work, "manifests", `${channel}-install.yaml`), text);
  }

  const promDir = path.join(moduleDir(mods.prometheusOperator, goEnv), "example", "prometheus-operator-crd");
  const crds = fs.readdirSync(promDir).filter((f) => f.endsWith(".yaml")).sort().flatMap((f) =>
    parseAllDocuments(fs.readFileSync(path.join(promDir, f), "utf8")).map((d) => d.toJS()).filter(Boolean).map((d) => `---\n${stringify(stripDescriptions(d))}`));
  fs.writeFileSync(path.join(work, "manifests", path.basename(new URL(pins.addons.prometheusOperatorCrds.url).pathname)), crds.join(""));

  const contour = moduleDir(mods.contour, goEnv);
  const tagPrefix = `/projectcontour/contour/${pins.addons.contourGatewayProvisioner.version}/`;
  for (const url of pins.addons.contourGatewayProvisioner.files) {
    const rel = new URL(url).pathname.slice(tagPrefix.length);
    fs.copyFileSync(path.join(contour, rel), path.join(work, "manifests", path.basename(rel)));
  }

  fs.writeFileSync(path.join(work, ".pins.json"), stamp);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(work, dir);
  return `filled from ${Object.values(mods).join(", ")}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(process.argv[2] ?? path.join(here, "..", ".tools", "charts"));
  console.log(`chart source ${dir}: ${fillChartSource(dir)}`);
}
