// Scheduled etcd snapshots and the restore path, through the whole program under mocks.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import YAML from "yaml";
import { backupCronJobSpec, BackupManifestInput, pathStyleValue } from "../../components/backup/backup-manifests";
import { durationSeconds, recoverRefusal, recoverScript } from "../../components/talos/recover-plan";
import pins from "../../toolchain/versions.json";
import { RecordedResource, Recorder, runProgram, runValidProgram } from "../support/mocks";
import { testSecretsBundle } from "../support/test-pki";
import { committedStackConfig } from "../support/stack-files";

const root = path.resolve(__dirname, "..", "..");
const AGE = "age1sjtwfwtgydjpmgq3f9sumgskwlmhm58ksuguutjvtkshas3egl00vhgyma";
const SECRETS = { "talos-cluster:backupAccessKey": "AKIA-BACKUP-7c2e", "talos-cluster:backupSecretKey": "s3-secret-key-91d4", "talos-cluster:backupAgePublicKey": AGE };
const BACKUP = { schedule: "15 */4 * * *", s3: { endpoint: "https://fsn1.your-objectstorage.com", bucket: "tales-etcd", region: "fsn1" } };
const IMAGE = `ghcr.io/siderolabs/talos-backup:${pins.images.talosBackup.version}`;
const GET_CONFIGURATION = "talos:machine/getConfiguration:getConfiguration";
const ACCESS_PATCH = { machine: { features: { kubernetesTalosAPIAccess: { enabled: true, allowedRoles: ["os:etcd:backup"], allowedKubernetesNamespaces: ["talos-backup"] } } } };

const withBackup = (backup: Record<string, unknown> = BACKUP) => ({ ...committedStackConfig("homelab"), "talos-cluster:backup": JSON.stringify(backup), ...SECRETS });
const inputsOf = (r: RecordedResource) => r.inputs as any;
/** The patches each rendered config got, by machine type (role renders and node renders alike). */
const patchesByType = (recorder: Recorder) => {
  const out: Record<string, object[][]> = { controlplane: [], worker: [] };
  for (const call of recorder.invokesOf(GET_CONFIGURATION)) out[String(call.inputs.machineType)]!.push((call.inputs.configPatches as string[]).map((p) => YAML.parse(p)));
  return out;
};

