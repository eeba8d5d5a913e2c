#!/usr/bin/env node
// A `talosctl` stand-in for the engine tests: simulated Talos nodes, a REAL Kubernetes API.
//
// Only what needs a Talos node is simulated (its version, schematic, machine config, kernel
// cmdline, reachability, the cluster's etcd member list), in a JSON state dir. Everything on the
// Kubernetes side (cordon, drain, Node readiness, kubelet versions, the bootstrap-token Secret) is
// done against the real API server with the real kubectl and the control plane's admin kubeconfig.
//
// Environment:
//   TALOS_STAND_IN_STATE       state dir: state.json (see tests/support/talos-nodes.ts) and calls.log
//   TALOS_STAND_IN_KUBECONFIG  admin kubeconfig of the real control plane
//   TALOS_STAND_IN_KUBECTL     kubectl binary (default: kubectl on PATH)
//   TALOS_STAND_IN_CLIENT      client version it reports (default v1.14.1, the talosctl setup builds)
//   TALOSCONFIG / --talosconfig  must exist and be mode 600 (as the project's scripts provide it)
//
// Behaviour and where it comes from (github.com/siderolabs/talos at tag v1.13.0 unless noted;
// /work/notes/talos-facts.md has the line numbers):
// - Flags and subcommands: cmd/talosctl/cmd/talos/{root,upgrade,reboot,apply-config,health,etcd,
//   reset,version,upgrade-k8s,get,read}.go; cobra-style "unknown flag"/"unknown command" errors;
//   errors go to stderr, exit 1 (cmd/talosctl/cmd/root.go Execute, main.go).
// - Per-node errors through the endpoint's apid proxy are a multierror of "<node>: <err>"
//   (pkg/machinery/client/reply.go filterMessages, NodeError); an unreachable node is gRPC
//   Unavailable "dial tcp <addr>:50000"; a node in maintenance mode presents a certificate the
//   talosconfig CA does not sign (maintenance service, internal/app/machined/pkg/system/services/…).
// - version: client "Talos v1.13.0" (pkg/machinery/version/version.go Short), servers always in the
//   long form (version.go printLong) even with --short.
// - get extensions: columns NODE NAMESPACE TYPE ID VERSION NAME VERSION
//   (pkg/machinery/resources/runtime/extension_status.go, cmd/talosctl/cmd/talos/output/table.go);
//   Image Factory installers carry the virtual extension "schematic" versioned by the schematic ID
//   (siderolabs/image-factory internal/artifacts/schematic.go, pkg/constants/constants.go).
// - upgrade: node < 1.13 ⇒ legacy MachineService.Upgrade (upgrade.go upgradeLegacy): on a control
//   plane without --force the etcd checks of internal/pkg/etcd/etcd.go ValidateForUpgrade; the
//   Upgrade sequence cordons the Node with the talos.dev/cordoned annotation (controllers/k8s
//   node_cordoned_spec.go, node_apply.go ApplyCordoned) and drains (v1alpha1_sequencer_tasks.go
//   CordonAndDrainNode); the installer gets the ACTIVE config's machine.install.extraKernelArgs
//   (internal/pkg/install/install.go OptionsFromUpgradeRequest); after boot the Node is uncordoned
//   only if it carries talos.dev/cordoned. Node ≥ 1.13 ⇒ LifecycleService path (upgrade.go
//   upgradeViaLifecycleService): install (no extraKernelArgs, internal/app/lifecycle/lifecycle.go),
//   then talosctl cordons+drains itself (cmd/talosctl/pkg/talos/nodedrain), reboots, waits for Ready
//   and uncordons unconditionally (cmd/talosctl/cmd/talos/drain.go uncordonNodes).
//   The target installer's preflight refuses hosts below MinimumHostUpgradeVersion
//   (pkg/machinery/compatibility/talos_version.go UpgradeableFrom, cmd/installer/pkg/install/preflight.go).
//   Approximation: on the legacy path the stand-in checks that gate before draining (upstream runs
//   the installer after the drain phase).
// - Kernel cmdline after install (cmd/installer/pkg/install/install.go, pkg/machinery/kernel/kernel.go,
//   bootloader/{grub/install.go,sdboot/sdboot.go}): systemd-boot, or GRUB with
//   machine.install.grubUseUKICmdline: the UKI's cmdline = the schematic's extraKernelArgs (state
//   "schematics"); legacy GRUB: talos.platform + platform args + default args + extra args.
// - A reboot (upgrade, reboot, apply-config --mode=reboot/auto needing one) activates the staged
//   config; kexec unless --reboot-mode/--mode powercycle (v1alpha1_sequencer.go Upgrade/Reboot); the
//   Node goes NotReady (its kubelet stops) and kwok makes it Ready again. reboot --drain is the
//   client-side drain (reboot.go); a plain reboot does not cordon (Rebooting is not a cordon stage).
// - apply-config: internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go
//   ApplyConfiguration and v1alpha1_runtime.go CanApplyImmediate (the fields that may change
//   without a reboot, the exact refusal text "this config change can't be applied in immediate
//   mode"); mode details on stderr (cmd/talosctl/pkg/talos/helpers/mode.go). The diff after the
//   refusal text is the stand-in's own line diff.
// - health: pkg/cluster/check/default.go, kubernetes.go, etcd.go, pkg/cluster/cluster.go NodesMatch,
//   the server-side reporter (v1alpha1_cluster.go) and the timeout error. Evaluated: etcd healthy on
//   every given control plane, etcd members ⊆ control planes, apid reachable on every node, k8s
//   nodes match (InternalIP/ExternalIP), all Ready, all schedulable. Not evaluated (no Talos
//   static pods, kube-proxy or CoreDNS here): the static pod, component, kube-proxy, CoreDNS checks.
// - etcd members/leave/remove-member/forfeit-leadership: cmd/talosctl/cmd/talos/etcd.go
//   (remove-member takes a hex member ID, pkg/machinery/resources/etcd/etcd.go ParseMemberID).
// - reset: reset.go flags; v1alpha1_sequencer.go Reset: graceful ⇒ Talos-marked cordon + drain,
//   a control plane leaves etcd; the system disk is wiped (all of it, or the labels given): STATE
//   wiped ⇒ maintenance mode. The Kubernetes Node object is never deleted.
// - upgrade-k8s: pkg/cluster/kubernetes/talos_managed.go and kubelet.go (kubelet image patched into
//   every node's config, control plane images on control planes, the upgrade path check of
//   siderolabs/go-kubernetes v0.2.36 kubernetes/upgrade/path.go), manifest sync with unmasked diffs
//   (go-kubernetes kubernetes/manifests/{cli,sync}.go for Talos < 1.13, kubernetes/ssa for ≥ 1.13)
//   of the bootstrap-token Secret (controllers/k8s/internal/k8stemplates/kubelet.go).
// - Failure injection (test-only): state.failures [{match, node?, times, phase, message?}].
// - Every call's argv is appended as a JSON line to <state>/calls.log.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * The yaml package, loaded on first use (≈ 0.1 s of CPU per call): `version --client`, the tool
 * check at the top of every day-2 script and the most frequent call of the day-2 engine test,
 * reads no YAML.
 */
