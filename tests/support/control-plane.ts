// A real Kubernetes control plane on loopback for the tests: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, the binaries `node toolchain/setup.mjs
// --test-tools` builds from Go modules (toolchain/versions.json testTools). Nodes are kwok's: they
// report Ready and run the pods scheduled to them, so DaemonSets, ReplicaSets, drains and node
// deletion behave as the real controllers make them behave. Everything lives in one temp dir
// (certificates, etcd data, logs) that stop() removes with every process.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {
  apiserverArgs, controllerManagerArgs, etcdArgs, Files, kubeconfigYaml, kwokArgs, Ports, schedulerArgs, tokenFile,
} from "./control-plane-args";
import { KUBELET_VERSION_ANNOTATION, KWOK_MANAGED_ANNOTATION, kwokStages, NODE_ADDRESS_ANNOTATION } from "./kwok-stages";

export interface KubeNode {
  name: string;
  address: string;
  role: "controlplane" | "worker";
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig text (a token in group system:masters). */
  readonly kubeconfig: string;
  /** That kubeconfig in a 0600 file. */
  readonly kubeconfigPath: string;
  /** The temp dir: certificates, etcd data, logs/<component>.log. */
  readonly dir: string;
  /**
   * A kwok-managed Node: Ready, InternalIP = address, labelled node-role.kubernetes.io/control-plane=""
   * for a control plane; resolves once it is Ready and untainted by the node lifecycle controller.
   */
  addNode(node: KubeNode): Promise<void>;
  /** Runs the real kubectl with the admin kubeconfig; throws with its stderr on failure. */
  kubectl(args: string[], input?: string): string;
  /** Kills every process and removes the dir. */
  stop(): Promise<void>;
}

/**
 * The binaries: the project's pinned builds in .tools/test-bin first (where setup links them; a
 * kubectl elsewhere on PATH may be any version), then PATH.
 */
export const BINARIES = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl"] as const;
type Binary = (typeof BINARIES)[number];

const PROJECT_BIN = path.resolve(__dirname, "..", "..", ".tools", "test-bin");