describe("backup: scheduled etcd snapshots to S3", () => {
  let recorder: Recorder;
  before(async () => {
    recorder = (await runValidProgram(withBackup(), "backup")).recorder;
  });

  it("pins the talos-backup image in toolchain/versions.json", () => {
    assert.equal(pins.images.talosBackup.image, "ghcr.io/siderolabs/talos-backup");
    assert.match(pins.images.talosBackup.version, /^v\d+\.\d+\.\d+(-[a-z0-9.]+)?$/);
  });

  it("gives Talos API access with os:etcd:backup to the backup namespace, on control planes only", () => {
    const { controlplane, worker } = patchesByType(recorder);
    assert.ok(controlplane.length >= 2, "the role render and the control plane's own render");
    for (const patches of controlplane) assert.equal(patches.filter((p) => JSON.stringify(p).includes("kubernetesTalosAPIAccess")).length, 1);
    for (const patches of controlplane) assert.ok(patches.some((p) => isDeepStrictEqual(p, ACCESS_PATCH)));
    assert.ok(worker.length >= 2);
    for (const patches of worker) assert.ok(!JSON.stringify(patches).includes("kubernetesTalosAPIAccess"));
  });

  it("creates a restricted namespace: the job needs no privileges", () => {
    const ns = recorder.named("tales-backup-namespace");
    assert.deepEqual(inputsOf(ns).metadata, {
      name: "talos-backup",
      labels: { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/warn": "restricted" },
    });
  });

  it("creates the Talos ServiceAccount with exactly the os:etcd:backup role", () => {
    const sa = recorder.named("tales-backup-talos-service-account");
    assert.equal(sa.type, "kubernetes:talos.dev/v1alpha1:ServiceAccount");
    assert.deepEqual(inputsOf(sa), {
      apiVersion: "talos.dev/v1alpha1",
      kind: "ServiceAccount",
      metadata: { name: "talos-backup-talosconfig", namespace: "talos-backup" },
      spec: { roles: ["os:etcd:backup"] },
    });
  });

  it("keeps the S3 keys and the age recipient in a Secret, secret in the program and in state", () => {
    const secret = recorder.named("tales-backup-credentials");
    assert.deepEqual(inputsOf(secret).stringData, { "access-key": "AKIA-BACKUP-7c2e", "secret-key": "s3-secret-key-91d4", "age-public-key": AGE });
    assert.deepEqual(secret.secretInputs, ["stringData"]);
    assert.deepEqual([...secret.additionalSecretOutputs].sort(), ["data", "stringData"]);
    assert.deepEqual(inputsOf(secret).metadata, { name: "talos-backup-s3", namespace: "talos-backup" });
    // nowhere else: not in the CronJob, not in any other resource's inputs
    for (const r of recorder.resources.filter((x) => x !== secret)) assert.doesNotMatch(JSON.stringify(r.inputs), /AKIA-BACKUP-7c2e|s3-secret-key-91d4/, r.name);
  });

  it("runs the pinned talos-backup on the schedule, credentials only by reference", () => {
    const job = recorder.named("tales-backup-cronjob");
    assert.equal(job.type, "kubernetes:batch/v1:CronJob");
    const spec = inputsOf(job).spec;
    assert.equal(spec.schedule, "15 */4 * * *");
    assert.equal(spec.concurrencyPolicy, "Forbid");
    const pod = spec.jobTemplate.spec.template.spec;
    const [container] = pod.containers;
    assert.equal(container.image, IMAGE);
    assert.deepEqual(container.env, [
      { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: "talos-backup-s3", key: "access-key" } } },
      { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "talos-backup-s3", key: "secret-key" } } },
      { name: "AGE_X25519_PUBLIC_KEY", valueFrom: { secretKeyRef: { name: "talos-backup-s3", key: "age-public-key" } } },
      { name: "CUSTOM_S3_ENDPOINT", value: "https://fsn1.your-objectstorage.com" },
      { name: "AWS_REGION", value: "fsn1" },
      { name: "BUCKET", value: "tales-etcd" },
      { name: "S3_PREFIX", value: "tales" },
      { name: "CLUSTER_NAME", value: "tales" },
      { name: "USE_PATH_STYLE", value: "true" },
      { name: "DISABLE_ENCRYPTION", value: "false" },
    ]);
    assert.deepEqual(pod.volumes, [
      { name: "tmp", emptyDir: {} },
      { name: "talosconfig", secret: { secretName: "talos-backup-talosconfig" } },
    ]);
    // what the restricted Pod Security level demands of the pod
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
    assert.deepEqual(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
  });

  it("orders everything after the add-ons' health gate, the job after its ServiceAccount and Secret", () => {
    const lastHealth = Math.max(...recorder.invokesOf("talos:cluster/getHealth:getHealth").map((h) => h.seq));
    const ns = recorder.named("tales-backup-namespace");
    assert.ok(ns.seq > lastHealth, "the namespace waits for the health gate");
    const urn = (n: string) => recorder.named(n).urn;
    assert.ok(ns.dependencies.includes(urn("tales-addons-cilium-release")), "through the gate: after Cilium");
    for (const n of ["tales-backup-talos-service-account", "tales-backup-credentials"]) assert.ok(recorder.named(n).dependencies.includes(ns.urn), n);
    const job = recorder.named("tales-backup-cronjob");
    for (const n of ["tales-backup-talos-service-account", "tales-backup-credentials"]) assert.ok(job.dependencies.includes(urn(n)), n);
    assert.equal(recorder.named("tales-backup").parent, recorder.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? recorder.named("tales-backup").parent);
  });

  it("maps pathStyle to the value talos-backup v0.1.0-beta.3 reads as path-style (its check is == \"false\")", () => {
    assert.equal(pathStyleValue(true), "false");
    assert.equal(pathStyleValue(false), "true");
    const input: BackupManifestInput = { clusterName: "c", namespace: "n", schedule: "@daily", image: "i", endpoint: "http://nas.lan:9000", bucket: "b", region: "us-east-1", pathStyle: true, prefix: "p" };
    assert.deepEqual(backupCronJobSpec(input).jobTemplate.spec.template.spec.containers[0]!.env.find((e) => e.name === "USE_PATH_STYLE"), { name: "USE_PATH_STYLE", value: "false" });
  });

  it("without a backup section: no patch, no backup resources", async () => {
    const run = await runValidProgram(committedStackConfig("homelab"), "nobackup");
    assert.ok(!JSON.stringify(run.recorder.invokesOf(GET_CONFIGURATION).map((c) => c.inputs.configPatches)).includes("kubernetesTalosAPIAccess"));
    assert.deepEqual(run.recorder.resources.filter((r) => r.name.startsWith("tales-backup")), []);
  });

  it("backup.enabled: false keeps the settings but deploys nothing and patches nothing", async () => {
    const { "talos-cluster:backupAccessKey": _a, "talos-cluster:backupSecretKey": _b, "talos-cluster:backupAgePublicKey": _c, ...config } = withBackup({ ...BACKUP, enabled: false });
    const run = await runValidProgram(config, "disabled");
    assert.deepEqual(run.recorder.resources.filter((r) => r.name.startsWith("tales-backup")), []);
    assert.ok(!JSON.stringify(run.recorder.invokesOf(GET_CONFIGURATION).map((c) => c.inputs.configPatches)).includes("kubernetesTalosAPIAccess"));
  });
});