let yamlPackage;
const YAML = () => (yamlPackage ??= createRequire(import.meta.url)("yaml"));

// The client version `version --client` reports: the talosctl setup builds, or TALOS_STAND_IN_CLIENT.
const CLIENT_TAG = process.env.TALOS_STAND_IN_CLIENT || "v1.14.1";
const POLL_MS = 250;
const CORDONED_ANNOTATION = "talos.dev/cordoned";
/** What kwok's node stage reads the kubelet version from (tests/support/kwok-stages.ts). */
const KUBELET_VERSION_ANNOTATION = "talos-cluster.test/kubelet-version";
/** The annotation kwok manages Nodes by (tests/support/kwok-stages.ts): off while a node has no kubelet. */
const KWOK_MANAGED_ANNOTATION = "kwok.x-k8s.io/node";
/** pkg/machinery/kernel/kernel.go DefaultArgs with the quirks of a current version. */
const DEFAULT_KERNEL_ARGS = ["init_on_alloc=1", "slab_nomerge=", "pti=on", "consoleblank=0", "nvme_core.io_timeout=4294967295",
  "printk.devkmsg=on", "selinux=1", "module.sig_enforce=1", "proc_mem.force_override=never"];
/** MinimumHostUpgradeVersion per target minor (pkg/machinery/compatibility/talos1xx, talos114 from v1.14.0-rc.1). */
const MIN_HOST = { "1.10": "1.8.0", "1.11": "1.9.0", "1.12": "1.10.0", "1.13": "1.11.0", "1.14": "1.12.0" };
/** MaximumHostDowngradeVersion (exclusive) per target minor. */
const MAX_HOST = { "1.10": "1.12.0", "1.11": "1.13.0", "1.12": "1.14.0", "1.13": "1.15.0", "1.14": "1.16.0" };
/** go-kubernetes v0.2.36 upgrade.Path.IsSupported: same minor or the next one, 1.19 to 1.36. */
const K8S_MAX_TO_MINOR = 36;

class CliError extends Error {}

// ---------------------------------------------------------------- state

const stateDir = process.env.TALOS_STAND_IN_STATE;
const statePath = () => path.join(stateDir, "state.json");
const loadState = () => JSON.parse(fs.readFileSync(statePath(), "utf8"));
function saveState(state) {
  const tmp = `${statePath()}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2));
  fs.renameSync(tmp, statePath());
}

// ---------------------------------------------------------------- flags

const GLOBAL_FLAGS = {
  talosconfig: { type: "string" }, nodes: { type: "list", short: "n" }, endpoints: { type: "list", short: "e" },
  context: { type: "string" }, cluster: { type: "string" },
};
const TRACK = { wait: { type: "bool", def: true }, debug: { type: "bool" }, timeout: { type: "duration", def: "30m" } };
const COMMANDS = {
  version: { flags: { short: { type: "bool" }, client: { type: "bool" }, insecure: { type: "bool", short: "i" }, json: { type: "bool" } }, args: [0, 0] },
  get: { flags: { output: { type: "string", short: "o", def: "table" }, namespace: { type: "string" }, watch: { type: "bool", short: "w" }, insecure: { type: "bool", short: "i" } }, args: [1, 2] },
  read: { flags: {}, args: [1, 1] },
  upgrade: {
    flags: { ...TRACK, image: { type: "string", short: "i" }, "reboot-mode": { type: "enum", short: "m", values: ["default", "powercycle", "force"], def: "default" },
      drain: { type: "bool", def: true }, "drain-timeout": { type: "duration", def: "5m" }, progress: { type: "string" }, namespace: { type: "string" },
      legacy: { type: "bool" }, force: { type: "bool", short: "f" }, insecure: { type: "bool" }, preserve: { type: "bool", short: "p" }, stage: { type: "bool", short: "s" } },
    args: [0, 0],
  },
  "apply-config": {
    flags: { file: { type: "string", short: "f" }, mode: { type: "enum", short: "m", values: ["auto", "no-reboot", "reboot", "staged", "try"], def: "auto" },
      "dry-run": { type: "bool" }, insecure: { type: "bool", short: "i" }, "config-patch": { type: "list", short: "p" }, timeout: { type: "duration", def: "1m" },
      "cert-fingerprint": { type: "list" } },
    args: [0, 1],
  },
  reboot: {
    flags: { ...TRACK, mode: { type: "enum", short: "m", values: ["default", "powercycle", "force"], def: "default" }, drain: { type: "bool" },
      "drain-timeout": { type: "duration", def: "5m" }, progress: { type: "string" } },
    args: [0, 0],
  },
  health: {
    flags: { "init-node": { type: "string" }, "control-plane-nodes": { type: "list" }, "worker-nodes": { type: "list" }, "wait-timeout": { type: "duration", def: "20m" },
      "k8s-endpoint": { type: "string" }, server: { type: "bool", def: true }, "run-e2e": { type: "bool" } },
    args: [0, 0],
  },
  etcd: { sub: { members: { flags: {}, args: [0, 0] }, leave: { flags: {}, args: [0, 0] }, "remove-member": { flags: {}, args: [1, 1] }, "forfeit-leadership": { flags: {}, args: [0, 0] } } },
  reset: {
    flags: { ...TRACK, graceful: { type: "bool", def: true }, reboot: { type: "bool" }, insecure: { type: "bool" }, "wipe-mode": { type: "enum", values: ["all", "system-disk", "user-disks"], def: "all" },
      "user-disks-to-wipe": { type: "list" }, "system-labels-to-wipe": { type: "list" } },
    args: [0, 0],
  },
  "upgrade-k8s": {
    flags: { from: { type: "string" }, to: { type: "string", def: "1.36.0" }, endpoint: { type: "string" }, "with-examples": { type: "bool", def: true }, "with-docs": { type: "bool", def: true },
      "pre-pull-images": { type: "bool", def: true }, "upgrade-kubelet": { type: "bool", def: true }, "dry-run": { type: "bool" },
      "kubelet-image": { type: "string", def: "ghcr.io/siderolabs/kubelet" }, "apiserver-image": { type: "string", def: "registry.k8s.io/kube-apiserver" },
      "controller-manager-image": { type: "string", def: "registry.k8s.io/kube-controller-manager" }, "scheduler-image": { type: "string", def: "registry.k8s.io/kube-scheduler" },
      "proxy-image": { type: "string", def: "registry.k8s.io/kube-proxy" }, "manifests-force": { type: "bool" }, "manifests-no-prune": { type: "bool" },
      "manifests-inventory-policy": { type: "string" }, "manifests-reconcile-timeout": { type: "duration", def: "5m" } },
    args: [0, 0],
  },
};

/** Go time.ParseDuration for the units the scripts use; milliseconds. */
export function parseDuration(text) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h))+$/.test(text)) throw new CliError(`time: invalid duration "${text}"`);
  let ms = 0;
  for (const [, n, unit] of text.matchAll(re)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
  return ms;
}

/** pflag-style parsing of argv against the global flags and the command's. */
export function parseArgs(argv) {
  const words = [];
  const values = {};
  let spec = { ...GLOBAL_FLAGS };
  let command;
  const set = (name, def, raw) => {
    if (def.type === "bool") values[name] = raw === undefined ? true : parseBool(name, raw);
    else if (def.type === "list") values[name] = [...(values[name] ?? []), ...raw.split(",").filter(Boolean)];
    else if (def.type === "duration") { parseDuration(raw); values[name] = raw; }
    else if (def.type === "enum") {
      if (!def.values.includes(raw.toLowerCase())) throw new CliError(`invalid argument "${raw}" for "--${name}" flag: possible options are: ${def.values.join(", ")}`);
      values[name] = raw.toLowerCase();
    } else values[name] = raw;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { words.push(...argv.slice(i + 1)); break; }
    if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
      const def = spec[name];
      if (!def) throw new CliError(`unknown flag: --${name}`);
      if (def.type === "bool") set(name, def, inline);
      else {
        const raw = inline ?? argv[++i];
        if (raw === undefined) throw new CliError(`flag needs an argument: --${name}`);
        set(name, def, raw);
      }
    } else if (a.startsWith("-") && a.length > 1) {
      const letter = a[1];
      const name = Object.keys(spec).find((k) => spec[k].short === letter);
      if (!name) throw new CliError(`unknown shorthand flag: '${letter}' in ${a}`);
      const def = spec[name];
      const rest = a.slice(2).replace(/^=/, "");
      if (def.type === "bool") set(name, def, rest || undefined);
      else {
        const raw = rest || argv[++i];
        if (raw === undefined) throw new CliError(`flag needs an argument: '${letter}' in -${letter}`);
        set(name, def, raw);
      }
    } else {
      words.push(a);
      if (!command) {
        const top = COMMANDS[a];
        if (!top) throw new CliError(`unknown command "${a}" for "talosctl"`);
        command = [a];
        if (top.flags) spec = { ...spec, ...top.flags };
      } else if (command.length === 1 && COMMANDS[command[0]].sub) {
        const sub = COMMANDS[command[0]].sub[a];
        if (!sub) throw new CliError(`unknown command "${a}" for "talosctl ${command[0]}"`);
        command.push(a);
        spec = { ...spec, ...sub.flags };
      }
    }
  }
  if (!command) throw new CliError("talosctl stand-in: no command given");
  const def = command.length === 2 ? COMMANDS[command[0]].sub[command[1]] : COMMANDS[command[0]];
  if (!def.args) throw new CliError(`talosctl ${command[0]}: a subcommand is required`);
  const args = words.slice(command.length);
  const [min, max] = def.args;
  if (args.length < min || args.length > max) {
    throw new CliError(min === max ? `accepts ${min} arg(s), received ${args.length}` : `accepts between ${min} and ${max} arg(s), received ${args.length}`);
  }
  for (const [name, d] of Object.entries(spec)) if (values[name] === undefined && d.def !== undefined) values[name] = d.def;
  return { command: command.join(" "), args, flags: values };
}

function parseBool(name, raw) {
  if (["true", "1", "t", "T", "TRUE", "True"].includes(raw)) return true;
  if (["false", "0", "f", "F", "FALSE", "False"].includes(raw)) return false;
  throw new CliError(`invalid argument "${raw}" for "--${name}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`);
}

