// Pulumi mocks that record every resource (with its options as the engine would receive them)
// and every invoke, so tests assert exact inputs, counts and dependency edges.
// Call installMocks() before importing the code under test.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import path from "node:path";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly inputs: Record<string, unknown>;
  readonly parent: string;
  /** URNs this resource depends on, as the engine sees them: dependsOn plus every resource whose outputs feed its inputs. */
  readonly dependencies: string[];
  /** Top-level input names whose values were secret. */
  readonly secretInputs: string[];
  readonly protect: boolean;
  readonly importId: string;
  readonly ignoreChanges: string[];
  readonly replaceOnChanges: string[];
  /** The replacementTrigger option's value, plain (undefined when not set). */
  readonly replacementTrigger: unknown;
  readonly additionalSecretOutputs: string[];
  readonly provider: string;
  readonly deleteBeforeReplace: boolean;
  /** The deletedWith option's URN ("" when not set). */
  readonly deletedWith: string;
  /** The replaceWith option's URNs. */
  readonly replaceWith: string[];
  /** When the engine answered the registration, on the same clock as invokes. */
  readonly seq: number;
}

export interface RecordedInvoke {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
  /** When the invoke was made, on the same clock as registrations. */
  readonly seq: number;
}

export interface Recorder {
  readonly resources: RecordedResource[];
  readonly invokes: RecordedInvoke[];
  ofType(type: string): RecordedResource[];
  named(name: string): RecordedResource;
  invokesOf(token: string): RecordedInvoke[];
}

/** Options of one mocked run. */
export interface MockOptions {
  /** Run as a preview (pulumi.runtime.isDryRun() is true). Default: false. */
  readonly preview?: boolean;
  /**
   * Outputs the engine still holds in state, by resource name, for inputs the program marks
   * ignoreChanges: e.g. the config contract kept with the secrets across a Talos bump.
   */
  readonly state?: Readonly<Record<string, Record<string, unknown>>>;
}

/** Fake provider outputs for the types whose outputs the code reads. */
function outputsFor(type: string, name: string, inputs: Record<string, unknown>, state: MockOptions["state"] = {}): Record<string, unknown> {
  if (state[name]) return { ...outputsFor(type, name, inputs), ...state[name] };
  switch (type) {
    case "talos:machine/secrets:Secrets":
      return {
        ...inputs,
        machineSecrets: fakeMachineSecrets(name),
        clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: `${name}-client-key` },
      };
    case "talos:cluster/kubeconfig:Kubeconfig":
      return { ...inputs, kubeconfigRaw: `kubeconfig of ${name}` };
    case "hcloud:index/loadBalancer:LoadBalancer":
      return { ...inputs, ipv4: "198.51.100.10" };
    // DSM answers an imported image with its id; the guests mount the ISO by it.
    case "synology:vmm:Image":
      return { ...inputs, imageId: `${name}-id` };
    // The snapshot the build made: Hetzner's image ID (a number).
    case "hcloudimage:index:TalosSnapshot":
      return { ...inputs, snapshotId: hcloudId(name) };
    case "tls:index/privateKey:PrivateKey":
      return { ...inputs, privateKeyPem: `${name}-private-key`, privateKeyOpenssh: `${name}-private-key-openssh`, publicKeyOpenssh: `ssh-ed25519 ${name}-public-key` };
    // Robot names a key by its fingerprint.
    case "robot:index:SshKey":
      return { ...inputs, fingerprint: `${name}-fingerprint` };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { ...inputs, certPem: `${name}-cert` };
    case "tls:index/certRequest:CertRequest":
      return { ...inputs, certRequestPem: `${name}-csr` };
    // A Gateway as its controller leaves it once its LoadBalancer Service has an address
    // (Gateway API v1 GatewayStatus.addresses); the program reads the stack output gatewayAddress from it.
    case "kubernetes:gateway.networking.k8s.io/v1:Gateway":
      return { ...inputs, status: { addresses: [{ type: "IPAddress", value: "198.51.100.20" }] } };
    // The stack's own earlier outputs (components/day2/removal-guard.ts): none unless a test gives them as state.
    case "pulumi:pulumi:StackReference":
      return { ...inputs, outputs: {}, secretOutputNames: [] };
    default:
      return inputs;
  }
}

export function fakeMachineSecrets(name: string) {
  const pair = (n: string) => ({ cert: `${name}-${n}-crt`, key: `${name}-${n}-key` });
  return {
    cluster: { id: `${name}-cluster-id`, secret: `${name}-cluster-secret` },
    secrets: { bootstrapToken: `${name}-bootstrap`, secretboxEncryptionSecret: `${name}-secretbox` },
    trustdinfo: { token: `${name}-trustd` },
    certs: { etcd: pair("etcd"), k8s: pair("k8s"), k8sAggregator: pair("aggregator"), k8sServiceaccount: { key: `${name}-sa-key` }, os: pair("os") },
  };
}

/** The factory answers a schematic's SHA-256, as the real Image Factory does; other ids are made up. */
let schematicIdOverride: string | undefined;
export function factoryAnswers(id: string | undefined) {
  schematicIdOverride = id;
}

function idFor(type: string, name: string, inputs: Record<string, unknown>): string {
  if (type === "talos:imageFactory/schematic:Schematic") {
    return schematicIdOverride ?? createHash("sha256").update(String(inputs.schematic)).digest("hex");
  }
  // Hetzner IDs are numbers; derive a stable one from the name.
  if (type.startsWith("hcloud:")) return String(parseInt(createHash("sha256").update(name).digest("hex").slice(0, 6), 16));
  return `${name}-id`;
}

/** The fake Hetzner ID mocks give a resource of this name. */
export function hcloudId(name: string): number {
  return parseInt(createHash("sha256").update(name).digest("hex").slice(0, 6), 16);
}

