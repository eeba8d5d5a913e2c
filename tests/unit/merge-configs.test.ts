import assert from "node:assert/strict";
import YAML from "yaml";
import { mergeKubeconfig, mergeTalosconfig } from "../../ops/merge-configs";

const kubeconfig = (name: string, server: string) =>
  YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server } }],
    users: [{ name: `admin@${name}`, user: { token: name } }],
    contexts: [{ name: `admin@${name}`, context: { cluster: name, user: `admin@${name}` } }],
    "current-context": `admin@${name}`,
  });

describe("writing configs where talosctl and kubectl look", () => {
  it("adds a cluster to a kubeconfig without touching the others, and makes it current", () => {
    const merged = YAML.parse(mergeKubeconfig(kubeconfig("work", "https://work:6443"), kubeconfig("tales", "https://10.0.1.50:6443")));
    assert.deepEqual(merged.clusters.map((c: { name: string }) => c.name), ["work", "tales"]);
    assert.deepEqual(merged.users.map((c: { name: string }) => c.name), ["admin@work", "admin@tales"]);
    assert.equal(merged["current-context"], "admin@tales");
  });

  it("replaces the same cluster on a rebuild instead of adding a duplicate", () => {
    const once = mergeKubeconfig(kubeconfig("work", "https://work:6443"), kubeconfig("tales", "https://old:6443"));
    const merged = YAML.parse(mergeKubeconfig(once, kubeconfig("tales", "https://10.0.1.50:6443")));
    assert.deepEqual(merged.clusters, [
      { name: "work", cluster: { server: "https://work:6443" } },
      { name: "tales", cluster: { server: "https://10.0.1.50:6443" } },
    ]);
  });

  it("writes a fresh kubeconfig when there is none", () => {
    assert.deepEqual(YAML.parse(mergeKubeconfig(undefined, kubeconfig("tales", "https://x:6443"))), YAML.parse(kubeconfig("tales", "https://x:6443")));
  });

  it("merges talosconfig contexts and switches to the new one", () => {
    const existing = YAML.stringify({ context: "lab", contexts: { lab: { endpoints: ["10.9.9.9"] } } });
    const incoming = YAML.stringify({ context: "tales", contexts: { tales: { endpoints: ["10.0.1.50"], nodes: ["10.0.1.50", "10.0.1.100"] } } });
    assert.deepEqual(YAML.parse(mergeTalosconfig(existing, incoming)), {
      context: "tales",
      contexts: { lab: { endpoints: ["10.9.9.9"] }, tales: { endpoints: ["10.0.1.50"], nodes: ["10.0.1.50", "10.0.1.100"] } },
    });
  });
});
