// The demo passphrase of scripts/env.sh is public: it is fine for previews of the example stacks,
// never for a real cluster's CAs and keys or an hcloud:token. scripts/stack.sh asks this module
// before `up`, `destroy`, `refresh` and `secret`, and refuses while the stack would be encrypted
// with it.
// Usage (through scripts/stack.sh): ts-node ops/secrets-guard.ts <stack> <command>; exit 3 = refused.
import { createDecipheriv, pbkdf2Sync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

/** The passphrase scripts/env.sh sets when none is given; the committed stacks' salt belongs to it. */
export const DEMO_PASSPHRASE = "talos-cluster-local-default";

/**
 * Whether `passphrase` opens a passphrase-provider salt (`encryptionsalt: v1:<salt>:v1:<nonce>:<sealed>`).
 * Pulumi seals the word "pulumi" with AES-256-GCM under PBKDF2-SHA256(passphrase, salt, 1,000,000
 * iterations, 32 bytes) (pulumi pkg/secrets/passphrase/manager.go, sdk/go/common/resource/config/crypt.go).
 */
export function saltBelongsTo(encryptionSalt: string, passphrase: string): boolean {
  const [version, salt, valueVersion, nonce, sealed, ...rest] = encryptionSalt.split(":");
  if (version !== "v1" || valueVersion !== "v1" || !salt || !nonce || !sealed || rest.length) return false;
  const key = pbkdf2Sync(passphrase, Buffer.from(salt, "base64"), 1_000_000, 32, "sha256");
  const box = Buffer.from(sealed, "base64");
  if (box.length < 16) return false;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
    decipher.setAuthTag(box.subarray(box.length - 16));
    const plain = Buffer.concat([decipher.update(box.subarray(0, box.length - 16)), decipher.final()]).toString("utf8");
    return plain === "pulumi";
  } catch {
    return false; // authentication failed: another passphrase
  }
}

/** The passphrase Pulumi would use: PULUMI_CONFIG_PASSPHRASE first, then PULUMI_CONFIG_PASSPHRASE_FILE (trimmed), as Pulumi reads them. */
export function effectivePassphrase(env: Record<string, string | undefined>, readFile = (f: string) => fs.readFileSync(f, "utf8")): string | undefined {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (!file) return undefined;
  try {
    return readFile(file).trim();
  } catch {
    return undefined; // Pulumi itself reports the unreadable file
  }
}

/**
 * Why this stack's secrets would be protected by the demo passphrase, or undefined when they are
 * not. `stackFileText` is Pulumi.<stack>.yaml (undefined when the stack has none yet).
 */
export function demoPassphraseProblem(stack: string, stackFileText: string | undefined, env: Record<string, string | undefined>, readFile?: (f: string) => string): string | undefined {
  const settings = (stackFileText ? YAML.parse(stackFileText) : undefined) ?? {};
  const provider = typeof settings.secretsprovider === "string" ? settings.secretsprovider : "";
  // A KMS, Vault or Pulumi Cloud secrets provider never uses the passphrase.
  if (provider !== "" && provider !== "passphrase") return undefined;
  if (hasDemoSalt(stackFileText)) {
    return `Pulumi.${stack}.yaml's encryptionsalt was made with the demo passphrase "${DEMO_PASSPHRASE}" (scripts/env.sh), which anyone can read`;
  }
  if (effectivePassphrase(env, readFile) === DEMO_PASSPHRASE) {
    return `the passphrase is the demo one, "${DEMO_PASSPHRASE}" (scripts/env.sh sets it when PULUMI_CONFIG_PASSPHRASE is unset), which anyone can read`;
  }
  return undefined;
}

/** The refusal: what is wrong, and the two ways out (a stack of your own, or re-keying this one). */
export function refusalMessage(stack: string, command: string, problem: string): string {
  return [
    `refused: \`${command}\` on stack "${stack}": ${problem}.`,
    `The demo passphrase is for previews only: with it, the cluster's CAs and keys in the state and every`,
    `\`config set --secret\` value (hcloud:token, secretsYaml) would be encrypted with a public passphrase.`,
    ``,
    `Re-key this stack (its config secrets and state are decrypted with the demo passphrase and encrypted anew):`,
    `  bash scripts/stack.sh rekey ${stack}                    # asks for your new passphrase on the terminal`,
    `  # which runs: PULUMI_CONFIG_PASSPHRASE=${DEMO_PASSPHRASE} pulumi stack change-secrets-provider --stack ${stack} passphrase`,
    `  bash scripts/stack.sh rekey ${stack} "awskms://alias/talos?region=eu-central-1"   # or any Pulumi secrets provider`,
    `  export PULUMI_CONFIG_PASSPHRASE='<your passphrase>'    # then, in every shell that runs the scripts`,
    ``,
    `Or create a stack of your own: export PULUMI_CONFIG_PASSPHRASE='<your passphrase>' (or PULUMI_CONFIG_PASSPHRASE_FILE),`,
    `write its config to Pulumi.<name>.yaml without an encryptionsalt line, then \`bash scripts/stack.sh preview <name>\``,
    `creates it; for another secrets provider: pulumi stack init <name> --secrets-provider "awskms://…" (or azurekeyvault://,`,
    `gcpkms://, hashivault://, default for Pulumi Cloud).`,
    `Then re-set secrets with the new key: bash scripts/stack.sh secret <name> hcloud:token < token-file.`,
  ].join("\n");
}

/** Whether the stack file's encryptionsalt belongs to the demo passphrase. */
export function hasDemoSalt(stackFileText: string | undefined): boolean {
  const salt = stackFileText ? YAML.parse(stackFileText)?.encryptionsalt : undefined;
  return typeof salt === "string" && saltBelongsTo(salt, DEMO_PASSPHRASE);
}

function main(argv: string[]): number {
  const [stack, command] = argv;
  if (!stack || !command) {
    console.error("usage: secrets-guard.ts <stack> <command> | <stack> --demo-salt");
    return 2;
  }
  const file = path.join(path.resolve(__dirname, ".."), `Pulumi.${stack}.yaml`);
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  if (command === "--demo-salt") return hasDemoSalt(text) ? 0 : 1;
  const problem = demoPassphraseProblem(stack, text, process.env);
  if (!problem) return 0;
  console.error(refusalMessage(stack, command, problem));
  return 3;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