// ---------------------------------------------------------------- talosconfig and targets

function loadTalosconfig(flags) {
  const file = flags.talosconfig ?? process.env.TALOSCONFIG;
  if (!file) throw new CliError("talosctl stand-in: no talosconfig (TALOSCONFIG or --talosconfig)");
  let st;
  try {
    st = fs.statSync(file);
  } catch {
    throw new CliError(`failed to open config file "${file}": open ${file}: no such file or directory`);
  }
  if ((st.mode & 0o777) !== 0o600) throw new CliError(`talosctl stand-in: talosconfig ${file} is mode ${(st.mode & 0o777).toString(8)}, not 600`);
  const doc = YAML().parse(fs.readFileSync(file, "utf8")) ?? {};
  const name = flags.context ?? doc.context;
  const ctx = doc.contexts?.[name];
  if (!ctx) throw new CliError(`context "${name}" is not defined`);
  return ctx;
}

const connError = (addr) => `rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp ${addr}:50000: connect: connection refused"`;
const tlsError = () => 'rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"';
/** hashicorp/go-multierror's format, as the client's filterMessages returns it. */
const multiError = (errs) => `${errs.length} error${errs.length === 1 ? "" : "s"} occurred:\n${errs.map((e) => `\t* ${e}`).join("\n")}\n\n`;

/** Resolves endpoint and nodes the way talosctl does (flags over the talosconfig context). */
function targets(state, flags, { insecure = false } = {}) {
  const ctx = insecure ? {} : loadTalosconfig(flags);
  const endpoints = flags.endpoints?.length ? flags.endpoints : ctx.endpoints ?? [];
  const nodes = flags.nodes?.length ? flags.nodes : ctx.nodes ?? [];
  if (!endpoints.length && !nodes.length) throw new CliError("failed to determine endpoints");
  const endpoint = endpoints.find((e) => nodeUsable(state, e, insecure)) ?? endpoints[0] ?? nodes[0];
  const endpointNode = state.nodes[endpoint];
  if (!endpointNode || !endpointNode.reachable) throw new CliError(connError(endpoint));
  if (endpointNode.maintenance && !insecure) throw new CliError(tlsError());
  return { endpoint, nodes: nodes.length ? nodes : [endpoint], proxied: nodes.length > 0 };
}
const nodeUsable = (state, addr, insecure) => Boolean(state.nodes[addr]?.reachable && (insecure || !state.nodes[addr].maintenance));

/** Runs fn per node; node errors come back as the client's multierror. */
function perNode(state, t, fn) {
  const errs = [];
  const results = [];
  for (const addr of t.nodes) {
    const node = state.nodes[addr];
    try {
      if (!node || !node.reachable) throw new CliError(connError(addr));
      if (node.maintenance) throw new CliError(tlsError());
      results.push(fn(node, addr));
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      if (!t.proxied) throw e;
      errs.push(`${addr}: ${e.message}`);
    }
  }
  if (errs.length) throw new CliError(multiError(errs));
  return results;
}

// ---------------------------------------------------------------- helpers

function semver(tag) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/.exec(tag ?? "");
  if (!m) return undefined;
  return { major: +m[1], minor: +m[2], patch: +m[3], pre: m[4] ?? "" };
}
const cmpCore = (a, b) => a.major - b.major || a.minor - b.minor || a.patch - b.patch;

/** Go's text/tabwriter with padding 3: every tab-terminated cell padded to its column's width. */
function tabwrite(rows) {
  const widths = [];
  for (const r of rows) r.slice(0, -1).forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, String(c).length + 3); });
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? String(c).padEnd(widths[i]) : String(c))).join("")).join("\n") + "\n";
}

