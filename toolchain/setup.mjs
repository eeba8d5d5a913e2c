#!/usr/bin/env node
// Provisions the pinned Pulumi toolchain for this project, offline-capable and idempotent.
//
//   node toolchain/setup.mjs          # make everything present, print one line per step
//   node toolchain/setup.mjs --check  # report what is missing, build nothing
//   node toolchain/setup.mjs --test-tools       # also the test-only binaries (scripts/test.sh)
//   node toolchain/setup.mjs --test-tools-only  # only the test-only binaries
//   node toolchain/setup.mjs --chart-source     # also the local chart source .tools/charts
//                                               # (toolchain/chart-source.mjs; --test-tools does too)
//
// The test-only binaries (versions.json testTools: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kubectl, kwok) are a real control plane for the tests, linked into .tools/test-bin;
// the main command's setup never builds them, so its cold setup does not grow. With them, the
// Debian-packaged test tools (versions.json tools.*.debianPackages: sshd) are unpacked into the cache.
//
// Every version comes from toolchain/versions.json. Built binaries, generated SDKs and
// schemas are cached under $TALOS_CLUSTER_CACHE (default ~/.cache/talos-cluster) and linked
// into the ignored .tools/bin of the project; nothing generated lands in tracked files.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pins = JSON.parse(fs.readFileSync(path.join(root, "toolchain/versions.json"), "utf8"));
const cacheRoot = process.env.TALOS_CLUSTER_CACHE || path.join(os.homedir(), ".cache", "talos-cluster");
const toolsBin = path.join(root, ".tools", "bin");
// The test-only binaries are linked apart, so that the main command (scripts/env.sh puts .tools/bin
// first on PATH) never runs the tests' kubectl instead of the user's; scripts/test.sh adds this.
const testToolsBin = path.join(root, ".tools", "test-bin");
const checkOnly = process.argv.includes("--check");
const testToolsOnly = process.argv.includes("--test-tools-only");
const withTestTools = testToolsOnly || process.argv.includes("--test-tools");
const withChartSource = withTestTools || process.argv.includes("--chart-source");

class StepError extends Error {}

/** Runs one named step, printing `setup: <step> ... <seconds>s (<how>)` or why it failed. */
function step(name, fn) {
  const started = Date.now();
  try {
    const how = fn();
    console.log(`setup: ${name.padEnd(38)} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${how ?? ""}`);
    return how;
  } catch (err) {
    console.error(`setup: FAILED at step "${name}" after ${((Date.now() - started) / 1000).toFixed(1)}s`);
    console.error(`setup: why: ${err.message}`);
    process.exit(1);
  }
}

/** Runs a command; on failure throws with the command and the tail of its output. */
function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...opts });
  if (res.error) throw new StepError(`${cmd}: ${res.error.code === "ENOENT" ? "not found on PATH" : res.error.message}`);
  if (res.status !== 0) {
    const tail = `${res.stdout ?? ""}${res.stderr ?? ""}`.trim().split("\n").slice(-25).join("\n");
    throw new StepError(`\`${cmd} ${args.join(" ")}\` exited ${res.status}:\n${tail}`);
  }
  return res.stdout;
}