/** A short digest of everything a config is rendered from. */
export function renderHash(inputs: Record<string, unknown>): string {
  return createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 8);
}

/** Fake invoke results. */
function invokeResult(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "talos:machine/getConfiguration:getConfiguration":
      // Like the real thing, any input that changes (a version, a patch) changes the config.
      return { ...inputs, machineConfiguration: `rendered ${String(inputs.machineType)} config (${(inputs.configPatches as unknown[]).length} patches, ${renderHash(inputs)})` };
    case "talos:client/getConfiguration:getConfiguration":
      return { ...inputs, talosConfig: `talosconfig of ${String(inputs.clusterName)}` };
    case "talos:cluster/getHealth:getHealth":
      return { ...inputs, id: "healthy" };
    default:
      return inputs;
  }
}

// How the mock monitor hands secret values to newResource: wrapped with Pulumi's secret signature.
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function isSecretValue(v: unknown): boolean {
  return !!v && typeof v === "object" && SECRET_SIG in (v as object);
}

/** The inputs with every secret wrapper removed, for exact comparisons. */
function unsecret(v: unknown): any {
  if (isSecretValue(v)) return unsecret((v as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(unsecret);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unsecret(x)]));
  return v;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getProtect(): boolean;
  getImportid(): string;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
  getAdditionalsecretoutputsList(): string[];
  getProvider(): string;
  getDeletebeforereplace(): boolean;
  getDeletedwith(): string;
  getReplaceWithList(): string[];
}

export function installMocks(project = "talos-cluster", stack = "unit", options: MockOptions = {}): Recorder {
  const resources: RecordedResource[] = [];
  const invokes: RecordedInvoke[] = [];
  const recorder: Recorder = {
    resources,
    invokes,
    ofType: (type) => resources.filter((r) => r.type === type),
    named: (name) => {
      const found = resources.filter((r) => r.name === name);
      if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
      return found[0]!;
    },
    invokesOf: (token) => invokes.filter((i) => i.token === token),
  };
  const pending = new Map<string, Record<string, unknown>>();
  let clock = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        pending.set(`${args.type}::${args.name}`, args.inputs);
        return { id: idFor(args.type, args.name, args.inputs), state: outputsFor(args.type, args.name, args.inputs, options.state) };
      },
      call(args) {
        invokes.push({ token: args.token, inputs: args.inputs, seq: clock++ });
        return invokeResult(args.token, args.inputs);
      },
    },
    project,
    stack,
    options.preview ?? false,
    "organization",
  );
  // The mock monitor sees the full registration request; record what the engine would see.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: (err: unknown, res: unknown) => void): void };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    register(req, (err, res) => {
      if (!err) {
        const urn = (res as { getUrn(): string }).getUrn();
        const raw = pending.get(`${req.getType()}::${req.getName()}`) ?? {};
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn,
          inputs: unsecret(raw),
          secretInputs: Object.keys(raw).filter((k) => isSecretValue(raw[k])).sort(),
          parent: req.getParent(),
          dependencies: [...req.getDependenciesList()].sort(),
          protect: req.getProtect(),
          importId: req.getImportid(),
          ignoreChanges: req.getIgnorechangesList(),
          replaceOnChanges: req.getReplaceonchangesList(),
          replacementTrigger: unsecret(req.getReplacementTrigger()?.toJavaScript()),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          provider: req.getProvider(),
          deleteBeforeReplace: req.getDeletebeforereplace(),
          deletedWith: req.getDeletedwith(),
          replaceWith: req.getReplaceWithList(),
          seq: clock++,
        });
      }
      cb(err, res);
    });
  };
  return recorder;
}

/** The value of an output, resolved under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Waits until every outstanding registration and invoke has been answered. */
export async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

const projectRoot = path.resolve(__dirname, "..", "..");
const CONFIG_CHECK_STAND_IN = path.join(__dirname, "talos-config-check-stand-in.js");

/**
 * Runs the program (index.ts) under fresh mocks with the given stack config, as
 * pulumi.runtime.allConfig() would deliver it. Returns what was registered and what the
 * program threw, if anything.
 */
export async function runProgram(allConfig: Record<string, string>, stack = "unit", options: MockOptions = {}) {
  const recorder = installMocks("talos-cluster", stack, options);
  pulumi.runtime.setAllConfig(allConfig, Object.keys(allConfig).filter((k) => k.endsWith(":secretsYaml")));
  for (const key of Object.keys(require.cache)) {
    const ours = ["index.ts", "components", "config"].some((p) => key.startsWith(path.join(projectRoot, p)));
    if (ours) {
      delete require.cache[key];
    }
  }
  let exports: Record<string, pulumi.Output<unknown> | unknown> = {};
  let error: unknown;
  // Mocks render placeholder configs: Talos's validator gets a stand-in for those (patch files
  // still go through the real one). Read once, when index.ts loads.
  const previous = process.env.TALOS_CONFIG_CHECK;
  process.env.TALOS_CONFIG_CHECK = CONFIG_CHECK_STAND_IN;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(path.join(projectRoot, "index.ts"));
  } catch (err) {
    error = err;
  } finally {
    if (previous === undefined) delete process.env.TALOS_CONFIG_CHECK;
    else process.env.TALOS_CONFIG_CHECK = previous;
  }
  await settle();
  return { recorder, exports, error };
}

/** runProgram for a config that must be valid: fails the calling hook with the program's error. */
export async function runValidProgram(allConfig: Record<string, string>, stack = "unit", options: MockOptions = {}) {
  const run = await runProgram(allConfig, stack, options);
  if (run.error !== undefined) throw new Error(`the program failed: ${String(run.error)}`);
  return run;
}