function kubectl(args, input) {
  const kubeconfig = process.env.TALOS_STAND_IN_KUBECONFIG;
  if (!kubeconfig) throw new Error("talosctl stand-in: TALOS_STAND_IN_KUBECONFIG is not set");
  return execFileSync(process.env.TALOS_STAND_IN_KUBECTL || "kubectl", ["--kubeconfig", kubeconfig, ...args], {
    input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"],
  });
}
const getNode = (name) => JSON.parse(kubectl(["get", "node", name, "-o", "json"]));
const listNodes = () => JSON.parse(kubectl(["get", "nodes", "-o", "json"])).items;
const isReady = (n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls until check() is truthy or the deadline passes; returns whether it passed. */
function pollUntil(deadline, check) {
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    sleep(POLL_MS);
  }
}

function configDoc(text) {
  const docs = YAML().parseAllDocuments(text);
  for (const d of docs) if (d.errors.length) throw new CliError(`rpc error: code = InvalidArgument desc = ${d.errors[0].message}`);
  const objs = docs.map((d) => d.toJS()).filter(Boolean);
  return { v1alpha1: objs.find((o) => o.version === "v1alpha1" && (o.machine || o.cluster)), all: objs };
}
const deepEqual = (a, b) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

/** Our own minimal line diff (upstream uses configdiff's unified diff). */
function lineDiff(a, b) {
  const la = a.split("\n");
  const lb = b.split("\n");
  const inB = new Set(lb);
  const inA = new Set(la);
  return ["--- a", "+++ b", ...la.filter((l) => !inB.has(l)).map((l) => `-${l}`), ...lb.filter((l) => !inA.has(l)).map((l) => `+${l}`)].join("\n");
}

// ---------------------------------------------------------------- node lifecycle

/** v1alpha1_runtime.go CanApplyImmediate: the fields copied over before comparing. */
export function canApplyImmediate(currentText, newText) {
  const cur = configDoc(currentText).v1alpha1;
  const next = structuredClone(configDoc(newText).v1alpha1);
  if (!cur) return "current config is not v1alpha1";
  if (!next) return "new config is not v1alpha1";
  next.debug = cur.debug;
  next.cluster = cur.cluster;
  if (next.machine && cur.machine) {
    for (const k of ["ca", "acceptedCAs", "time", "certSANs", "install", "network", "sysfs", "sysctls", "logging", "controlPlane", "kubelet", "kernel",
      "registries", "pods", "seccompProfiles", "nodeAnnotations", "nodeLabels", "nodeTaints"]) next.machine[k] = cur.machine[k];
    if (next.machine.features && cur.machine.features) {
      for (const k of ["kubernetesTalosAPIAccess", "kubePrism", "hostDNS", "imageCache", "nodeAddressSortAlgorithm"]) next.machine.features[k] = cur.machine.features[k];
    }
  }
  const strip = (o) => JSON.parse(JSON.stringify(o));
  if (deepEqual(strip(cur), strip(next))) return undefined;
  return `this config change can't be applied in immediate mode\ndiff:\n${lineDiff(YAML().stringify(sortKeys(strip(cur))), YAML().stringify(sortKeys(strip(next))))}`;
}

/** The cmdline the installer leaves (see header). */
export function installedCmdline(node, { version, schematic, extraKernelArgs }, schematics) {
  const install = configDoc(node.config).v1alpha1?.machine?.install ?? {};
  const useUki = node.bootloader === "sdboot" || install.grubUseUKICmdline === true;
  const platform = node.platform ?? "metal";
  const base = [`talos.platform=${platform}`, ...(platform === "metal" ? ["console=tty0"] : []), ...DEFAULT_KERNEL_ARGS];
  const extra = useUki ? (schematics?.[schematic]?.extraKernelArgs ?? []) : extraKernelArgs;
  void version;
  return appendArgs(base, extra).join(" ");
}

/** procfs AppendAll with console/talos.platform overwritten and "-key" deleting (install.go). */
function appendArgs(base, extra) {
  let out = [...base];
  const key = (a) => a.split("=")[0];
  for (const a of extra) {
    if (a.startsWith("-")) { out = out.filter((b) => key(b) !== a.slice(1)); continue; }
    if (["console", "talos.platform"].includes(key(a))) out = out.filter((b) => key(b) !== key(a));
    out.push(a);
  }
  return out;
}

/** Simulates the boot: staged config becomes active, the kubelet goes away and comes back. */
function reboot(state, node, kind, reason, timeoutMs) {
  if (node.staged) { node.config = node.staged; node.staged = null; }
  node.boots = [...(node.boots ?? []), { kind, reason }];
  saveState(state);
  if (node.maintenance) return;
  // The kubelet stops with the node: Ready goes False until kwok (the test's kubelet) renews it.
  kubectl(["patch", "node", node.name, "--subresource=status", "--type=strategic", "-p",
    JSON.stringify({ status: { conditions: [{ type: "Ready", status: "False", reason: "KubeletNotReady", message: "talosctl stand-in: node rebooting" }] } })]);
  const ok = pollUntil(Date.now() + timeoutMs, () => isReady(getNode(node.name)));
  if (!ok) throw new CliError(`error waiting for node "${node.name}" to become Ready: context deadline exceeded`);
  // node_apply.go ApplyCordoned on Booting/Running: uncordon only what Talos cordoned.
  const k = getNode(node.name);
  if (k.spec?.unschedulable && k.metadata?.annotations?.[CORDONED_ANNOTATION]) {
    kubectl(["patch", "node", node.name, "--type=merge", "-p", JSON.stringify({ spec: { unschedulable: false }, metadata: { annotations: { [CORDONED_ANNOTATION]: null } } })]);
  }
}

/** A node leaving maintenance mode boots its new config: its kubelet (kwok) manages the Node again. */
function rejoin(state, node) {
  node.maintenance = false;
  node.reachable = true;
  saveState(state);
  kubectl(["annotate", "node", node.name, "--overwrite", `${KWOK_MANAGED_ANNOTATION}=fake`]);
  if (!pollUntil(Date.now() + 60_000, () => isReady(getNode(node.name)))) throw new CliError(`error waiting for node "${node.name}" to become Ready: context deadline exceeded`);
}

/** Server-side cordon by Talos's controller (stage Upgrading/Resetting/ShuttingDown), then drain. */
function talosCordonAndDrain(node, timeoutMs) {
  const k = getNode(node.name);
  if (!k.spec?.unschedulable) {
    kubectl(["patch", "node", node.name, "--type=merge", "-p", JSON.stringify({ spec: { unschedulable: true }, metadata: { annotations: { [CORDONED_ANNOTATION]: "true" } } })]);
  }
  drain(node, timeoutMs);
}