/** Where each binary is; throws naming the setup command when one is missing. */
export function findBinaries(env: NodeJS.ProcessEnv = process.env): Record<Binary, string> {
  const dirs = [PROJECT_BIN, ...(env.PATH ?? "").split(path.delimiter).filter(Boolean)];
  const found: Partial<Record<Binary, string>> = {};
  const missing: string[] = [];
  for (const name of BINARIES) {
    const at = dirs.map((d) => path.join(d, name)).find(isExecutable);
    if (at) found[name] = at;
    else missing.push(name);
  }
  if (missing.length) {
    throw new Error(`the test control plane needs ${missing.join(", ")} (in .tools/test-bin or on PATH): run \`node toolchain/setup.mjs --test-tools\` (scripts/test.sh does; it links them into .tools/test-bin)`);
  }
  return found as Record<Binary, string>;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** How long each component may take to answer its health endpoint (kube-apiserver needs ~6 s idle). */
const START_DEADLINE_MS = 90_000;
/** How long addNode waits for kwok to report the node Ready. */
const NODE_DEADLINE_MS = 60_000;
const POLL_MS = 100;

interface Component {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  exited?: string;
}

/** Free loopback ports, all held at once while choosing so they differ. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function logTail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Status code of a GET (any TLS served by our CA), or undefined when nothing answers yet. */
function httpStatus(url: string, ca?: string, token?: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const headers = token ? { authorization: `Bearer ${token}` } : undefined;
    const done = (res: http.IncomingMessage) => {
      res.resume();
      resolve(res.statusCode);
    };
    const req = url.startsWith("https:") ? https.get(url, { ca, headers, timeout: 2000 }, done) : http.get(url, { headers, timeout: 2000 }, done);
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** openssl from the system (Debian's): a CA, and a leaf for 127.0.0.1 signed by it. */
function makeCertificates(dir: string, name: string): { caCert: string; servingCert: string; servingKey: string } {
  const caCert = path.join(dir, "ca.crt");
  const caKey = path.join(dir, "ca.key");
  const servingCert = path.join(dir, "serving.crt");
  const servingKey = path.join(dir, "serving.key");
  const newEc = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc", "-days", "2"];
  const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  openssl(["req", "-x509", ...newEc, "-keyout", caKey, "-out", caCert, "-subj", `/CN=${name}-ca`]);
  openssl(["req", "-x509", ...newEc, "-keyout", servingKey, "-out", servingCert, "-subj", `/CN=${name}`, "-CA", caCert, "-CAkey", caKey,
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
    "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"]);
  return { caCert, servingCert, servingKey };
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on free loopback
 * ports and resolves once each answers its health endpoint and the admin can list namespaces.
 * On any failure everything started so far is stopped and the error carries each log's tail.
 * @param opts.name cluster and etcd member name; default "test-cluster"
 */
export async function startControlPlane(opts: { name?: string } = {}): Promise<ControlPlane> {
  const name = opts.name ?? "test-cluster";
  const bin = findBinaries();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `control-plane-${name}-`));
  fs.chmodSync(dir, 0o700);
  const logs = path.join(dir, "logs");
  fs.mkdirSync(logs);
  const components: Component[] = [];
  const killAll = () => {
    for (const c of components) if (!c.exited) c.child.kill("SIGKILL");
  };
  // A test process that dies without stop() still takes its control plane with it.
  process.on("exit", killAll);

  const stop = async () => {
    process.off("exit", killAll);
    for (const c of [...components].reverse()) if (!c.exited) c.child.kill("SIGTERM");
    const deadline = Date.now() + 10_000;
    while (components.some((c) => !c.exited) && Date.now() < deadline) await delay(POLL_MS);
    killAll();
    while (components.some((c) => !c.exited)) await delay(POLL_MS / 10);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok] = await freePorts(6);
    const ports: Ports = { etcdClient: etcdClient!, etcdPeer: etcdPeer!, apiserver: apiserver!, controllerManager: controllerManager!, scheduler: scheduler!, kwok: kwok! };
    const server = `https://127.0.0.1:${ports.apiserver}`;
    const certs = makeCertificates(dir, name);
    const sa = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const caPem = fs.readFileSync(certs.caCert, "utf8");
    const token = () => randomBytes(24).toString("hex");
    const tokens = {
      admin: { token: token(), user: "admin", groups: ["system:masters"] },
      controllerManager: { token: token(), user: "system:kube-controller-manager", groups: [] },
      scheduler: { token: token(), user: "system:kube-scheduler", groups: [] },
      // kwok writes node and pod status, node leases and deletes pods: what a kubelet may do, on every node.
      kwok: { token: token(), user: "kwok", groups: ["system:masters"] },
    };
    const write = (file: string, text: string) => {
      const at = path.join(dir, file);
      fs.writeFileSync(at, text, { mode: 0o600 });
      return at;
    };
    const kubeconfigOf = (t: { token: string; user: string }) => kubeconfigYaml({ cluster: name, server, caPem, user: t.user, token: t.token });
    const files: Files = {
      ...certs,
      etcdData: path.join(dir, "etcd"),
      serviceAccountKey: write("sa.key", sa.privateKey.export({ type: "pkcs8", format: "pem" }) as string),
      serviceAccountPub: write("sa.pub", sa.publicKey.export({ type: "spki", format: "pem" }) as string),
      tokens: write("tokens.csv", tokenFile(Object.values(tokens))),
      controllerManagerKubeconfig: write("controller-manager.kubeconfig", kubeconfigOf(tokens.controllerManager)),
      schedulerKubeconfig: write("scheduler.kubeconfig", kubeconfigOf(tokens.scheduler)),
      kwokKubeconfig: write("kwok.kubeconfig", kubeconfigOf(tokens.kwok)),
      kwokConfig: write("kwok-stages.yaml", kwokStages()),
    };
    const kubeconfig = kubeconfigOf(tokens.admin);
    const kubeconfigPath = write("admin.kubeconfig", kubeconfig);

    const start = (component: Binary, args: string[]) => {
      const log = path.join(logs, `${component}.log`);
      const fd = fs.openSync(log, "a");
      const child = spawn(bin[component], args, { stdio: ["ignore", fd, fd], cwd: dir });
      fs.closeSync(fd);
      const c: Component = { name: component, child, log };
      child.on("exit", (code, signal) => { c.exited = signal ? `killed by ${signal}` : `exited ${code}`; });
      child.on("error", (err) => { c.exited = `failed to start: ${err.message}`; });
      components.push(c);
    };
    const tails = () => components.map((c) => `--- ${c.name}${c.exited ? ` (${c.exited})` : ""}, ${c.log}:\n${logTail(c.log)}`).join("\n");
    const waitFor = async (what: string, ready: () => Promise<boolean>, deadlineMs = START_DEADLINE_MS) => {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        const gone = components.find((c) => c.exited);
        if (gone) throw new Error(`test control plane: ${gone.name} ${gone.exited} while waiting for ${what}\n${tails()}`);
        if (await ready()) return;
        if (Date.now() > deadline) throw new Error(`test control plane: ${what} not within ${deadlineMs / 1000} s\n${tails()}`);
        await delay(POLL_MS);
      }
    };
    const ok = (url: string, withToken = false) => async () => (await httpStatus(url, caPem, withToken ? tokens.admin.token : undefined)) === 200;

    start("etcd", etcdArgs(name, ports, files));
    await waitFor("etcd /health", ok(`http://127.0.0.1:${ports.etcdClient}/health`));
    start("kube-apiserver", apiserverArgs(ports, files));
    await waitFor("kube-apiserver /readyz", ok(`${server}/readyz`, true));
    start("kube-controller-manager", controllerManagerArgs(name, ports, files));
    start("kube-scheduler", schedulerArgs(ports, files));
    start("kwok", kwokArgs(ports, files, KWOK_MANAGED_ANNOTATION));
    await Promise.all([
      waitFor("kube-controller-manager /healthz", ok(`https://127.0.0.1:${ports.controllerManager}/healthz`)),
      waitFor("kube-scheduler /healthz", ok(`https://127.0.0.1:${ports.scheduler}/healthz`)),
      waitFor("kwok /healthz", ok(`http://127.0.0.1:${ports.kwok}/healthz`)),
      // Pods need their namespace's default ServiceAccount (the controller manager makes it).
      waitFor("the default ServiceAccount", ok(`${server}/api/v1/namespaces/default/serviceaccounts/default`, true)),
    ]);

    const kubectl = (args: string[], input?: string): string => {
      try {
        return execFileSync(bin.kubectl, ["--kubeconfig", kubeconfigPath, ...args], {
          input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024,
        });
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new Error(`kubectl ${args.join(" ")} failed: ${(e.stderr ?? "").trim() || e.message}`);
      }
    };
    const version = JSON.parse(kubectl(["version", "-o", "json"])).serverVersion.gitVersion as string;

    const addNode = async (node: KubeNode) => {
      kubectl(["create", "-f", "-"], JSON.stringify(nodeObject(node, version)));
      await waitFor(`node ${node.name} Ready`, async () => nodeIsReady(JSON.parse(kubectl(["get", "node", node.name, "-o", "json"])), node.address), NODE_DEADLINE_MS);
    };

    return { server, kubeconfig, kubeconfigPath, dir, addNode, kubectl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The Node object addNode creates: kwok manages it by the annotation, our stage reads the others. */
export function nodeObject(node: KubeNode, kubeletVersion: string): object {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: node.name,
      labels: {
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        ...(node.role === "controlplane" ? { "node-role.kubernetes.io/control-plane": "" } : {}),
      },
      annotations: {
        [KWOK_MANAGED_ANNOTATION]: "fake",
        [NODE_ADDRESS_ANNOTATION]: node.address,
        [KUBELET_VERSION_ANNOTATION]: kubeletVersion,
      },
    },
  };
}

interface NodeJson {
  spec?: { taints?: { key: string }[] };
  status?: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[] };
}

/** Ready, with the address as InternalIP, and no not-ready/unreachable taint left on it. */
export function nodeIsReady(node: NodeJson, address: string): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
  const ip = node.status?.addresses?.some((a) => a.type === "InternalIP" && a.address === address);
  const tainted = node.spec?.taints?.some((t) => t.key === "node.kubernetes.io/not-ready" || t.key === "node.kubernetes.io/unreachable");
  return Boolean(ready && ip && !tainted);
}
