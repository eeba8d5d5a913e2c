// A REAL OpenSSH server on loopback for the tests: the rescue system's stand-in (Hetzner's rescue is
// Debian with OpenSSH) and the other end of command:remote:Command. The sshd is Debian's own
// openssh-server 9.2p1 (toolchain/versions.json tools.opensshServer; `setup.mjs --test-tools`
// unpacks it and links .tools/test-bin/sshd). Nothing on the machine is changed:
//
// - sshd runs unprivileged. OpenSSH 9.2 (openssh/openssh-portable V_9_2_P1, sshd.c main()) insists on
//   the privilege-separation user `sshd` and the chroot folder /run/sshd only when started as root
//   (`privsep_chroot = getuid() == 0 || geteuid() == 0`). So as root (CI) it is started through
//   `setpriv --reuid/--regid` as uid/gid 65534 (nobody); as any other user it runs as that user.
//   An unprivileged sshd can log in only as its own uid, with public keys (no shadow access, no PAM).
// - The login name, home and shell come from a passwd/group file of this server's own, read by
//   cwrap's NSS wrapper (Debian libnss-wrapper, preloaded by the .tools/test-bin/sshd wrapper when
//   NSS_WRAPPER_PASSWD is set): the system's `nobody` has /usr/sbin/nologin as its shell, which
//   sshd's session code (session.c do_child) would run every command through. The session's
//   processes get sshd's fresh environment (session.c do_setup_env), without the preload.
// - `SetEnv PATH=...` (sshd_config(5), applied after sshd's default PATH) puts the test's folders
//   of recording stand-ins (`reboot`, `dmidecode`) first on the session's PATH.
// - AcceptEnv defaults to Debian's `LANG LC_*` (openssh-server's /etc/ssh/sshd_config), what a
//   Debian-based rescue system accepts; a test of `environment` widens it.
//
// Readiness is sshd's own "Server listening on" line, never a sleep.
import { execFileSync, spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const PROJECT_SSHD = path.resolve(__dirname, "..", "..", ".tools", "test-bin", "sshd");

export interface OpenSshServerOptions {
  /** Login name (the only account of this server). Default "root": Hetzner's rescue login and command:remote's default user. */
  readonly user?: string;
  /** Folders put first on the session's PATH, in this order. Default none. */
  readonly pathPrefix?: readonly string[];
  /** sshd_config AcceptEnv patterns. Default ["LANG", "LC_*"] (Debian's sshd_config). */
  readonly acceptEnv?: readonly string[];
  /** The login shell sshd runs every command through (`shell -c command`). Default /bin/bash, a Debian root's shell. */
  readonly shell?: string;
}

export interface OpenSshServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The client's ed25519 private key, OpenSSH format, as `ssh-keygen` wrote it. */
  readonly privateKey: string;
  readonly privateKeyPath: string;
  /** The server's ed25519 host key, authorized_keys format ("ssh-ed25519 AAAA... comment"). */
  readonly hostPublicKey: string;
  /** The session user's home (its working directory), writable by that user. */
  readonly home: string;
  /** The uid/gid the sessions run as: files a session must write should belong to them. */
  readonly uid: number;
  readonly gid: number;
  /** sshd's own log (LogLevel VERBOSE: connections, keys, "Starting session: command ..."). */
  readonly logPath: string;
  /** `ssh` arguments that reach this server with the client key and pinned host key (then the command). */
  readonly sshArgs: readonly string[];
  /** Stops sshd (SIGTERM, then waits for it to exit) and removes its folder. */
  stop(): Promise<void>;
}

/** The uid/gid an unprivileged sshd runs as: nobody when we are root, else ourselves. */
function runAs(): { uid: number; gid: number } {
  const uid = process.getuid!();
  return uid === 0 ? { uid: 65534, gid: 65534 } : { uid, gid: process.getgid!() };
}