function drain(node, timeoutMs) {
  try {
    kubectl(["drain", node.name, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--grace-period=-1", `--timeout=${Math.ceil(timeoutMs / 1000)}s`]);
  } catch (e) {
    throw new CliError(`error draining node "${node.name}": ${String(e.stderr ?? e.message).trim()}`);
  }
}

function upgradeGate(host, target) {
  const t = semver(target);
  const h = semver(host);
  const key = `${t.major}.${t.minor}`;
  if (!MIN_HOST[key]) return `upgrades to version ${target.replace(/^v/, "")} are not supported`;
  if (cmpCore(h, semver(MIN_HOST[key])) < 0) return `host version ${host.replace(/^v/, "")} is too old to upgrade to Talos ${target.replace(/^v/, "")}`;
  if (cmpCore(h, semver(MAX_HOST[key])) >= 0) return `host version ${host.replace(/^v/, "")} is too new to downgrade to Talos ${target.replace(/^v/, "")}`;
  return undefined;
}

/** `<registry>/<path>:<tag>`; a factory installer path is installer[-secureboot]/<schematic>. */
export function parseInstaller(image) {
  const m = /^(.+?)\/(.+):([^:/@]+)$/.exec(image ?? "");
  if (!m) throw new CliError(`rpc error: code = InvalidArgument desc = installer image name is required`);
  const factory = /^installer(?:-secureboot)?\/([0-9a-f]{64}|[0-9a-z]+)$/.exec(m[2]);
  return { version: m[3], schematic: factory ? factory[1] : null };
}

const etcdMembers = (state) => state.etcd?.members ?? [];

// ---------------------------------------------------------------- commands

const out = (s) => process.stdout.write(s);
const err = (s) => process.stderr.write(s.endsWith("\n") ? s : `${s}\n`);

function cmdVersion(state, { flags }) {
  out("Client:\n");
  if (flags.short) out(`Talos ${CLIENT_TAG}\n`);
  else out(`\tTag:         ${CLIENT_TAG}\n\tSHA:         stand-in\n\tBuilt:       \n\tGo version:  go1.25\n\tOS/Arch:     linux/amd64\n`);
  if (flags.client) return;
  out("Server:\n");
  const t = targets(state, flags, { insecure: flags.insecure });
  const lines = [];
  const errs = [];
  for (const addr of t.nodes) {
    const node = state.nodes[addr];
    if (!node?.reachable) { errs.push(`${addr}: ${connError(addr)}`); continue; }
    if (node.maintenance && !flags.insecure) { errs.push(`${addr}: ${tlsError()}`); continue; }
    lines.push(`\tNODE:        ${addr}\n\tTag:         ${node.version}\n\tSHA:         stand-in\n\tBuilt:       \n\tGo version:  go1.25\n\tOS/Arch:     linux/amd64\n\tEnabled:     RBAC\n`);
  }
  if (errs.length && !lines.length) throw new CliError(`error getting version: ${t.proxied ? multiError(errs) : errs[0].replace(/^[^:]+: /, "")}`);
  out(lines.join(""));
  if (errs.length) err(`WARNING: ${multiError(errs)}`);
}

function cmdGet(state, { args, flags }) {
  if (!["extensions", "extensionstatus", "extensionstatuses", "ExtensionStatus"].includes(args[0])) throw new CliError(`talosctl stand-in: get ${args[0]} is not simulated`);
  if (flags.output !== "table") throw new CliError(`talosctl stand-in: get -o ${flags.output} is not simulated`);
  const t = targets(state, flags);
  const rows = [["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "NAME", "VERSION"]];
  perNode(state, t, (node, addr) => {
    const exts = [...(node.extensions ?? []), ...(node.schematic ? [{ name: "schematic", version: node.schematic }] : [])];
    exts.forEach((e, i) => rows.push([addr, "runtime", "ExtensionStatus", String(i), "1", e.name, e.version]));
  });
  out(tabwrite(rows));
}

function cmdRead(state, { args, flags }) {
  if (args[0] !== "/proc/cmdline") throw new CliError(`talosctl stand-in: read ${args[0]} is not simulated`);
  const t = targets(state, flags);
  perNode(state, t, (node) => out(`${node.cmdline}\n`));
}

function cmdUpgrade(state, { flags }) {
  if (flags.wait && flags.insecure) throw new CliError("cannot use --wait and --insecure together");
  const t = targets(state, flags);
  const waitMs = parseDuration(flags.timeout);
  const target = parseInstaller(flags.image);
  // helpers.TalosVersionCheck: every node must be > 1.13.0-alpha.2 for the new API.
  const legacy = flags.legacy || perNode(state, t, (node) => {
    const v = semver(node.version);
    return cmpCore(v, { major: 1, minor: 13, patch: 0 }) < 0 || (cmpCore(v, { major: 1, minor: 13, patch: 0 }) === 0 && /^-alpha\.[0-2]$/.test(v.pre));
  }).some(Boolean);
  if (legacy && !flags.legacy) err("New upgrade API is not available, falling back to legacy");
  const results = perNode(state, t, (node, addr) => {
    const gate = upgradeGate(node.version, target.version);
    if (legacy) {
      if (node.role === "controlplane" && !flags.force) validateEtcdForUpgrade(state);
      if (gate) throw new CliError(`rpc error: code = Unknown desc = pre-flight checks failed: ${gate}`);
      talosCordonAndDrain(node, waitMs);
      install(state, node, target, configDoc(node.config).v1alpha1?.machine?.install?.extraKernelArgs ?? []);
      reboot(state, node, flags["reboot-mode"] === "powercycle" ? "powercycle" : "kexec", "upgrade", waitMs);
      return `${addr}: upgrade completed`;
    }
    if (gate) {
      err(`pre-flight checks failed: ${gate}`);
      throw new CliError(`node ${addr}: upgrade failed with exit code 1`);
    }
    install(state, node, target, []);
    return { addr, node };
  });
  if (legacy) { err(results.join("\n")); return; }
  err(results.map((r) => `${r.addr}: upgrade completed`).join("\n"));
  // Client-side drain, reboot, wait Ready, uncordon (upgrade.go, drain.go, nodedrain).
  for (const { node } of results) {
    if (flags.drain) {
      kubectl(["cordon", node.name]);
      drain(node, parseDuration(flags["drain-timeout"]));
    }
    reboot(state, node, flags["reboot-mode"] === "powercycle" ? "powercycle" : "kexec", "upgrade", waitMs);
    if (flags.drain) kubectl(["uncordon", node.name]);
  }
}

function install(state, node, target, extraKernelArgs) {
  node.version = target.version;
  node.schematic = target.schematic;
  node.installs = [...(node.installs ?? []), { version: target.version, schematic: target.schematic, extraKernelArgs }];
  node.cmdline = installedCmdline(node, { ...target, extraKernelArgs }, state.schematics);
  saveState(state);
}

/** internal/pkg/etcd/etcd.go ValidateForUpgrade, members' health from the simulated nodes. */
function validateEtcdForUpgrade(state) {
  const members = etcdMembers(state);
  if (members.length === 2) throw new CliError(`error validating etcd for upgrade: etcd member count(${members.length}) is insufficient to maintain quorum if upgrade commences`);
  for (const m of members) {
    const node = Object.values(state.nodes).find((n) => n.name === m.hostname);
    if (!node?.reachable || node.maintenance) throw new CliError(`error validating etcd for upgrade: etcd member ${m.id} is not healthy; all members must be healthy to perform an upgrade: context deadline exceeded`);
  }
}

function cmdApplyConfig(state, { args, flags }) {
  if (args.length && args[0] !== "config" && args[0].toLowerCase() !== "machineconfig") throw new CliError(`unknown positional argument ${args[0]}`);
  if (args.length) throw new CliError("expected no positional arguments");
  if (!flags.file) throw new CliError("no filename supplied for configuration");
  if (flags["config-patch"]?.length) throw new CliError("talosctl stand-in: --config-patch is not simulated");
  let text;
  try {
    text = fs.readFileSync(flags.file, "utf8");
  } catch (e) {
    throw new CliError(`failed to read configuration from "${flags.file}": ${e.message}`);
  }
  if (!text.length) throw new CliError("no configuration data read");
  const t = targets(state, flags, { insecure: flags.insecure });
  const details = [];
  const errs = [];
  for (const addr of t.nodes) {
    const node = state.nodes[addr];
    try {
      if (!node?.reachable) throw new CliError(connError(addr));
      if (node.maintenance && !flags.insecure) throw new CliError(tlsError());
      if (!node.maintenance && flags.insecure) throw new CliError(tlsError());
      details.push(applyOne(state, node, text, flags));
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      errs.push(t.proxied ? `${addr}: ${e.message}` : e.message);
    }
  }
  if (errs.length) throw new CliError(`error applying new configuration: ${t.proxied ? multiError(errs) : errs[0]}`);
  for (const d of details) err(d);
}

function applyOne(state, node, text, flags) {
  const inMaintenance = node.maintenance;
  const parsed = configDoc(text);
  if (!inMaintenance && !parsed.v1alpha1) throw new CliError("rpc error: code = InvalidArgument desc = the applied machine configuration doesn't contain v1alpha1 config, did you mean to patch the machine config instead?");
  let mode = flags.mode;
  if (inMaintenance && mode === "reboot") mode = "no-reboot";
  let details = "Applied configuration with a reboot";
  let modeErr = "";
  if (mode === "no-reboot" || mode === "try") {
    const why = inMaintenance ? undefined : canApplyImmediate(node.config, text);
    if (why) throw new CliError(`rpc error: code = InvalidArgument desc = ${why}`);
    details = "Applied configuration without a reboot";
  } else if (mode === "staged") {
    details = "Staged configuration to be applied after the next reboot";
  } else if (mode === "auto") {
    const why = inMaintenance ? undefined : canApplyImmediate(node.config, text);
    if (why) { mode = "reboot"; modeErr = `: ${why}`; } else { mode = "no-reboot"; details = "Applied configuration without a reboot"; }
  }
  if (flags["dry-run"]) return `Dry run summary:\n${details} (skipped in dry-run).\nConfig diff:\n\n${lineDiff(node.config ?? "", text)}`;
  if (mode === "try") throw new CliError("talosctl stand-in: --mode=try is not simulated");
  if (mode === "no-reboot") {
    node.config = text;
    node.staged = null;
    saveState(state);
    if (inMaintenance) rejoin(state, node);
  } else if (mode === "staged") {
    node.staged = text;
    saveState(state);
  } else {
    node.staged = text;
    reboot(state, node, "kexec", "apply-config", 30 * 60_000);
  }
  return details + modeErr;
}

function cmdReboot(state, { flags }) {
  const t = targets(state, flags);
  const timeoutMs = parseDuration(flags.timeout);
  perNode(state, t, (node) => {
    if (flags.drain) { kubectl(["cordon", node.name]); drain(node, parseDuration(flags["drain-timeout"])); }
    reboot(state, node, flags.mode === "powercycle" ? "powercycle" : "kexec", "reboot", timeoutMs);
    if (flags.drain) kubectl(["uncordon", node.name]);
  });
}

function cmdHealth(state, { flags }) {
  if (!flags.server) throw new CliError("talosctl stand-in: health --server=false is not simulated");
  const t = targets(state, flags);
  if (t.nodes.length > 1) throw new CliError('command "health" is not supported with multiple nodes');
  const onNode = state.nodes[t.nodes[0]];
  const fail = (e) => new CliError(t.proxied ? `healthcheck error: ${e}` : e);
  if (!onNode?.reachable) throw fail(connError(t.nodes[0]));
  if (onNode.maintenance) throw fail(tlsError());
  if (onNode.role !== "controlplane") throw fail("rpc error: code = Unimplemented desc = cluster health check is only available on control plane nodes");
  let cps = [...(flags["control-plane-nodes"] ?? []), ...(flags["init-node"] ? [flags["init-node"]] : [])];
  let workers = flags["worker-nodes"] ?? [];
  if (!cps.length && !workers.length) {
    const all = Object.values(state.nodes).filter((n) => !n.maintenance);
    cps = all.filter((n) => n.role === "controlplane").map((n) => n.address);
    workers = all.filter((n) => n.role !== "controlplane").map((n) => n.address);
  }
  const all = [...cps, ...workers];
  err(`discovered nodes: [${all.map((a) => JSON.stringify(a)).join(" ")}]`);
  const deadline = Date.now() + parseDuration(flags["wait-timeout"]);
  const checks = [
    ["etcd to be healthy", () => {
      const s = loadState();
      const bad = cps.flatMap((a) => {
        const n = s.nodes[a];
        if (!n?.reachable) return [`${a}: ${connError(a)}`];
        if (n.maintenance) return [`${a}: ${tlsError()}`];
        return etcdMembers(s).some((m) => m.hostname === n.name) ? [] : [`${a}: service is not healthy: etcd`];
      });
      return bad.length ? multiError(bad).trimEnd() : undefined;
    }],
    ["etcd members to be control plane nodes", () => {
      const ips = etcdMembers(loadState()).flatMap((m) => m.peerUrls.map((u) => new URL(u).hostname));
      return ips.every((ip) => cps.includes(ip)) ? undefined : `etcd member ips [${ips.map((i) => JSON.stringify(i)).join(" ")}] are not subset of control plane node ips [${cps.map((i) => JSON.stringify(i)).join(" ")}]`;
    }],
    ["apid to be ready", () => {
      const s = loadState();
      const bad = all.filter((a) => !nodeUsable(s, a, false)).map((a) => `${a}: ${s.nodes[a]?.reachable ? tlsError() : connError(a)}`);
      return bad.length ? multiError(bad).trimEnd() : undefined;
    }],
    ["all k8s nodes to report", () => nodesMatch(all, listNodes())],
    ["all k8s nodes to report ready", () => {
      const bad = listNodes().filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status !== "True")).map((n) => n.metadata.name);
      return bad.length ? `some nodes are not ready: [${bad.join(" ")}]` : undefined;
    }],
    ["all k8s nodes to report schedulable", () => {
      // check/kubernetes.go breaks after the first unschedulable node.
      const first = listNodes().find((n) => n.spec?.unschedulable);
      return first ? `some nodes are not schedulable: [${first.metadata.name}]` : undefined;
    }],
  ];
  for (const [name, check] of checks) {
    let last = "...";
    err(`waiting for ${name}: ...`);
    const ok = pollUntil(deadline, () => {
      const problem = check();
      const line = problem ?? "OK";
      if (line !== last) { err(`waiting for ${name}: ${line}`); last = line; }
      return problem === undefined;
    });
    if (!ok) throw fail("rpc error: code = DeadlineExceeded desc = context deadline exceeded");
  }
}

/** pkg/cluster/cluster.go NodesMatch over each Node's InternalIP and ExternalIP addresses. */
export function nodesMatch(expected, nodes) {
  const actual = nodes.map((n) => (n.status?.addresses ?? []).filter((a) => a.type === "InternalIP" || a.type === "ExternalIP").map((a) => a.address));
  for (const ip of expected) {
    const i = actual.findIndex((ips) => ips.includes(ip));
    if (i < 0) return `can't find expected node with IPs [${JSON.stringify(ip)}]`;
    actual.splice(i, 1);
  }
  if (actual.length) {
    const ips = actual.flat().sort(compareIp);
    return `unexpected nodes with IPs [${ips.map((i) => JSON.stringify(i)).join(" ")}]`;
  }
  return undefined;
}
const compareIp = (a, b) => {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
};

function cmdEtcd(state, { command, args, flags }) {
  const t = targets(state, flags);
  const sub = command.split(" ")[1];
  const requireCp = (node) => {
    if (node.role !== "controlplane") throw new CliError("rpc error: code = Unimplemented desc = etcd members is only available on control plane nodes");
    if (!etcdMembers(state).some((m) => m.hostname === node.name)) throw new CliError("rpc error: code = FailedPrecondition desc = etcd is not running on this node");
  };
  if (sub === "members") {
    const rows = [t.proxied ? ["NODE", "ID", "HOSTNAME", "PEER URLS", "CLIENT URLS", "LEARNER"] : ["ID", "HOSTNAME", "PEER URLS", "CLIENT URLS", "LEARNER"]];
    perNode(state, t, (node, addr) => {
      requireCp(node);
      for (const m of etcdMembers(state)) rows.push([...(t.proxied ? [addr] : []), m.id, m.hostname, m.peerUrls.join(","), m.clientUrls.join(","), String(m.isLearner)]);
    });
    out(tabwrite(rows));
  } else if (sub === "leave") {
    if (t.nodes.length > 1) throw new CliError('command "etcd leave" is not supported with multiple nodes');
    perNode(state, t, (node) => {
      requireCp(node);
      state.etcd.members = etcdMembers(state).filter((m) => m.hostname !== node.name);
      saveState(state);
    });
  } else if (sub === "remove-member") {
    if (!/^[0-9a-fA-F]{1,16}$/.test(args[0])) {
      throw new CliError(`error parsing member ID: error parsing etcd member id: strconv.ParseUint: parsing ${JSON.stringify(args[0])}: invalid syntax`);
    }
    const id = args[0].toLowerCase().padStart(16, "0");
    perNode(state, t, (node) => {
      requireCp(node);
      if (!etcdMembers(state).some((m) => m.id === id)) throw new CliError(`rpc error: code = NotFound desc = etcdserver: member not found`);
      state.etcd.members = etcdMembers(state).filter((m) => m.id !== id);
      saveState(state);
    });
  } else {
    perNode(state, t, (node) => {
      requireCp(node);
      state.etcd.forfeits = [...(state.etcd.forfeits ?? []), node.name];
      saveState(state);
    });
  }
}

function cmdReset(state, { flags }) {
  if (flags.wait && flags.insecure) throw new CliError("cannot use --wait and --insecure together");
  const t = targets(state, flags);
  const labels = flags["system-labels-to-wipe"] ?? [];
  perNode(state, t, (node) => {
    if (flags.graceful) {
      talosCordonAndDrain(node, parseDuration(flags.timeout));
      if (node.role === "controlplane") {
        state.etcd.members = etcdMembers(state).filter((m) => m.hostname !== node.name);
      }
    }
    const wipesState = flags["wipe-mode"] !== "user-disks" && (labels.length === 0 || labels.includes("STATE"));
    node.resets = [...(node.resets ?? []), { graceful: flags.graceful, reboot: flags.reboot, labels }];
    if (wipesState) { node.maintenance = true; node.config = null; node.staged = null; }
    if (!flags.reboot) node.reachable = false;
    saveState(state);
    if (!node.maintenance && flags.reboot) {
      reboot(state, node, "kexec", "reset", parseDuration(flags.timeout));
      return;
    }
    // No kubelet any more: kwok stops managing the Node, which stays (never deleted) and goes NotReady.
    kubectl(["annotate", "node", node.name, "--overwrite", `${KWOK_MANAGED_ANNOTATION}-`]);
    kubectl(["patch", "node", node.name, "--subresource=status", "--type=strategic", "-p",
      JSON.stringify({ status: { conditions: [{ type: "Ready", status: "False", reason: "KubeletNotReady", message: "talosctl stand-in: node reset" }] } })]);
  });
}

function cmdUpgradeK8s(state, { flags }) {
  const t = targets(state, flags);
  if (t.nodes.length > 1) throw new CliError('command "upgrade-k8s" is not supported with multiple nodes');
  const cp = state.nodes[t.nodes[0]];
  perNode(state, t, () => undefined);
  // Upgrade discovers the nodes through Kubernetes, by their Node objects' addresses and role
  // labels (pkg/cluster/kubernetes/talos_managed.go Upgrade, k8sClient.NodeIPs).
  const known = new Set(kubectl(["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"]).split(/\s+/).filter(Boolean));
  const nodes = Object.values(state.nodes).filter((n) => !n.maintenance && n.config && known.has(n.name));
  const cps = nodes.filter((n) => n.role === "controlplane");
  const imageOf = (img) => (img ?? "").split("@")[0].split(":").pop();
  const from = (flags.from ?? imageOf(configDoc(cp.config).v1alpha1?.cluster?.apiServer?.image)).replace(/^v/, "");
  const to = flags.to.replace(/^v/, "");
  const f = semver(from) ?? semver(`${from}.0`);
  const tv = semver(to) ?? semver(`${to}.0`);
  const pathStr = `${f?.major}.${f?.minor}->${tv?.major}.${tv?.minor}`;
  const supported = f && tv && f.major === 1 && tv.major === 1 && f.minor >= 19 && tv.minor <= K8S_MAX_TO_MINOR && (tv.minor === f.minor || tv.minor === f.minor + 1);
  if (!supported) throw new CliError(`unsupported upgrade path ${pathStr} (from ${JSON.stringify(from)} to ${JSON.stringify(to)})`);
  const log = (s) => out(`${s}\n`);
  log(`automatically detected the lowest Kubernetes version ${from}`);
  log(`discovered controlplane nodes ${goQuote(cps.map((n) => n.address))}`);
  const ws = nodes.filter((n) => n.role !== "controlplane");
  if (ws.length) log(`discovered worker nodes ${goQuote(ws.map((n) => n.address))}`);
  const dry = flags["dry-run"];
  for (const svc of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
    log(`updating ${JSON.stringify(svc)} to version ${JSON.stringify(to)}`);
    for (const n of cps) {
      log(` > ${JSON.stringify(n.address)}: starting update`);
      if (dry) { log(" > skipped in dry-run"); continue; }
      patchConfig(n, (c) => {
        const key = { "kube-apiserver": "apiServer", "kube-controller-manager": "controllerManager", "kube-scheduler": "scheduler" }[svc];
        c.cluster ??= {};
        c.cluster[key] = { ...(c.cluster[key] ?? {}), image: `${flags[{ "kube-apiserver": "apiserver-image", "kube-controller-manager": "controller-manager-image", "kube-scheduler": "scheduler-image" }[svc]]}:v${to}` };
      });
      log(` < ${JSON.stringify(n.address)}: successfully updated`);
    }
  }
  log(`updating kube-proxy to version ${JSON.stringify(to)}`);
  for (const n of cps) {
    log(` > ${JSON.stringify(n.address)}: starting update`);
    if (!dry) patchConfig(n, (c) => { c.cluster ??= {}; c.cluster.proxy = { ...(c.cluster.proxy ?? {}), image: `${flags["proxy-image"]}:v${to}` }; });
  }
  if (flags["upgrade-kubelet"]) {
    log(`updating kubelet to version ${JSON.stringify(to)}`);
    for (const n of nodes) {
      log(` > ${JSON.stringify(n.address)}: starting update`);
      if (dry) { log(" > skipped in dry-run"); continue; }
      patchConfig(n, (c) => { c.machine ??= {}; c.machine.kubelet = { ...(c.machine.kubelet ?? {}), image: `${flags["kubelet-image"]}:v${to}` }; });
      log(` > ${JSON.stringify(n.address)}: machine configuration patched`);
      log(` > ${JSON.stringify(n.address)}: waiting for node update`);
      // The kubelet restarts with the new version and reports it in the Node status.
      kubectl(["annotate", "node", n.name, "--overwrite", `${KUBELET_VERSION_ANNOTATION}=v${to}`]);
      kubectl(["patch", "node", n.name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { nodeInfo: { kubeletVersion: `v${to}` } } })]);
      log(` < ${JSON.stringify(n.address)}: successfully updated`);
    }
  }
  saveState(state);
  syncManifests(cp, nodes, dry, log);
}