function which(binary) {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    if (dir && !candidate.startsWith(toolsBin) && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function link(target, name, dir = toolsBin) {
  fs.mkdirSync(dir, { recursive: true });
  const at = path.join(dir, name);
  fs.rmSync(at, { force: true });
  fs.symlinkSync(target, at);
}

// The Go environment used for every module build. The module proxy this project can reach
// has no checksum database, so GOSUMDB is off unless the user set one; each module's own
// go.sum still verifies every dependency it lists.
function goEnv() {
  return {
    ...process.env,
    GOFLAGS: "-mod=mod",
    GOSUMDB: process.env.GOSUMDB ?? "off",
    CGO_ENABLED: "0",
    GOTOOLCHAIN: "local",
    // Some modules (talos) ship a go.work; -mod=mod is refused in workspace mode.
    GOWORK: "off",
  };
}

function checkGo() {
  const out = run("go", ["version"]);
  return out.trim();
}

/** `go mod edit` with the pins: replaces dropped, modules required at a version, replaces added. */
function editGoMod(workDir, { dropreplace = [], requires = {}, replace = {} }) {
  const edits = [
    ...dropreplace.map((mod) => `-dropreplace=${mod}`),
    ...Object.entries(requires).map(([mod, version]) => `-require=${mod}@${version}`),
    ...Object.entries(replace).map(([mod, target]) => `-replace=${mod}=${target}`),
  ];
  if (edits.length) run("go", ["mod", "edit", ...edits], { cwd: workDir, env: goEnv() });
}

/** Copies a module from the module cache into a writable work tree and applies our go.mod edits. */
function prepareModule(spec, workDir) {
  const info = JSON.parse(run("go", ["mod", "download", "-json", `${spec.module}@${spec.moduleVersion}`], { env: goEnv(), cwd: os.tmpdir() }));
  if (info.Error) throw new StepError(`go mod download ${spec.module}@${spec.moduleVersion}: ${info.Error}`);
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.cpSync(info.Dir, workDir, { recursive: true });
  run("chmod", ["-R", "u+w", workDir]);
  // Local replaces such as `=> ../sdk` point outside the module zip: require the published module.
  // Replaces to forks the proxy does not serve are dropped (spec.dropReplace says why in its $comment).
  editGoMod(workDir, { dropreplace: [...Object.keys(spec.replaceLocalWith ?? {}), ...(spec.dropReplace ?? [])], requires: spec.replaceLocalWith, replace: spec.replace });
  for (const embed of spec.embeds ?? []) {
    // Mirrors the upstream `go generate` step: the embedded schema is schema.json with its version set.
    const dir = path.join(workDir, path.dirname(embed.target));
    const source = JSON.parse(fs.readFileSync(path.join(dir, embed.from), "utf8"));
    if (embed.setVersion) source.version = spec.version;
    fs.writeFileSync(path.join(dir, path.basename(embed.target)), JSON.stringify(source));
  }
  for (const [from, to] of Object.entries(spec.addFiles ?? {})) {
    fs.mkdirSync(path.join(workDir, path.dirname(to)), { recursive: true });
    fs.copyFileSync(path.join(root, from), path.join(workDir, to));
  }
}

/**
 * A plugin from a small module of ours (spec.localModule.source) on top of pinned modules:
 * go.mod is made from the pins. For a bridged Terraform provider (localModule.tfgen), the
 * bridge's tfgen then writes the schema and metadata the plugin embeds.
 */
function prepareLocalModule(spec, workDir) {
  const bridge = spec.localModule;
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.cpSync(path.join(root, bridge.source), workDir, { recursive: true });
  run("go", ["mod", "init", bridge.module], { cwd: workDir, env: goEnv() });
  editGoMod(workDir, { requires: bridge.requires, replace: bridge.replace });
  if (!bridge.tfgen) return;
  const tfgen = path.join(workDir, "tfgen");
  goBuild({ ...spec, package: bridge.tfgen }, workDir, tfgen);
  const pluginDir = path.join(workDir, spec.package);
  run(tfgen, ["schema", "--out", pluginDir], { cwd: workDir });
  // The plugin embeds the schema exactly as tfgen wrote it (tfgen already stamped the version).
  fs.copyFileSync(path.join(pluginDir, "schema.json"), path.join(pluginDir, "schema-embed.json"));
}

function goBuild(spec, workDir, output) {
  // versionVarValues: variables that each take their own value (Kubernetes' gitMajor, gitMinor, ...).
  const values = { ...spec.wrapperModule?.versionVarValues, ...spec.versionVarValues };
  const ldflags = ["-s", "-w", ...(spec.versionVars ?? []).map((v) => `-X ${v}=${spec.versionVarValue ?? spec.version}`),
    ...Object.entries(values).map(([v, value]) => `-X ${v}=${value}`)];
  const args = ["build", "-trimpath", "-ldflags", ldflags.join(" "), "-o", output];
  if (spec.tags) args.push("-tags", spec.tags);
  args.push(spec.package);
  run("go", args, { cwd: workDir, env: goEnv() });
}

/** The pinned binary: an installed one with the pinned version, the cached build, or a fresh build. */
function ensureBinary(spec) {
  const cached = cachedBinary(spec);
  const installed = findInstalled(spec);
  if (installed) {
    link(installed, spec.binary);
    return `installed ${installed}`;
  }
  const binDir = spec.wrapperModule ? testToolsBin : toolsBin;
  if (isExecutable(cached)) {
    link(cached, spec.binary, binDir);
    return `cached ${origin(spec)}`;
  }
  if (checkOnly) throw new StepError(`${spec.binary} ${spec.version} is neither installed nor cached`);
  // A wrapper module is shared by every binary built from it (removed after the group), so the
  // later builds reuse the first one's downloads and compiled packages.
  let workDir = path.join(cacheRoot, "src", `${spec.binary}-${spec.version}`);
  if (spec.wrapperModule) workDir = prepareWrapperModule(spec.wrapperModule);
  else if (spec.localModule) prepareLocalModule(spec, workDir);
  else prepareModule(spec, workDir);
  const tmpOut = `${cached}.tmp`;
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  goBuild(spec, workDir, tmpOut);
  fs.renameSync(tmpOut, cached); // only a complete build ever appears under the cached name
  if (!spec.wrapperModule) fs.rmSync(workDir, { recursive: true, force: true });
  link(cached, spec.binary, binDir);
  return `built ${origin(spec)}`;
}

/** Wrapper modules prepared by this run: work folder by wrapper, removed once the group is built. */
const preparedWrappers = new Map();

/**
 * A module of ours that only requires pinned modules and builds their main packages
 * (versions.json testTools.wrappers): go.mod from the pins, the staging replaces of
 * wrapper.stagingOf turned into published versions, a tools.go importing every package built
 * from it, then `go mod tidy`. Prepared once per run and shared by the binaries built from it.
 */
function prepareWrapperModule(wrapper) {
  const key = createHash("sha256").update(JSON.stringify(wrapper)).digest("hex").slice(0, 10);
  const workDir = path.join(cacheRoot, "src", `wrapper-${wrapper.name}-${key}`);
  if (preparedWrappers.has(workDir)) return workDir;
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  run("go", ["mod", "init", wrapper.module], { cwd: workDir, env: goEnv() });
  fs.writeFileSync(path.join(workDir, "tools.go"), toolsGo(wrapper.packages));
  const replace = wrapper.stagingOf ? stagingReplaces(wrapper.stagingOf, wrapper.requires[wrapper.stagingOf], wrapper.stagingVersion) : {};
  editGoMod(workDir, { requires: wrapper.requires, replace });
  run("go", ["mod", "tidy"], { cwd: workDir, env: goEnv() });
  preparedWrappers.set(workDir, wrapper);
  return workDir;
}

/** A build-tagged file that imports the packages, so `go mod tidy` keeps what they need. */
function toolsGo(packages) {
  return `//go:build tools\n\n// Generated by toolchain/setup.mjs: the packages this wrapper module builds.\npackage tools\n\nimport (\n${packages.map((p) => `\t_ "${p}"\n`).join("")})\n`;
}

/**
 * The `X => ./staging/src/X` replaces of a module's go.mod (module zips leave those folders
 * out), each turned into the published module X at `version`.
 */
function stagingReplaces(module, moduleVersion, version) {
  const info = JSON.parse(run("go", ["mod", "download", "-json", `${module}@${moduleVersion}`], { env: goEnv(), cwd: os.tmpdir() }));
  if (info.Error) throw new StepError(`go mod download ${module}@${moduleVersion}: ${info.Error}`);
  const replaces = {};
  for (const line of fs.readFileSync(info.GoMod, "utf8").split("\n")) {
    const m = /^\s*(?:replace\s+)?(\S+)\s+=>\s+\.\/staging\/src\/(\S+)\s*$/.exec(line);
    if (m && m[1] === m[2]) replaces[m[1]] = `${m[1]}@${version}`;
  }
  if (!Object.keys(replaces).length) throw new StepError(`${module}@${moduleVersion} has no ./staging/src replaces in its go.mod`);
  return replaces;
}

/**
 * A test tool made of Debian packages (versions.json tools.*.debianPackages), for what the Go module
 * proxy cannot give: `apt-get download <package>=<version>` of each pinned version (apt-get refuses
 * a version its lists do not hold; the .deb's own Version field is checked too), `dpkg -x` of all
 * of them into one cache folder keyed by the pins, `ldd` of the executable with the unpacked
 * libraries (a library it still misses fails setup), and a wrapper script in .tools/test-bin.
 * Nothing is installed system-wide.
 */
function ensureDebianTool(spec) {
  const key = createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 10);
  const dir = path.join(cacheRoot, "debian", `${spec.linkAs}-${key}`);
  const tree = path.join(dir, "root");
  const wrapper = path.join(testToolsBin, spec.linkAs);
  let how = `cached ${path.relative(cacheRoot, dir)}`;
  if (!fs.existsSync(path.join(dir, ".complete"))) {
    if (checkOnly) throw new StepError(`${spec.linkAs}: the Debian packages ${Object.keys(spec.debianPackages).join(", ")} are not unpacked in the cache`);
    fs.rmSync(dir, { recursive: true, force: true });
    const debs = path.join(dir, "debs");
    fs.mkdirSync(debs, { recursive: true });
    const wanted = Object.entries(spec.debianPackages).map(([name, version]) => `${name}=${version}`);
    run("apt-get", ["download", ...wanted], { cwd: debs });
    for (const file of fs.readdirSync(debs).filter((f) => f.endsWith(".deb"))) {
      const deb = path.join(debs, file);
      const [name, version] = run("dpkg-deb", ["-f", deb, "Package", "Version"]).trim().split("\n").map((l) => l.replace(/^\w+: /, ""));
      if (spec.debianPackages[name] !== version) throw new StepError(`${file} is ${name} ${version}, not the pinned ${spec.debianPackages[name]}`);
      run("dpkg", ["-x", deb, tree]);
    }
    fs.rmSync(debs, { recursive: true, force: true });
    how = `apt-get download ${wanted.join(" ")}`;
  }
  const libDirs = debianLibDirs(tree);
  const executable = path.join(tree, spec.executable);
  const missing = run("ldd", [executable], { env: { ...process.env, LD_LIBRARY_PATH: libDirs.join(":") } })
    .split("\n").filter((l) => l.includes("not found")).map((l) => l.trim());
  if (missing.length) throw new StepError(`${spec.executable} still misses: ${missing.join("; ")} (add the Debian package that ships it to versions.json)`);
  fs.writeFileSync(path.join(dir, ".complete"), "");
  // The wrapper names every file relative to $tree, which TALOS_CLUSTER_DEBIAN_TREE may point at a
  // copy: the tests' sshd runs as an unprivileged user, who cannot read a cache under root's home.
  const rel = (file) => `$tree/${path.relative(tree, file)}`;
  const preloads = Object.entries(spec.preloadWhen ?? {}).map(([env, lib]) => {
    const found = libDirs.map((d) => path.join(d, lib)).find((f) => fs.existsSync(f));
    if (!found) throw new StepError(`${lib} is in none of ${libDirs.join(", ")}`);
    return `if [ -n "\${${env}:-}" ]; then export LD_PRELOAD="${rel(found)}\${LD_PRELOAD:+:\$LD_PRELOAD}"; fi\n`;
  });
  fs.mkdirSync(testToolsBin, { recursive: true });
  fs.rmSync(wrapper, { force: true });
  // exec with the absolute path: sshd re-executes itself from argv[0] and refuses a relative one.
  fs.writeFileSync(wrapper, `#!/bin/sh\n# Written by toolchain/setup.mjs from versions.json tools (Debian packages ${Object.entries(spec.debianPackages).map(([n, v]) => `${n} ${v}`).join(", ")}).\n`
    + `tree="\${TALOS_CLUSTER_DEBIAN_TREE:-${tree}}"\n`
    + `export LD_LIBRARY_PATH="${libDirs.map(rel).join(":")}\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"\n${preloads.join("")}exec "${rel(executable)}" "$@"\n`, { mode: 0o755 });
  return how;
}

/** The library folders of an unpacked Debian tree (multiarch: usr/lib/<triplet>, lib/<triplet>). */
function debianLibDirs(tree) {
  const dirs = [];
  for (const base of ["lib", "usr/lib"]) {
    const at = path.join(tree, base);
    if (!fs.existsSync(at)) continue;
    for (const entry of fs.readdirSync(at)) {
      const full = path.join(at, entry);
      if (/-linux-gnu/.test(entry) && fs.statSync(full).isDirectory()) dirs.push(full);
    }
  }
  return dirs;
}

/** The test-only binaries, each carrying its whole wrapper module (part of its cache key). */
function testToolSpecs() {
  const { wrappers, binaries } = pins.testTools;
  return Object.values(binaries).map((b) => {
    const packages = Object.values(binaries).filter((o) => o.wrapper === b.wrapper).map((o) => o.package);
    return { ...b, wrapperModule: { name: b.wrapper, ...wrappers[b.wrapper], packages } };
  });
}

/**
 * The engine takes the language host from beside the pulumi executable (resolved through links)
 * without a word; one found only on PATH gets a "from $PATH" warning. So our builds go beside
 * the built CLI: the options shim as pulumi-language-nodejs, the v3.68.0 host it starts as
 * pulumi-language-nodejs-host (see languageHostOptions in versions.json). An installed Pulumi's
 * own host is left as it is: it reads the runtime options itself.
 */
function languageHostBesidePulumi() {
  const name = pins.pulumi.languageHost.binary;
  const shimName = pins.pulumi.languageHostOptions.binary;
  const cli = fs.realpathSync(path.join(toolsBin, "pulumi"));
  const host = fs.realpathSync(path.join(toolsBin, name));
  const shim = fs.realpathSync(path.join(toolsBin, shimName));
  // Only beside the CLI: a second copy on PATH earns "using pulumi-language-nodejs from $PATH".
  for (const n of [name, shimName]) fs.rmSync(path.join(toolsBin, n), { force: true });
  const beside = path.join(path.dirname(cli), name);
  const hostBeside = path.join(path.dirname(cli), `${name}-host`);
  const target = (file) => { try { return fs.realpathSync(file); } catch { return undefined; } };
  const existing = target(beside);
  if (existing === shim && target(hostBeside) === host) return `beside ${path.dirname(cli)}`;
  const ours = (file) => file === undefined || file.startsWith(path.join(cacheRoot, "bin") + path.sep);
  if (!ours(existing)) return `pulumi's own ${beside}`;
  if (checkOnly) throw new StepError(`${name} (options shim) and ${name}-host are not beside ${cli}`);
  for (const [at, to] of [[hostBeside, host], [beside, shim]]) {
    fs.rmSync(at, { force: true }); // absent, a dangling link, or a link to an older build
    fs.symlinkSync(to, at);
  }
  return `linked beside ${path.dirname(cli)} (options shim + host)`;
}

/** The project's Pulumi home (scripts/env.sh uses the same default). */
function pulumiHome() {
  return process.env.PULUMI_HOME || path.join(root, ".pulumi-home");
}

/**
 * Installs a provider plugin into Pulumi's plugin cache the standard way
 * (`pulumi plugin install resource NAME VERSION --file BINARY`), so the engine loads it by its
 * exact version and prints no "from $PATH" warning. Plugins are kept out of .tools/bin.
 */
function installPlugin(spec) {
  const binary = fs.realpathSync(path.join(toolsBin, spec.binary));
  fs.rmSync(path.join(toolsBin, spec.binary), { force: true });
  const dir = path.join(pulumiHome(), "plugins", `resource-${spec.plugin}-v${spec.version}`);
  const installed = path.join(dir, spec.binary);
  const stamp = path.join(dir, ".talos-cluster-source");
  if (isExecutable(installed) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === binary) return `up to date in ${path.relative(root, dir) || dir}`;
  if (installed === binary) return `already the plugin cache's own (${dir})`;
  if (checkOnly) throw new StepError(`${spec.plugin} ${spec.version} is not installed in ${pulumiHome()}`);
  // `pulumi plugin install --file` keeps a plugin already installed at that version, so a
  // rebuilt plugin (our own sources changed) would never reach the engine: remove it first.
  fs.rmSync(dir, { recursive: true, force: true });
  run(path.join(toolsBin, "pulumi"), ["plugin", "install", "resource", spec.plugin, spec.version, "--file", binary], {
    env: { ...process.env, PULUMI_HOME: pulumiHome(), PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" },
  });
  if (!isExecutable(installed)) throw new StepError(`pulumi plugin install did not create ${installed}`);
  fs.writeFileSync(stamp, binary);
  return `pulumi plugin install resource ${spec.plugin} ${spec.version}`;
}

/** Where a binary comes from, for the setup log. */
function origin(spec) {
  const requires = spec.localModule?.requires ?? spec.wrapperModule?.requires;
  if (!requires) return `${spec.module}@${spec.moduleVersion}`;
  const from = Object.entries(requires).map(([m, v]) => `${m}@${v}`).join(" + ");
  return spec.wrapperModule ? `${spec.package} from ${from}` : from;
}

/** Where a build of this spec is cached; our own sources added to a module are part of the key. */
function cachedBinary(spec) {
  const ours = [...Object.keys(spec.addFiles ?? {}), ...(spec.localModule ? filesUnder(spec.localModule.source) : [])];
  const hash = createHash("sha256").update(JSON.stringify(spec));
  for (const from of ours) hash.update(from).update(fs.readFileSync(path.join(root, from)));
  const key = ours.length || spec.wrapperModule ? `-${hash.digest("hex").slice(0, 10)}` : "";
  const from = spec.moduleVersion ?? (spec.wrapperModule ? "wrapper" : "local");
  return path.join(cacheRoot, "bin", `${spec.binary}-${spec.version}-${from}${key}`, spec.binary);
}

function filesUnder(dir) {
  return fs.readdirSync(path.join(root, dir), { recursive: true })
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(path.join(root, f)).isFile())
    .sort();
}

/** A binary from a normal Pulumi install, accepted only when it reports the pinned version. */
function findInstalled(spec) {
  if (process.env.TALOS_CLUSTER_IGNORE_INSTALLED === "1" || !spec.installed) return undefined;
  if (spec.installed === "pulumi-cli") {
    const found = which("pulumi");
    if (!found) return undefined;
    const res = spawnSync(found, ["version"], { encoding: "utf8" });
    return res.stdout?.trim() === `v${spec.version}` ? found : undefined;
  }
  if (spec.installed === "beside-pulumi-cli") {
    const cli = which("pulumi");
    const candidate = cli && path.join(path.dirname(fs.realpathSync(cli)), spec.binary);
    const cliVersion = cli && spawnSync(cli, ["version"], { encoding: "utf8" }).stdout?.trim();
    return candidate && cliVersion === `v${pins.pulumi.version}` && isExecutable(candidate) ? candidate : undefined;
  }
  if (spec.installed === "plugin-cache") {
    const home = process.env.PULUMI_HOME || path.join(os.homedir(), ".pulumi");
    const candidate = path.join(home, "plugins", `resource-${spec.plugin}-v${spec.version}`, spec.binary);
    return isExecutable(candidate) ? candidate : undefined;
  }
  return undefined;
}

/** The generated Node.js SDK of a provider that has none on the npm registry. */
function ensureGeneratedSdk(provider, spec) {
  const target = path.join(root, spec.sdkDir);
  // Keyed by the plugin build it is generated from and by the generator's version.
  const cacheDir = path.join(cacheRoot, "sdks", `${path.basename(path.dirname(cachedBinary(spec)))}-gen-${pins.pulumi.version}`);
  if (!fs.existsSync(path.join(cacheDir, "package.json"))) {
    if (checkOnly) throw new StepError(`the ${spec.npm} SDK is not generated yet`);
    generateSdk(spec, cacheDir);
  }
  // The SDK's package.json is the same for every build of one plugin version, so the copy is
  // stamped with the cache entry it came from: a rebuilt plugin (new schema) gets its new SDK.
  const stampFile = path.join(target, ".generated-from");
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === cacheDir) {
    return `up to date ${spec.sdkDir}`;
  }
  fs.rmSync(target, { recursive: true, force: true });
  fs.cpSync(cacheDir, target, { recursive: true });
  fs.writeFileSync(stampFile, cacheDir);
  return `copied to ${spec.sdkDir}`;
}

