// scripts/stack.sh's safety: the demo passphrase only previews (ops/secrets-guard.ts), destroy and
// up need a terminal or an explicit --yes, and destroy counts the machines it resets
// (ops/destroy-plan.ts). The script runs for real here; every refusal happens before Pulumi
// selects or creates a stack, on a throwaway backend.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createCipheriv, pbkdf2Sync, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { destroyScript } from "../../components/day2/removal-plan";
import { describeImpact, destroyImpact } from "../../ops/destroy-plan";
import { DEMO_PASSPHRASE, demoPassphraseProblem, effectivePassphrase, refusalMessage, saltBelongsTo } from "../../ops/secrets-guard";

const root = path.resolve(__dirname, "..", "..");
const homelabFile = fs.readFileSync(path.join(root, "Pulumi.homelab.yaml"), "utf8");
const homelabSalt = /^encryptionsalt: (.*)$/m.exec(homelabFile)![1]!;

/** A passphrase-provider salt as Pulumi makes one (the guard's inverse). */
function saltFor(passphrase: string): string {
  const salt = randomBytes(8);
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", pbkdf2Sync(passphrase, salt, 1_000_000, 32, "sha256"), nonce);
  const sealed = Buffer.concat([cipher.update("pulumi", "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `v1:${salt.toString("base64")}:v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}

describe("demo passphrase guard", function () {
  this.timeout(60_000);
  const ownSalt = saltFor("correct horse battery staple");

  it("recognises the committed stacks' salt as the demo passphrase's, and no other salt", () => {
    assert.equal(saltBelongsTo(homelabSalt, DEMO_PASSPHRASE), true);
    assert.equal(saltBelongsTo(homelabSalt, "another passphrase"), false);
    assert.equal(saltBelongsTo(ownSalt, DEMO_PASSPHRASE), false);
    assert.equal(saltBelongsTo("v1:garbage", DEMO_PASSPHRASE), false);
  });

  it("refuses the demo salt even with your own passphrase set, and the demo passphrase for a new stack", () => {
    assert.match(demoPassphraseProblem("homelab", homelabFile, { PULUMI_CONFIG_PASSPHRASE: "mine" })!, /^Pulumi\.homelab\.yaml's encryptionsalt was made with the demo passphrase/);
    assert.match(demoPassphraseProblem("new", undefined, { PULUMI_CONFIG_PASSPHRASE: DEMO_PASSPHRASE })!, /^the passphrase is the demo one/);
    assert.match(demoPassphraseProblem("new", undefined, { PULUMI_CONFIG_PASSPHRASE_FILE: "/p" }, () => `${DEMO_PASSPHRASE}\n`)!, /^the passphrase is the demo one/);
  });

  it("lets your own passphrase and salt through, and any non-passphrase secrets provider", () => {
    assert.equal(demoPassphraseProblem("mine", `encryptionsalt: ${ownSalt}\n`, { PULUMI_CONFIG_PASSPHRASE: "correct horse battery staple" }), undefined);
    assert.equal(demoPassphraseProblem("new", undefined, { PULUMI_CONFIG_PASSPHRASE_FILE: "/p" }, () => "mine\n"), undefined);
    assert.equal(demoPassphraseProblem("kms", "secretsprovider: awskms://alias/x\nencryptedkey: abc\n", { PULUMI_CONFIG_PASSPHRASE: DEMO_PASSPHRASE }), undefined);
  });

  it("reads the passphrase the way Pulumi does: the variable before the file", () => {
    assert.equal(effectivePassphrase({ PULUMI_CONFIG_PASSPHRASE: "a", PULUMI_CONFIG_PASSPHRASE_FILE: "/p" }, () => "b"), "a");
    assert.equal(effectivePassphrase({ PULUMI_CONFIG_PASSPHRASE_FILE: "/p" }, () => " b \n"), "b");
    assert.equal(effectivePassphrase({}), undefined);
  });

  it("says how to re-key with change-secrets-provider and how to make a stack of your own", () => {
    const text = refusalMessage("homelab", "up", "why");
    assert.match(text, /^refused: `up` on stack "homelab": why\./);
    assert.match(text, /pulumi stack change-secrets-provider --stack homelab passphrase/);
    assert.match(text, /bash scripts\/stack\.sh rekey homelab/);
    assert.match(text, /pulumi stack init <name> --secrets-provider/);
    assert.match(text, /PULUMI_CONFIG_PASSPHRASE/);
  });
});

describe("destroy plan: machines reset", () => {
  const resource = (type: string, name: string, inputs: Record<string, unknown> = {}) => ({ urn: `urn:pulumi:s::talos-cluster::x$${type}::${name}`, type, inputs });
  const apply = "talos:machine/configurationApply:ConfigurationApply";

  it("counts the applies that reset their node, those that keep it, and Hetzner servers", () => {
    const impact = destroyImpact({
      deployment: {
        resources: [
          resource(apply, "cp-1-apply", { node: "10.0.1.50", onDestroy: { graceful: true, reset: true, reboot: false } }),
          resource(apply, "worker-1-apply", { onDestroy: { graceful: true, reset: true, reboot: false } }),
          resource(apply, "worker-2-apply", { onDestroy: { graceful: false, reset: false, reboot: false } }),
          resource("hcloud:index/server:Server", "oxide-cp-1"),
          resource("talos:machine/secrets:Secrets", "tales-config-secrets"),
          { ...resource(apply, "old-apply", { onDestroy: { reset: true } }), delete: true },
        ],
      },
    });
    assert.deepEqual(impact, { reset: ["cp-1 (10.0.1.50)", "worker-1"], kept: ["worker-2"], servers: ["oxide-cp-1"] });
    assert.deepEqual(describeImpact(impact), [
      "This destroy resets 2 machines (Talos reset: wipes the node back to maintenance mode): cp-1 (10.0.1.50), worker-1.",
      "1 machine keeps its installation (onDestroy.reset false): worker-2.",
      "It deletes 1 Hetzner server: oxide-cp-1.",
    ]);
  });

  it("follows the membership step's delete script where the stack has one (it resets, the applies keep their machines)", () => {
    const members = (script: string) => resource("command:local:Command", "tales-nodes-members", { delete: script });
    const nodes = [resource(apply, "cp-1-apply", { node: "10.0.1.50", onDestroy: { graceful: true, reset: false, reboot: false } }), resource(apply, "worker-1-apply", { onDestroy: { graceful: true, reset: true, reboot: false } })];
    const resetting = members(destroyScript([{ name: "cp-1", address: "10.0.1.50", role: "controlplane" }, { name: "worker-1", address: "10.0.1.61", role: "worker" }], { graceful: true, reset: true, reboot: false }, "10m"));
    assert.deepEqual(destroyImpact({ deployment: { resources: [...nodes, resetting] } }), { reset: ["cp-1 (10.0.1.50)", "worker-1"], kept: [], servers: [] });
    const keeping = members(destroyScript([], { graceful: true, reset: false, reboot: false }, "10m"));
    assert.deepEqual(destroyImpact({ deployment: { resources: [...nodes, keeping] } }), { reset: [], kept: ["cp-1 (10.0.1.50)", "worker-1"], servers: [] });
  });

  it("says so when nothing is reset", () => {
    assert.deepEqual(describeImpact(destroyImpact({ deployment: { resources: [] } })), ["This destroy resets 0 machines (Talos reset: wipes the node back to maintenance mode)."]);
  });
});

describe("scripts/stack.sh refusals (no terminal, throwaway backend)", function () {
  this.timeout(120_000);
  let backend: string;
  before(() => {
    backend = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-stack-sh-"));
  });
  after(() => fs.rmSync(backend, { recursive: true, force: true }));

  function stackSh(args: string[], env: Record<string, string> = {}) {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_CONFIG_PASSPHRASE")));
    const res = spawnSync("bash", [path.join(root, "scripts", "stack.sh"), ...args], {
      encoding: "utf8",
      input: "",
      env: { ...clean, PULUMI_BACKEND_URL: `file://${backend}`, ...env },
    });
    return { status: res.status, stderr: res.stderr };
  }
  const stacksCreated = () => fs.existsSync(path.join(backend, ".pulumi", "stacks"));

  for (const cmd of ["up", "destroy", "refresh"]) {
    it(`${cmd} without a terminal needs --yes`, () => {
      const res = stackSh([cmd, "homelab"]);
      assert.equal(res.status, 2, res.stderr);
      assert.match(res.stderr, new RegExp(`refused: \`${cmd}\` without a terminal needs an explicit --yes \\(bash scripts/stack.sh ${cmd} homelab --yes\\)`));
      assert.equal(stacksCreated(), false);
    });
  }

  it("up --yes on the demo passphrase is refused, with the way out", () => {
    const res = stackSh(["up", "homelab", "--yes"]);
    assert.equal(res.status, 3, res.stderr);
    assert.match(res.stderr, /refused: `up` on stack "homelab": Pulumi\.homelab\.yaml's encryptionsalt was made with the demo passphrase/);
    assert.match(res.stderr, /pulumi stack change-secrets-provider/);
    assert.equal(stacksCreated(), false);
  });

  it("destroy --yes with your own passphrase is still refused while the salt is the demo one", () => {
    const res = stackSh(["destroy", "homelab", "--yes"], { PULUMI_CONFIG_PASSPHRASE: "my own passphrase" });
    assert.equal(res.status, 3, res.stderr);
    assert.match(res.stderr, /encryptionsalt was made with the demo passphrase/);
  });

  it("secret on a new stack with the demo passphrase from a file is refused", () => {
    const file = path.join(backend, "passphrase");
    fs.writeFileSync(file, `${DEMO_PASSPHRASE}\n`);
    const res = stackSh(["secret", "no-such-stack", "hcloud:token"], { PULUMI_CONFIG_PASSPHRASE_FILE: file });
    assert.equal(res.status, 3, res.stderr);
    assert.match(res.stderr, /refused: `secret` on stack "no-such-stack": the passphrase is the demo one/);
    assert.equal(stacksCreated(), false);
  });

  it("refuses unknown commands and flags", () => {
    assert.equal(stackSh(["apply", "homelab"]).status, 2);
    assert.equal(stackSh(["up", "homelab", "--force"]).status, 2);
    assert.equal(stackSh(["secret", "homelab"]).status, 2);
  });
});
