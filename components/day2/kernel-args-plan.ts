// Kernel-argument changes (seed 000's vga=792, seed 001's "needs an upgrade or a real shutdown,
// not a kexec reboot"), as a power-cycled upgrade to the image the node already runs. Pure:
// tests compare the exact command lines.
//
// Why after the config rollout: during an upgrade Talos writes the boot entry from the node's
// ACTIVE machine config (siderolabs/talos v1.12.0 internal/pkg/install/install.go, the
// extraKernelArgs it hands the installer), so the node must hold the config with the new
// arguments before it is upgraded. Why a power cycle: a kexec boot shows the new arguments in
// /proc/cmdline without what only a real boot does (seed 000: the video mode of vga=792).
import { ClusterMembers, gateCommands, OsTarget, osUpgradeCommands, prelude, q, UpgradeNode } from "./upgrade-plan";

/**
 * What a kernel-args step prints last, and so keeps in its state (stdout): the kernel args the
 * node has had since a real boot (its creation's boot media, or a power-cycled upgrade).
 */
export const KERNEL_ARGS_RECORD = "kernel args since a real boot: ";

/** The record line for a set of kernel args, e.g. `kernel args since a real boot: [vga=792]`. */
export function kernelArgsRecord(args: readonly string[]): string {
  return `${KERNEL_ARGS_RECORD}[${args.join(" ")}]`;
}

/** Reads the record from the step's previous stdout (PULUMI_COMMAND_STDOUT) into $recorded: empty when there is none. */
export const READ_RECORD = `recorded="$(printf '%s\\n' "\${PULUMI_COMMAND_STDOUT:-}" | sed -n ${q(`s/^${KERNEL_ARGS_RECORD}//p`)} | tail -n 1)"`;

/** What a node's kernel args should be, and how to reach it. */
export interface KernelArgsTarget {
  /** Every kernel arg the node's config layers and the schematic ask for, in order, each once. */
  readonly kernelArgs: readonly string[];
  /** The installer the node runs (the cluster's target): the power cycle reinstalls it. */
  readonly installerImage: string;
  readonly timeout: string;
  readonly members: ClusterMembers;
}

/**
 * After the power-cycled upgrade, every target arg must be on the node's /proc/cmdline; else the
 * step fails before it writes its record, so the next `up` tries again.
 */
export function cmdlineCheck(node: UpgradeNode, args: readonly string[]): string[] {
  if (!args.length) return [];
  return [
    `cmdline=" $(talosctl -n ${node.address} read /proc/cmdline | tr '\\n' ' ') "`,
    ...args.map(
      (a) =>
        `case "$cmdline" in *${q(` ${a} `)}*) ;; *) echo ${q(`${node.name} booted without the kernel arg ${a} (its /proc/cmdline:`)}"$cmdline"${q(`): the install did not take it; on UEFI (systemd-boot) installs Talos takes kernel args from the Image Factory schematic, so set it in imageFactory.extraKernelArgs`)} >&2; exit 1;; esac`,
    ),
  ];
}

/**
 * The script a node's kernel-args step runs when its args change: skipped when the record holds
 * them; else the installer it runs, reinstalled with a power cycle, the new args checked on
 * /proc/cmdline, the cluster's health gate (Talos cordons, drains and uncordons the node itself),
 * and only then the new record.
 */
export function kernelArgsScript(node: UpgradeNode, target: KernelArgsTarget): string {
  const args = `[${target.kernelArgs.join(" ")}]`;
  // legacy: the installer gets the active config's args (GRUB); the image carries them too (UKI)
  const upgrade: OsTarget = { talosVersion: "", schematicId: "", installerImage: target.installerImage, legacy: target.kernelArgs.length > 0, timeout: target.timeout, members: target.members };
  // forfeit leadership (control planes) and the upgrade; the gates once the args are checked
  const gates = gateCommands(node, target.members, target.timeout);
  const commands = osUpgradeCommands(node, upgrade, "powercycle").slice(0, -gates.length);
  return [
    prelude(["talosctl", "kubectl"], target.installerImage.slice(target.installerImage.lastIndexOf(":") + 1)),
    READ_RECORD,
    `if [ "$recorded" = ${q(args)} ]; then echo ${q(`${node.name} has had ${args} since a real boot; skipped`)}; echo ${q(kernelArgsRecord(target.kernelArgs))}; exit 0; fi`,
    `echo ${q(`${node.name}: kernel args `)}"\${recorded:-[unknown]}"${q(` -> ${args}: reinstalling ${target.installerImage} with a power cycle`)}`,
    ...commands,
    ...cmdlineCheck(node, target.kernelArgs),
    ...gates,
    `echo ${q(kernelArgsRecord(target.kernelArgs))}`,
  ].join("\n");
}

/**
 * What a node's kernel-args step records when created with its node. Talos's install ends in a
 * kexec into the installed system, so only the args the boot media (the Image Factory ISO)
 * booted with count; the others take effect at the node's next kernel-args change.
 */
export function recordInstalled(nodeName: string, kernelArgs: readonly string[], bootMediaArgs: readonly string[]): string {
  const real = kernelArgs.filter((a) => bootMediaArgs.includes(a));
  return [`echo ${q(`${nodeName}: kernel args installed at creation`)}`, `echo ${q(kernelArgsRecord(real))}`].join("\n");
}