function generateSdk(spec, cacheDir) {
  const work = `${cacheDir}.work`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const schemaFile = path.join(work, "schema.json");
  // Ask the built provider for its schema through the engine, exactly as `pulumi package add` does.
  const schema = run(path.join(toolsBin, "pulumi"), ["package", "get-schema", cachedBinary(spec)], {
    env: pulumiEnv(work),
  });
  fs.writeFileSync(schemaFile, schema);
  const src = path.join(work, "src");
  run(path.join(toolsBin, "gen-nodejs-sdk"), [schemaFile, src]);
  const compiler = ensureSdkCompiler();
  // The generated sources resolve @pulumi/pulumi from their folder upward.
  fs.symlinkSync(compiler.nodeModules, path.join(work, "node_modules"));
  run(process.execPath, [compiler.tsc, "-p", src]);
  // Ship the compiled package only. @pulumi/pulumi becomes a peer dependency so the project's
  // single copy is used (a second copy breaks resource registration).
  const pkg = JSON.parse(fs.readFileSync(path.join(src, "package.json"), "utf8"));
  const out = path.join(work, "out");
  fs.cpSync(path.join(src, "bin"), out, { recursive: true });
  pkg.version = spec.version;
  pkg.peerDependencies = { "@pulumi/pulumi": `^${pins.pulumi.version}` };
  delete pkg.dependencies?.["@pulumi/pulumi"];
  delete pkg.devDependencies;
  delete pkg.scripts;
  pkg.main = "index.js";
  pkg.types = "index.d.ts";
  fs.writeFileSync(path.join(out, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.renameSync(out, cacheDir);
  fs.rmSync(work, { recursive: true, force: true });
}

/** TypeScript and @pulumi/pulumi, installed once into the cache, to compile generated SDKs. */
function ensureSdkCompiler() {
  const dir = path.join(cacheRoot, "sdk-compiler", `ts-${pins.node.typescript}-pulumi-${pins.pulumi.version}`);
  const nodeModules = path.join(dir, "node_modules");
  const tsc = path.join(nodeModules, "typescript", "bin", "tsc");
  if (!fs.existsSync(tsc)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "sdk-compiler", private: true }));
    run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", `typescript@${pins.node.typescript}`,
      `@pulumi/pulumi@${pins.pulumi.version}`, `@types/node@${pins.node.typesNode}`], { cwd: dir });
  }
  return { tsc, nodeModules };
}

