// Node removal: the plan (order, quorum, names that move), the refusal a preview shows, and the
// membership step's script run by /bin/sh against stand-ins that keep etcd's members and the
// Kubernetes Node objects in files.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { previousMembers, removalRefusal } from "../../components/day2/removal-guard";
import { destroyScript, membersRecord, removalPlan, removalProblems, removalScript } from "../../components/day2/removal-plan";
import type { UpgradeNode } from "../../components/day2/upgrade-plan";

const cp = (i: number): UpgradeNode => ({ name: `cp-${i}`, address: `10.0.1.1${i}`, role: "controlplane" });
const w = (i: number): UpgradeNode => ({ name: `w-${i}`, address: `10.0.1.6${i}`, role: "worker" });
const GRACEFUL = { graceful: true, reset: true, reboot: false };

describe("node removal plan", () => {
  it("records members in config order", () => {
    assert.equal(membersRecord([cp(1), cp(2), w(1)]), "cluster members: cp-1=10.0.1.11=controlplane cp-2=10.0.1.12=controlplane w-1=10.0.1.61=worker");
  });

  it("removes workers first, then unreachable control planes, then the others", () => {
    const plan = removalPlan([cp(1), cp(2), cp(3), cp(4), cp(5), w(1), w(2)], [cp(1), cp(2), cp(3), w(1)], ["cp-5"]);
    assert.deepEqual(
      plan.map((r) => [r.node.name, r.unreachable]),
      [["w-2", false], ["cp-5", true], ["cp-4", false]],
    );
  });

  it("accepts removals etcd survives one at a time, joining control planes counted", () => {
    assert.deepEqual(removalProblems([cp(1), cp(2), cp(3), cp(4), cp(5)], [cp(1), cp(2), cp(3)], []), []);
    // 5 members, 2 of them dead: 3 answer, a quorum of 5; then 4 members, 3 answer
    assert.deepEqual(removalProblems([cp(1), cp(2), cp(3), cp(4), cp(5)], [cp(1), cp(2), cp(3)], ["cp-4", "cp-5"]), []);
    // the first control plane replaced: cp-4 joins before cp-1 leaves
    assert.deepEqual(removalProblems([cp(1), cp(2), cp(3)], [cp(4), cp(2), cp(3)], []), []);
  });

  it("refuses a removal without etcd quorum, a name that moves to another machine, and removing every control plane", () => {
    assert.deepEqual(removalProblems([cp(1), cp(2), cp(3)], [cp(1)], ["cp-2", "cp-3"]), [
      "removing control plane cp-2 would need etcd's quorum of 2 of its 3 members, but only 1 answer (cluster.removeUnreachable names cp-2, cp-3): bring enough of them back first, or rebuild the cluster from an etcd snapshot (cluster.recoverFrom)",
    ]);
    assert.deepEqual(removalProblems([cp(1), w(1)], [cp(1), { ...w(1), address: "10.0.1.99" }], []), [
      "node w-1 changes address from 10.0.1.61 to 10.0.1.99: a name stays with one machine (its hostname, Kubernetes Node and etcd member); give the new machine a new name, and remove w-1 from nodes in the same up",
    ]);
    assert.deepEqual(removalProblems([cp(1), w(1)], [w(1)], []), ["removing every control plane leaves no cluster: keep at least one in nodes"]);
  });

  it("the preview's refusal reads the stack's own nodes output; a first up has none", () => {
    const output = [
      { name: "cp-1", role: "controlplane", platform: "metal", address: "10.0.1.11", installDisk: "/dev/sda" },
      { name: "cp-2", role: "controlplane", platform: "metal", address: "10.0.1.12", installDisk: "/dev/sda" },
      { name: "cp-3", role: "controlplane", platform: "metal", address: "10.0.1.13", installDisk: "/dev/sda" },
    ];
    assert.deepEqual(previousMembers(output), [cp(1), cp(2), cp(3)]);
    assert.deepEqual(previousMembers(undefined), []);
    assert.equal(removalRefusal([], [cp(1)], []), undefined);
    assert.equal(
      removalRefusal(previousMembers(output), [cp(1)], ["cp-2", "cp-3"]),
      "the change of nodes cannot be made in one up:\n  - nodes: removing control plane cp-2 would need etcd's quorum of 2 of its 3 members, but only 1 answer (cluster.removeUnreachable names cp-2, cp-3): bring enough of them back first, or rebuild the cluster from an etcd snapshot (cluster.recoverFrom)",
    );
  });

  it("a destroy resets every machine, workers first, without a graceful leave; or none with onDestroy.reset false", () => {
    assert.deepEqual(destroyScript([cp(1), w(1)], GRACEFUL, "10m").split("\n").slice(-2), [
      "talosctl -n 10.0.1.61 reset --graceful=false --reboot=false --wait --timeout=10m",
      "talosctl -n 10.0.1.11 reset --graceful=false --reboot=false --wait --timeout=10m",
    ]);
    assert.equal(destroyScript([cp(1)], { ...GRACEFUL, reset: false }, "10m"), "echo 'cluster.onDestroy.reset is false: every machine keeps its installation'");
  });
});

