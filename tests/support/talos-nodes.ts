// Simulated Talos nodes for the engine tests, and the `talosctl` stand-in that serves them
// (tests/support/talosctl-stand-in.mjs, whose header cites the upstream source of each behaviour).
// The nodes' Kubernetes side is a real control plane (tests/support/control-plane.ts): the state
// here only holds what a Talos node would.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface SimulatedNode {
  name: string;
  address: string;
  role: "controlplane" | "worker";
  /** Running Talos version, e.g. "v1.10.6". */
  version: string;
  /** Image Factory schematic ID of the installed image; null for a vanilla installer. */
  schematic: string | null;
  /** Active machine config (YAML text). */
  config: string;
  /** Kernel cmdline (/proc/cmdline). Default: what an install of `version` would leave. */
  cmdline?: string;
  /** "grub" (default, BIOS/legacy) or "sdboot" (UEFI: the UKI's cmdline). */
  bootloader?: "grub" | "sdboot";
  /** Default "metal". */
  platform?: string;
  /** false: every call to it fails like a powered-off node. Default true. */
  reachable?: boolean;
  /** Other extensions listed by `get extensions` besides the schematic one. */
  extensions?: { name: string; version: string }[];
}

export interface EtcdMember {
  id: string;
  hostname: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** A failure the stand-in injects: argv (joined by spaces) matching `match`, `times` times. */
export interface InjectedFailure {
  /** Regular expression tested against the joined argv. */
  match: string;
  /** Only when the argv also names this address. */
  node?: string;
  /** Default 1. */
  times?: number;
  /** "before" (default): nothing happens; "after": the command's effect happens, then it fails. */
  phase?: "before" | "after";
  /** stderr text; default "talosctl stand-in: failing on purpose: <argv>". */
  message?: string;
}

export interface StandInState {
  nodes: Record<string, SimulatedNode & { staged?: string | null; maintenance?: boolean; boots?: { kind: string; reason: string }[] }>;
  etcd: { members: EtcdMember[]; forfeits?: string[] };
  /** What the Image Factory bakes into each schematic's UKI cmdline. */
  schematics: Record<string, { extraKernelArgs: string[] }>;
  failures: InjectedFailure[];
}

export const STAND_IN = path.join(__dirname, "talosctl-stand-in.mjs");

/** etcd's member ID for a node, stable per hostname. */
export function memberIdOf(hostname: string): string {
  return crypto.createHash("sha256").update(hostname).digest("hex").slice(0, 16);
}

/**
 * Writes a fresh state: the nodes, every control plane an etcd member.
 * @param schematics default {}
 */
export function writeStandInState(stateDir: string, nodes: SimulatedNode[], schematics: StandInState["schematics"] = {}): StandInState {
  fs.mkdirSync(stateDir, { recursive: true });
  const state: StandInState = {
    nodes: Object.fromEntries(nodes.map((n) => [n.address, { reachable: true, staged: null, maintenance: false, boots: [], ...n }])),
    etcd: {
      members: nodes.filter((n) => n.role === "controlplane").map((n) => ({
        id: memberIdOf(n.name), hostname: n.name, peerUrls: [`https://${n.address}:2380`], clientUrls: [`https://${n.address}:2379`], isLearner: false,
      })),
    },
    schematics,
    failures: [],
  };
  for (const n of Object.values(state.nodes)) n.cmdline ??= `talos.platform=${n.platform ?? "metal"} console=tty0 init_on_alloc=1`;
  fs.writeFileSync(path.join(stateDir, "state.json"), JSON.stringify(state, null, 2));
  return state;
}

export function readStandInState(stateDir: string): StandInState {
  return JSON.parse(fs.readFileSync(path.join(stateDir, "state.json"), "utf8"));
}

/** Changes the state in place (e.g. a node becomes unreachable). */
export function updateStandInState(stateDir: string, change: (s: StandInState) => void): StandInState {
  const state = readStandInState(stateDir);
  change(state);
  fs.writeFileSync(path.join(stateDir, "state.json"), JSON.stringify(state, null, 2));
  return state;
}

export function injectFailure(stateDir: string, failure: InjectedFailure): void {
  updateStandInState(stateDir, (s) => s.failures.push(failure));
}

/** Every call's argv, in order. */
export function standInCalls(stateDir: string): string[][] {
  const file = path.join(stateDir, "calls.log");
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/**
 * Installs the stand-in as `talosctl` in `binDir` (a shell shim running it with this node), bound
 * to the state dir and the control plane's admin kubeconfig.
 * @param opts.kubectl kubectl binary; default "kubectl" from PATH at run time
 */
export function installTalosctlStandIn(binDir: string, opts: { stateDir: string; kubeconfigPath: string; kubectl?: string }): string {
  fs.mkdirSync(binDir, { recursive: true });
  const file = path.join(binDir, "talosctl");
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  fs.writeFileSync(file, [
    "#!/bin/sh",
    `TALOS_STAND_IN_STATE=${q(opts.stateDir)} TALOS_STAND_IN_KUBECONFIG=${q(opts.kubeconfigPath)} TALOS_STAND_IN_KUBECTL=${q(opts.kubectl ?? "kubectl")} \\`,
    `  exec ${q(process.execPath)} ${q(STAND_IN)} "$@"`,
    "",
  ].join("\n"), { mode: 0o755 });
  return file;
}

/** A talosconfig for the stand-in (mode 600): context "test" with the given endpoints. */
export function writeTalosconfig(file: string, endpoints: string[]): string {
  const yaml = `context: test\ncontexts:\n  test:\n    endpoints: [${endpoints.map((e) => JSON.stringify(e)).join(", ")}]\n    ca: c3RhbmQtaW4=\n    crt: c3RhbmQtaW4=\n    key: c3RhbmQtaW4=\n`;
  fs.writeFileSync(file, yaml, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

/** A minimal v1alpha1 machine config for a simulated node. */
export function machineConfig(opts: { role: "controlplane" | "worker"; token?: string; extraKernelArgs?: string[]; kubeletVersion?: string; kubernetesVersion?: string; grubUseUKICmdline?: boolean }): string {
  const k8s = opts.kubernetesVersion ?? "1.35.0";
  const lines = [
    "version: v1alpha1",
    "machine:",
    `  type: ${opts.role}`,
    "  token: abcdef.0123456789abcdef",
    "  install:",
    "    disk: /dev/sda",
    ...(opts.extraKernelArgs?.length ? ["    extraKernelArgs:", ...opts.extraKernelArgs.map((a) => `      - ${a}`)] : []),
    ...(opts.grubUseUKICmdline !== undefined ? [`    grubUseUKICmdline: ${opts.grubUseUKICmdline}`] : []),
    "  kubelet:",
    `    image: ghcr.io/siderolabs/kubelet:v${opts.kubeletVersion ?? k8s}`,
    "cluster:",
    `  token: ${opts.token ?? "abc123.0123456789abcdef"}`,
    "  apiServer:",
    `    image: registry.k8s.io/kube-apiserver:v${k8s}`,
    "",
  ];
  return lines.join("\n");
}