/** Environment for running the toolchain's own pulumi without touching the user's state. */
function pulumiEnv(home) {
  return {
    ...process.env,
    PATH: `${toolsBin}${path.delimiter}${process.env.PATH}`,
    PULUMI_HOME: path.join(home, ".pulumi-home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
}

function checkPackageJson() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const want = { "@pulumi/pulumi": pins.pulumi.version };
  for (const [name, spec] of Object.entries(pins.providers)) {
    want[spec.npm] = spec.sdkDir ? `file:${spec.sdkDir}` : spec.version;
  }
  const wrong = Object.entries(want).filter(([name, version]) => pkg.dependencies?.[name] !== version);
  if (wrong.length) {
    throw new StepError(`package.json disagrees with toolchain/versions.json: ${wrong.map(([n, v]) => `${n} should be ${v} (is ${pkg.dependencies?.[n]})`).join("; ")}`);
  }
  return `${Object.keys(want).length} pins agree`;
}

function ensureNodeModules() {
  const lock = fs.readFileSync(path.join(root, "package-lock.json"));
  const sdkStamps = Object.values(pins.providers)
    .filter((p) => p.sdkDir)
    .map((p) => fs.readFileSync(path.join(root, p.sdkDir, "package.json"), "utf8"));
  const digest = createHash("sha256").update(lock).update(sdkStamps.join("\n")).digest("hex");
  const stampFile = path.join(root, "node_modules", ".talos-cluster-setup");
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === digest) return "up to date";
  if (checkOnly) throw new StepError("node_modules is missing or stale");
  run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root });
  fs.writeFileSync(stampFile, digest);
  return "npm ci";
}

function checkNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  const [wantMajor, wantMinor] = pins.node.minimum.split(".").map(Number);
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    throw new StepError(`Node.js ${process.versions.node} is older than ${pins.node.minimum}, which @pulumi/pulumi ${pins.pulumi.version} needs`);
  }
  return `node ${process.versions.node}`;
}

/**
 * What the linked talosctl itself reports (`version --client --short`: `Talos vX.Y.Z` under
 * `Client:`): the day-2 steps refuse a talosctl below the cluster's minor, so setup shows it.
 */
function talosctlClientVersion() {
  const out = run(path.join(toolsBin, "talosctl"), ["version", "--client", "--short"]);
  const reported = /Talos (v\S+)/.exec(out)?.[1];
  const want = pins.tools.talosctl.versionVarValue;
  if (reported !== want) throw new StepError(`.tools/bin/talosctl reports ${reported ?? "no version"} (\`talosctl version --client --short\`), not the pinned ${want}`);
  return `Talos ${reported}`;
}

const started = Date.now();
step("node", checkNode);
const binaries = testToolsOnly ? [] : [pins.pulumi.cli, pins.pulumi.languageHost, pins.pulumi.languageHostOptions, pins.pulumi.sdkGenerator,
  ...Object.values(pins.providers), ...Object.values(pins.tools ?? {})].filter((b) => b && b.binary);