describe("restore: cluster.recoverFrom bootstraps from a snapshot", () => {
  const snapshot = "tests/fixtures/etcd.snapshot";
  const sha256 = createHash("sha256").update(fs.readFileSync(path.join(root, snapshot))).digest("hex");
  const restoreConfig = () => ({
    ...committedStackConfig("homelab", { "talos-cluster:cluster": { configContract: "v1.10", recoverFrom: snapshot } }),
    "talos-cluster:secretsYaml": testSecretsBundle(),
  });
  let recorder: Recorder;
  before(async () => {
    recorder = (await runValidProgram(restoreConfig(), "restore")).recorder;
  });

  it("is refused on a stack that only renders configs: it bootstraps nothing", async () => {
    const config: Record<string, string> = restoreConfig();
    const cluster = JSON.parse(config["talos-cluster:cluster"]!);
    const run = await runProgram({ ...config, "talos-cluster:cluster": JSON.stringify({ ...cluster, applyNodes: false }) }, "render-restore");
    assert.equal(
      String(run.error).split("\n").slice(1).join("\n"),
      "  - talos-cluster:cluster.recoverFrom: needs cluster.applyNodes: true: a stack that only renders configs bootstraps nothing",
    );
    assert.equal(run.recorder.resources.length, 0);
  });

  it("replaces the provider's bootstrap with one restore step on the first control plane", () => {
    assert.deepEqual(recorder.ofType("talos:machine/bootstrap:Bootstrap"), []);
    const step = recorder.named("tales-cluster-recover-bootstrap");
    assert.equal(step.type, "command:local:Command");
    const target = { node: "10.0.1.50", sha256, timeout: "10m" };
    assert.equal(inputsOf(step).create, recoverScript(target));
    assert.equal(inputsOf(step).update, recoverRefusal(target));
    assert.match(inputsOf(step).create, /talosctl -n 10\.0\.1\.50 bootstrap --recover-from="\$work\/etcd\.snapshot"/);
    // The create script names the node: ignored once it ran, so a replaced first control plane
    // changes nothing; the update (the refusal) names only the snapshot.
    assert.deepEqual(step.ignoreChanges, ["create", "environment"]);
    assert.doesNotMatch(inputsOf(step).update, /10\.0\.1\.50/);
  });

  it("waits for the first control plane's apply, and the kubeconfig waits for the restore", () => {
    const step = recorder.named("tales-cluster-recover-bootstrap");
    assert.ok(step.dependencies.includes(recorder.named("talos-control-1-apply").urn));
    assert.ok(recorder.named("tales-cluster-kubeconfig").dependencies.includes(step.urn));
  });

  it("passes the snapshot by path in the secret environment, never its content or the talosconfig in the script", () => {
    const step = recorder.named("tales-cluster-recover-bootstrap");
    assert.deepEqual(step.secretInputs, ["environment"]);
    assert.deepEqual(inputsOf(step).environment, {
      TALOS_CLUSTER_TALOSCONFIG: "talosconfig of tales",
      TALOS_CLUSTER_KUBECONFIG: "",
      TALOS_CLUSTER_RECOVER_FROM: path.join(root, snapshot),
    });
    for (const r of recorder.resources) assert.doesNotMatch(JSON.stringify(r.inputs), /ETCD-SNAPSHOT-CONTENT/, r.name);
    assert.doesNotMatch(inputsOf(step).create, /talosconfig of tales/);
  });

  it("reads a Go duration as seconds for the wait", () => {
    assert.equal(durationSeconds("10m"), 600);
    assert.equal(durationSeconds("1h30m15s"), 5415);
    assert.throws(() => durationSeconds("10 minutes"), /not a duration/);
  });
});

describe("backup.schedule: cron expressions as the CronJob controller takes them", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { cronSchedule } = require("../../config/backup") as typeof import("../../config/backup");
  const problem = (s: string) => {
    const r = cronSchedule.safeParse(s);
    return r.success ? undefined : r.error.issues[0]!.message.replace(/^must be a cron schedule like "0 3 \* \* \*" or @daily: /, "");
  };

  it("accepts fields, ranges, lists, steps, names and macros", () => {
    for (const ok of ["0 * * * *", "*/15 * * * *", "0 3 * * mon-fri", "30 2 1,15 jan,jul *", "0 0-23/2 * * 0,7", "@daily", "@hourly"]) assert.equal(problem(ok), undefined, ok);
  });

  it("names the first bad field", () => {
    assert.equal(problem("* * * *"), "has 4 fields, needs 5 (minute hour day-of-month month day-of-week)");
    assert.equal(problem("60 * * * *"), 'minute "60" is outside 0-59');
    assert.equal(problem("0 0 0 * *"), 'day of month "0" is outside 1-31');
    assert.equal(problem("5-1 * * * *"), 'minute range "5-1" runs backwards');
    assert.equal(problem("*/0 * * * *"), 'minute step "*/0" must be at least 1');
    assert.equal(problem("0 3 * * funday"), 'day of week "funday" is not a number or a name like mon');
    assert.equal(problem("0 3 * * 1-"), 'day of week "1-" is not a number, range, list or step');
    assert.equal(problem("@sometimes"), "has 1 field, needs 5 (minute hour day-of-month month day-of-week)");
  });
});