const goQuote = (list) => `[${list.map((s) => JSON.stringify(s)).join(" ")}]`;

function patchConfig(node, mutate) {
  const docs = YAML().parseAllDocuments(node.config);
  const i = docs.findIndex((d) => d.toJS()?.version === "v1alpha1");
  const c = docs[i].toJS();
  mutate(c);
  docs[i] = new (YAML().Document)(c);
  node.config = docs.map((d) => d.toString()).join("---\n");
}

/** The bootstrap-token Secret of the bootstrap manifests, synced and logged as upstream does. */
function syncManifests(cp, nodes, dry, log) {
  const token = configDoc(cp.config).v1alpha1?.cluster?.token;
  if (!token || !token.includes(".")) throw new CliError("talosctl stand-in: the control plane's config has no cluster.token");
  const [id, secret] = token.split(".");
  const obj = {
    apiVersion: "v1", kind: "Secret", metadata: { name: `bootstrap-token-${id}`, namespace: "kube-system" }, type: "bootstrap.kubernetes.io/token",
    stringData: { "auth-extra-groups": "system:bootstrappers:nodes", "token-id": id, "token-secret": secret, "usage-bootstrap-authentication": "true" },
  };
  let current;
  try {
    current = JSON.parse(kubectl(["get", "secret", "-n", "kube-system", obj.metadata.name, "-o", "json"]));
  } catch {
    current = undefined;
  }
  const wanted = Object.fromEntries(Object.entries(obj.stringData).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
  const changed = !current || !deepEqual(current.data ?? {}, wanted);
  const subjectPath = `v1.Secret/kube-system/${obj.metadata.name}`;
  const diff = !current
    ? [`--- a/${subjectPath}`, `+++ b/${subjectPath}`, ...YAML().stringify(obj).trimEnd().split("\n").map((l) => `+${l}`)].join("\n")
    : [`--- a/${subjectPath}`, `+++ b/${subjectPath}`, ...Object.entries(current.data ?? {}).map(([k, v]) => `-  ${k}: ${v}`), ...Object.entries(wanted).map(([k, v]) => `+  ${k}: ${v}`)].join("\n");
  const ssa = nodes.every((n) => { const v = semver(n.version); return v && cmpCore(v, { major: 1, minor: 13, patch: 0 }) >= 0; });
  if (ssa) {
    log(`updating manifests${dry ? " (dry run)" : ""}`);
    if (!changed) log(` > skipped Secret/kube-system/${obj.metadata.name}: no changes`);
    else { log(` < ${current ? "configured" : "created"} Secret/kube-system/${obj.metadata.name}`); log(diff); }
  } else {
    log("updating manifests");
    log(` > processing manifest ${subjectPath}`);
    if (!changed) log(" < no changes");
    else { log(diff); log(dry ? " < dry run, change skipped" : " < applied successfully"); }
  }
  if (!dry && changed) kubectl(["apply", "-f", "-"], JSON.stringify(obj));
}

// ---------------------------------------------------------------- failure injection and main

/** Consumes a matching injected failure; returns it (or undefined). */
function takeFailure(state, argv, phase) {
  const line = argv.join(" ");
  const f = (state.failures ?? []).find((x) => (x.phase ?? "before") === phase && (x.times ?? 1) > 0 && new RegExp(x.match).test(line) && (!x.node || line.includes(x.node)));
  if (!f) return undefined;
  f.times = (f.times ?? 1) - 1;
  saveState(state);
  return f;
}

function main(argv) {
  if (!stateDir) throw new Error("talosctl stand-in: TALOS_STAND_IN_STATE is not set");
  fs.appendFileSync(path.join(stateDir, "calls.log"), `${JSON.stringify(argv)}\n`);
  const parsed = parseArgs(argv);
  let state = loadState();
  const injected = takeFailure(state, argv, "before");
  if (injected) throw new CliError(injected.message ?? `talosctl stand-in: failing on purpose: ${argv.join(" ")}`);
  const run = {
    version: cmdVersion, get: cmdGet, read: cmdRead, upgrade: cmdUpgrade, "apply-config": cmdApplyConfig, reboot: cmdReboot, health: cmdHealth,
    reset: cmdReset, "upgrade-k8s": cmdUpgradeK8s,
  }[parsed.command.split(" ")[0]] ?? cmdEtcd;
  if (parsed.command !== "version" || !parsed.flags.client) {
    if (!parsed.flags.insecure) loadTalosconfig(parsed.flags);
  }
  run(state, parsed);
  state = loadState();
  const after = takeFailure(state, argv, "after");
  if (after) throw new CliError(after.message ?? `talosctl stand-in: failing on purpose after the change: ${argv.join(" ")}`);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("talosctl-stand-in.mjs")) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof CliError) {
      err(e.message);
      process.exit(1);
    }
    err(`talosctl stand-in: ${e.stack ?? e}`);
    process.exit(3);
  }
}