const testBinaries = withTestTools ? testToolSpecs() : [];
const needsGo = [...binaries, ...testBinaries].some((b) => !findInstalled(b) && !isExecutable(cachedBinary(b)));
if (needsGo && !checkOnly) step("go toolchain", checkGo);
if (!testToolsOnly) {
  step("package.json pins", checkPackageJson);
  for (const spec of binaries) step(spec.binary, () => ensureBinary(spec));
  if (pins.tools?.talosctl) step("talosctl version --client", talosctlClientVersion);
  step("language host beside pulumi", languageHostBesidePulumi);
  for (const [name, spec] of Object.entries(pins.providers)) {
    if (spec.sdkDir) step(`${spec.npm} SDK`, () => ensureGeneratedSdk(name, spec));
  }
  for (const spec of Object.values(pins.providers)) step(`plugin ${spec.plugin} ${spec.version}`, () => installPlugin(spec));
  step("node_modules", ensureNodeModules);
}
// Each wrapper module is its own step (its downloads and go mod tidy), so that every binary's
// step shows that binary's own build time.
const wrappersToPrepare = new Map(testBinaries.filter((b) => !isExecutable(cachedBinary(b))).map((b) => [b.wrapper, b.wrapperModule]));
if (!checkOnly) for (const [name, wrapper] of wrappersToPrepare) step(`module ${name} (tests only)`, () => `${prepareWrapperModule(wrapper)}`);
for (const spec of testBinaries) step(`${spec.binary} (tests only)`, () => ensureBinary(spec));
if (withTestTools) {
  for (const spec of Object.values(pins.tools ?? {}).filter((t) => t.debianPackages)) step(`${spec.linkAs} (tests only, Debian)`, () => ensureDebianTool(spec));
}
for (const dir of preparedWrappers.keys()) fs.rmSync(dir, { recursive: true, force: true });
if (withChartSource && !checkOnly) {
  const { fillChartSource } = await import("./chart-source.mjs");
  step("chart source .tools/charts", () => fillChartSource(path.join(root, ".tools", "charts"), goEnv()));
}
console.log(`setup: done in ${((Date.now() - started) / 1000).toFixed(1)}s (cache ${cacheRoot})`);
