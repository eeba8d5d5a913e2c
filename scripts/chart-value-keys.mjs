// Lists the values key paths a Helm chart defines, for components/addons/chart-value-keys.json.
// Run by hand when a chart pin moves, on a copy of the chart's source at the pinned tag (e.g.
// `git -C <linkerd2 clone> archive <tag> charts/linkerd-control-plane charts/partials | tar -x`):
//
//   node scripts/chart-value-keys.mjs <chart dir> [<more template dirs>...] [--crd <crds.yaml> <Kind> <values key>]
//
// Paths come from three places:
// - values.yaml and the chart's other values files (linkerd-control-plane's values-ha.yaml): every key, nested keys joined with "."; a key whose default is {} or null is
//   free-form (e.g. nodeSelector), written "<key>.**" as well; lists are leaves (set as a whole).
// - the templates: every `.Values.a.b` they read, which covers keys only commented in values.yaml
//   (linkerd-control-plane's `tolerations`).
// - --crd: a values key the chart hands to a custom resource's spec as-is (rook-ceph-cluster's
//   cephClusterSpec becomes the CephCluster spec): the CRD's openAPI properties below it, "*" for a
//   map's keys (additionalProperties), "**" below x-kubernetes-preserve-unknown-fields.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments, parse } from "yaml";

const args = process.argv.slice(2);
const crdAt = args.indexOf("--crd");
const dirs = crdAt === -1 ? args : args.slice(0, crdAt);
const crd = crdAt === -1 ? undefined : { file: args[crdAt + 1], kind: args[crdAt + 2], key: args[crdAt + 3] };
const paths = new Set();

function walkValues(value, prefix) {
  if (prefix) paths.add(prefix);
  if (value === null || (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0)) {
    if (prefix) paths.add(`${prefix}.**`);
    return;
  }
  if (typeof value !== "object" || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) walkValues(v, prefix ? `${prefix}.${k}` : k);
}

function templateFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return templateFiles(p);
    return /\.(ya?ml|tpl|txt)$/.test(name) ? [p] : [];
  });
}

function walkSchema(schema, prefix) {
  if (!schema || typeof schema !== "object") return;
  paths.add(prefix);
  if (schema["x-kubernetes-preserve-unknown-fields"]) paths.add(`${prefix}.**`);
  if (schema.properties) for (const [k, v] of Object.entries(schema.properties)) walkSchema(v, `${prefix}.${k}`);
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") walkSchema(schema.additionalProperties, `${prefix}.*`);
}

for (const dir of dirs) {
  for (const name of readdirSync(dir).filter((n) => /^values.*\.yaml$/.test(n))) {
    walkValues(parse(readFileSync(path.join(dir, name), "utf8")), "");
  }
  const templates = path.join(dir, "templates");
  for (const file of statSync(templates, { throwIfNoEntry: false }) ? templateFiles(templates) : []) {
    for (const m of readFileSync(file, "utf8").matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) paths.add(m[1].slice(1));
  }
}
if (crd) {
  for (const doc of parseAllDocuments(readFileSync(crd.file, "utf8").replace(/^\{\{.*\}\}$/gm, ""))) {
    const obj = doc.toJS();
    if (obj?.kind !== "CustomResourceDefinition" || obj.spec?.names?.kind !== crd.kind) continue;
    const version = obj.spec.versions.find((v) => v.storage) ?? obj.spec.versions[0];
    walkSchema(version.schema.openAPIV3Schema.properties.spec, crd.key);
  }
}
process.stdout.write(JSON.stringify([...paths].sort(), null, 0) + "\n");