/** A port free on 127.0.0.1 right now (sshd binds it next; a lost race fails its start loudly). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startOpenSsh(options: OpenSshServerOptions = {}): Promise<OpenSshServer> {
  if (!fs.existsSync(PROJECT_SSHD)) throw new Error(`${PROJECT_SSHD} is missing: run \`node toolchain/setup.mjs --test-tools\``);
  const user = options.user ?? "root";
  const host = "127.0.0.1";
  const { uid, gid } = runAs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-cluster-sshd-"));
  fs.chmodSync(dir, 0o755);
  const home = path.join(dir, "home");
  fs.mkdirSync(home);
  const keygen = (file: string, comment: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  keygen(path.join(dir, "host_key"), "talos-cluster-test-host");
  keygen(path.join(dir, "client_key"), "talos-cluster-test-client");
  fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));
  fs.writeFileSync(path.join(dir, "passwd"), `${user}:x:${uid}:${gid}:talos-cluster test sshd:${home}:${options.shell ?? "/bin/bash"}\n`);
  fs.writeFileSync(path.join(dir, "group"), `${user}:x:${gid}:\n`);
  const port = await freePort(host);
  const sessionPath = [...(options.pathPrefix ?? []), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(":");
  fs.writeFileSync(path.join(dir, "sshd_config"), [
    `ListenAddress ${host}:${port}`,
    `HostKey ${path.join(dir, "host_key")}`,
    `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
    `PidFile ${path.join(dir, "sshd.pid")}`,
    // The files are ours (root's, in CI), not the session user's: sshd's ownership checks would refuse them.
    "StrictModes no",
    "UsePAM no",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PubkeyAuthentication yes",
    "PermitRootLogin prohibit-password",
    `AcceptEnv ${(options.acceptEnv ?? ["LANG", "LC_*"]).join(" ")}`,
    `SetEnv PATH=${sessionPath}`,
    "LogLevel VERBOSE",
    "",
  ].join("\n"));
  // The client key stays ours (ssh refuses a key others can read); everything sshd reads is its.
  if (process.getuid!() === 0) for (const f of ["host_key", "home", "sshd_config", "authorized_keys", "passwd", "group"]) fs.chownSync(path.join(dir, f), uid, gid);
  fs.chownSync(dir, uid, gid);
  fs.chmodSync(path.join(dir, "host_key"), 0o600);

  const logPath = path.join(dir, "sshd.log");
  const log = fs.openSync(logPath, "a");
  // As root, sshd becomes nobody before it starts, and nobody may not read the toolchain cache (under
  // root's home in CI): it runs a copy of the unpacked packages (2.3 MB) and of the wrapper from here.
  let sshd = PROJECT_SSHD;
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", NSS_WRAPPER_PASSWD: path.join(dir, "passwd"), NSS_WRAPPER_GROUP: path.join(dir, "group") };
  if (process.getuid!() === 0) {
    const tree = /^tree="\$\{TALOS_CLUSTER_DEBIAN_TREE:-(.+)\}"$/m.exec(fs.readFileSync(PROJECT_SSHD, "utf8"))?.[1];
    if (!tree) throw new Error(`${PROJECT_SSHD} names no package tree: rerun \`node toolchain/setup.mjs --test-tools\``);
    env.TALOS_CLUSTER_DEBIAN_TREE = path.join(dir, "sshd-tree");
    fs.cpSync(tree, env.TALOS_CLUSTER_DEBIAN_TREE, { recursive: true, verbatimSymlinks: true });
    sshd = path.join(dir, "sshd");
    fs.copyFileSync(PROJECT_SSHD, sshd);
    fs.chmodSync(sshd, 0o755);
  }
  const sshdArgs = [sshd, "-D", "-e", "-f", path.join(dir, "sshd_config")];
  const [command, ...args] = process.getuid!() === 0
    ? ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", ...sshdArgs]
    : sshdArgs;
  const child = spawn(command, args, {
    stdio: ["ignore", log, "pipe"],
    env,
  });
  fs.closeSync(log);
  await listening(child, logPath);

  const hostPublicKey = fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").trim();
  const knownHosts = path.join(dir, "known_hosts");
  fs.writeFileSync(knownHosts, `[${host}]:${port} ${hostPublicKey}\n`);
  const privateKeyPath = path.join(dir, "client_key");
  return {
    host, port, user, home, uid, gid, logPath, hostPublicKey, privateKeyPath,
    privateKey: fs.readFileSync(privateKeyPath, "utf8"),
    sshArgs: ["-F", "none", "-i", privateKeyPath, "-o", "IdentitiesOnly=yes", "-o", `UserKnownHostsFile=${knownHosts}`,
      "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-p", String(port), `${user}@${host}`],
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves at sshd's "Server listening on" (stderr, copied into the log); rejects if it exits first. */
function listening(child: ChildProcess, logPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      fs.appendFileSync(logPath, chunk);
      if (seen !== "ready") {
        seen += chunk.toString();
        if (/Server listening on /.test(seen)) {
          seen = "ready";
          resolve();
        }
      }
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (seen !== "ready") reject(new Error(`sshd exited (${code ?? signal}) before listening:\n${fs.readFileSync(logPath, "utf8").trim()}`));
    });
  });
}