describe("the membership step's script against talosctl/kubectl stand-ins", () => {
  let dir: string;
  // etcd's members as `talosctl etcd members` prints them through apid; Node objects one per line.
  const STAND_IN = `#!/bin/sh
tool="$(basename "$0")"
printf '%s\\n' "$tool $*" >> "$STANDIN_DIR/log"
if [ "$tool" = kubectl ]; then
  case "$1 $2" in
    "get node") grep -qx "$3" "$STANDIN_DIR/nodes" && echo "node/$3"; exit 0;;
    "delete node") grep -vx "$3" "$STANDIN_DIR/nodes" > "$STANDIN_DIR/n.tmp"; mv "$STANDIN_DIR/n.tmp" "$STANDIN_DIR/nodes"; exit 0;;
  esac
  echo "kubectl stand-in: not expected here: $*" >&2; exit 1
fi
if [ "$1 $2" = "version --client" ]; then printf 'Client:\\n\\tTalos v1.14.1\\n'; exit 0; fi
node="$2"; shift 2
leave() { grep -v " $1 " "$STANDIN_DIR/etcd" > "$STANDIN_DIR/e.tmp"; mv "$STANDIN_DIR/e.tmp" "$STANDIN_DIR/etcd"; }
name="$(cat "$STANDIN_DIR/$node.name" 2>/dev/null)"
case "$1 $2" in
  "etcd members") echo "NODE ID HOSTNAME PEER URLS CLIENT URLS LEARNER"; while read id host; do echo "cp-1 $id $host https://x:2380 https://x:2379 false"; done < "$STANDIN_DIR/etcd";;
  "etcd remove-member") host="$(awk -v id="$3" '$1 == id { print $2 }' "$STANDIN_DIR/etcd")"; leave "$host";;
  "etcd leave") leave "$name";;
  reset*) case "$*" in *--graceful=true*) leave "$name";; esac;;
  health*|shutdown*) ;;
  *) echo "talosctl stand-in: unknown command \"$1 $2\"" >&2; exit 1;;
esac
exit 0
`;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-removal-"));
    for (const tool of ["talosctl", "kubectl"]) fs.writeFileSync(path.join(dir, tool), STAND_IN, { mode: 0o755 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A cluster of these members (etcd: the control planes, Nodes: all), then the script with a previous record. */
  function run(script: string, cluster: UpgradeNode[], previous: string | undefined) {
    for (const f of fs.readdirSync(dir).filter((f) => f !== "talosctl" && f !== "kubectl")) fs.rmSync(path.join(dir, f));
    fs.writeFileSync(path.join(dir, "nodes"), cluster.map((n) => `${n.name}\n`).join(""));
    fs.writeFileSync(path.join(dir, "etcd"), cluster.filter((n) => n.role === "controlplane").map((n, i) => `${(0xa0 + i).toString(16)}00 ${n.name} \n`).join(""));
    for (const n of cluster) fs.writeFileSync(path.join(dir, `${n.address}.name`), n.name);
    const env: Record<string, string> = { PATH: `${dir}:/usr/bin:/bin`, STANDIN_DIR: dir, TALOS_CLUSTER_TALOSCONFIG: "t", TALOS_CLUSTER_KUBECONFIG: "k" };
    if (previous !== undefined) env.PULUMI_COMMAND_STDOUT = previous;
    const result = spawnSync("/bin/sh", ["-c", script], { env, encoding: "utf8" });
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean);
    return { status: result.status, stdout: result.stdout.trim().split("\n"), stderr: result.stderr.trim(), log: read("log"), nodes: read("nodes"), etcd: read("etcd").map((l) => l.split(" ")[1]) };
  }
  const client = "talosctl version --client --short";
  const all = [cp(1), cp(2), cp(3), w(1), w(2)];

  it("only records when its state holds no record, or no node left", () => {
    for (const previous of [undefined, membersRecord(all)]) {
      const r = run(removalScript(all, [], GRACEFUL, "10m", "v1.14.1"), all, previous);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.log, [client]);
      assert.equal(r.stdout.at(-1), membersRecord(all));
    }
  });

  it("takes a removed worker and control plane out, worker first: reset (Talos drains and leaves etcd), Node deleted, gate over those still there", () => {
    const now = [cp(1), cp(2), w(1)];
    const r = run(removalScript(now, [], GRACEFUL, "10m", "v1.14.1"), all, `…\n${membersRecord(all)}`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.log, [
      client,
      "kubectl get node w-2 --ignore-not-found -o name",
      "talosctl -n 10.0.1.62 reset --graceful=true --reboot=false --wait --timeout=10m",
      "kubectl delete node w-2 --ignore-not-found --timeout=10m",
      "talosctl -n 10.0.1.11 health --control-plane-nodes 10.0.1.11,10.0.1.12,10.0.1.13 --worker-nodes 10.0.1.61 --wait-timeout=10m",
      "kubectl get node cp-3 --ignore-not-found -o name",
      "talosctl -n 10.0.1.11 etcd members",
      "talosctl -n 10.0.1.13 reset --graceful=true --reboot=false --wait --timeout=10m",
      "kubectl delete node cp-3 --ignore-not-found --timeout=10m",
      "talosctl -n 10.0.1.11 health --control-plane-nodes 10.0.1.11,10.0.1.12 --worker-nodes 10.0.1.61 --wait-timeout=10m",
    ]);
    assert.deepEqual(r.nodes, ["cp-1", "cp-2", "w-1"]);
    assert.deepEqual(r.etcd, ["cp-1", "cp-2"]);
    assert.deepEqual(r.stdout, ["removing, in this order: w-2=10.0.1.62=worker cp-3=10.0.1.13=controlplane", "w-2 removed", "cp-3 removed", membersRecord(now)]);
  });

  it("removes a node named in cluster.removeUnreachable through a remaining control plane, never dialing it", () => {
    const now = [cp(1), cp(2), w(1), w(2)];
    const r = run(removalScript(now, ["cp-3"], GRACEFUL, "10m", "v1.14.1"), all, membersRecord(all));
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.log.some((l) => l.includes("10.0.1.13")), r.log.join("\n"));
    assert.deepEqual(r.log.slice(1), [
      "kubectl get node cp-3 --ignore-not-found -o name",
      "talosctl -n 10.0.1.11 etcd members",
      "talosctl -n 10.0.1.11 etcd members",
      "talosctl -n 10.0.1.11 etcd remove-member a200",
      "kubectl delete node cp-3 --ignore-not-found --timeout=10m",
      "talosctl -n 10.0.1.11 health --control-plane-nodes 10.0.1.11,10.0.1.12 --worker-nodes 10.0.1.61,10.0.1.62 --wait-timeout=10m",
    ]);
    assert.deepEqual(r.etcd, ["cp-1", "cp-2"]);
    assert.deepEqual(r.nodes, ["cp-1", "cp-2", "w-1", "w-2"]);
  });

  it("a rerun after a failed gate finds the node gone already and only gates", () => {
    const now = [cp(1), cp(2), cp(3), w(1)];
    const r = run(removalScript(now, [], GRACEFUL, "10m", "v1.14.1"), now, membersRecord(all));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.log.slice(1), ["kubectl get node w-2 --ignore-not-found -o name", "kubectl delete node w-2 --ignore-not-found --timeout=10m", "talosctl -n 10.0.1.11 health --control-plane-nodes 10.0.1.11,10.0.1.12,10.0.1.13 --worker-nodes 10.0.1.61 --wait-timeout=10m"]);
    assert.equal(r.stdout[1], "w-2 is neither a Kubernetes node nor an etcd member any more: already removed");
  });

  it("refuses, before touching anything, a removal etcd's quorum cannot carry", () => {
    const r = run(removalScript([cp(1), w(1), w(2)], ["cp-2", "cp-3"], GRACEFUL, "10m", "v1.14.1"), all, membersRecord(all));
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "removing control plane cp-2 needs etcd's quorum of 2 of its 3 members, but only 1 answer: bring enough of the nodes in cluster.removeUnreachable back first, or rebuild the cluster from an etcd snapshot (cluster.recoverFrom); nothing was removed");
    assert.deepEqual(r.log, [client]);
  });

  it("with onDestroy.reset false a control plane leaves etcd, then shuts down with its installation kept", () => {
    const now = [cp(1), cp(2), w(1), w(2)];
    const r = run(removalScript(now, [], { graceful: true, reset: false, reboot: false }, "10m", "v1.14.1"), all, membersRecord(all));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.log.slice(3, 5), ["talosctl -n 10.0.1.13 etcd leave", "talosctl -n 10.0.1.13 shutdown --wait --timeout=10m"]);
    assert.deepEqual(r.etcd, ["cp-1", "cp-2"]);
  });
});
