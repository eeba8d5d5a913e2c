// Hetzner dedicated servers (hetzner.dedicated) made ready for the ordinary Talos apply, seed 002's
// way: the server's Robot name set to the node's (its main address checked first), the Robot
// firewall (admin networks only for 22/6443/50000), the rescue system with the stack's SSH key
// and a hardware reset, then over SSH: the SMBIOS UUID checked, the Factory `metal` image written
// to the install disk with dd, a reboot into Talos maintenance mode. The nodes then get their
// config like any other, at their address (TalosCluster's `machines` hand-off).
//
// Robot calls go through our robot plugin (toolchain/providers/robot); the SSH steps are
// @pulumi/command's remote.Command, whose dial retries wait for the rescue system to come up.
// The scripts are components/hetzner/rescue-scripts.ts (passed in as `scripts`).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import * as robot from "@talos-cluster/robot";
import type { DedicatedServerSettings, VSwitchSettings } from "../../config/hetzner";
import { robotFirewallRules } from "./robot-firewall";

/** The rescue scripts (components/hetzner/rescue-scripts.ts), pure functions of their inputs. */
export interface RescueScripts {
  verifySmbiosUuidScript(server: string): string;
  writeImageScript(args: { imageUrl: string; disk: string }): string;
  rebootScript(): string;
}

export interface DedicatedServersArgs {
  readonly clusterName: string;
  /** The servers (config/hetzner.ts hetzner.dedicated). Required. */
  readonly servers: readonly DedicatedServerSettings[];
  /** The vSwitch they join. Default: none. */
  readonly vswitch?: VSwitchSettings;
  /** Networks allowed to reach SSH, the Kubernetes API and the Talos API (hetzner.adminCidrs). Required. */
  readonly adminCidrs: readonly string[];
  /** The Robot webservice: its address and the webservice login (secrets). Required. */
  readonly robot: { readonly url: string; readonly user: pulumi.Input<string>; readonly password: pulumi.Input<string> };
  /** The image to write: Image Factory base URL, schematic id and Talos version. Required. */
  readonly image: { readonly factoryUrl: string; readonly schematicId: pulumi.Input<string>; readonly talosVersion: string };
  readonly scripts: RescueScripts;
  /** Resources the rescue boot waits for (the schematic registered with the factory). Default: none. */
  readonly after?: readonly pulumi.Resource[];
  /** Known once every node's config passed Talos's validation: no server is wiped before. Default: none. */
  readonly checked?: pulumi.Output<unknown>;
  /** How many times SSH is dialled while a server boots into rescue, each dial up to 10 s. Default: 90 (a hardware reset into rescue takes minutes). */
  readonly sshDialAttempts?: number;
  /** Where SSH is reached (tests: a loopback sshd). Default: port 22 as root. */
  readonly ssh?: { readonly port?: number; readonly user?: string };
}

/** The Factory's raw metal image of a schematic and version (siderolabs/image-factory: /image/<schematic>/<version>/<asset>). */
export function metalImageUrl(factoryUrl: string, schematicId: string, talosVersion: string, architecture: "amd64" | "arm64"): string {
  return `${factoryUrl.replace(/\/+$/, "")}/image/${schematicId}/${talosVersion}/metal-${architecture}.raw.xz`;
}

/** How a server is named in the UUID check's support text: its Robot number and node name. */
export const serverLabel = (s: Pick<DedicatedServerSettings, "serverNumber" | "name">) => `#${s.serverNumber} (${s.name})`;

export class DedicatedServers extends pulumi.ComponentResource {
  public readonly provider: robot.Provider;
  /** The stack's rescue key: its private half only in encrypted state. */
  public readonly sshKey: tls.PrivateKey;
  public readonly robotKey: robot.SshKey;
  public readonly firewalls: Readonly<Record<string, robot.Firewall>>;
  public readonly rescues: Readonly<Record<string, robot.RescueReset>>;
  public readonly vswitchMembers: Readonly<Record<string, robot.VSwitchServer>>;
  /** Per server: its Robot name (the node name, as Hetzner's cloud controller matches them), its address checked. */
  public readonly names: Readonly<Record<string, robot.ServerName>>;
  /** Per server: the SSH steps in order (UUID check, image write, reboot). */
  public readonly steps: Readonly<Record<string, readonly command.remote.Command[]>>;
  /** What each node's apply waits for: its reboot into maintenance mode. */
  public readonly nodeAfter: Readonly<Record<string, readonly pulumi.Resource[]>>;

  constructor(name: string, args: DedicatedServersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:hetzner:DedicatedServers", name, {}, opts);
    this.provider = new robot.Provider(
      `${name}-robot`,
      { url: args.robot.url, user: pulumi.secret(args.robot.user), password: pulumi.secret(args.robot.password) },
      { parent: this },
    );
    const provider = this.provider;
    this.sshKey = new tls.PrivateKey(`${name}-rescue-key`, { algorithm: "ED25519" }, { parent: this });
    this.robotKey = new robot.SshKey(`${name}-rescue-key`, { name: `${args.clusterName}-rescue`, publicKey: this.sshKey.publicKeyOpenssh }, { parent: this, provider });
    const rules = robotFirewallRules(args.adminCidrs, args.vswitch?.subnet);
    const firewalls: Record<string, robot.Firewall> = {};
    const rescues: Record<string, robot.RescueReset> = {};
    const members: Record<string, robot.VSwitchServer> = {};
    const names: Record<string, robot.ServerName> = {};
    const steps: Record<string, command.remote.Command[]> = {};
    for (const server of args.servers) {
      const n = server.serverNumber;
      // First of all: Robot's main address must be the one the SSH steps dial, or they would
      // wipe another machine; the name is what Hetzner's cloud controller matches the Node by.
      names[server.name] = new robot.ServerName(`${server.name}-name`, { serverNumber: n, name: server.name, address: server.address }, { parent: this, provider });
      firewalls[server.name] = new robot.Firewall(`${server.name}-firewall`, { serverNumber: n, whitelistHos: true, input: rules.map((r) => ({ ...r })) }, { parent: this, provider });
      if (args.vswitch) {
        members[server.name] = new robot.VSwitchServer(`${server.name}-vswitch`, { vswitchId: args.vswitch.id, serverNumber: n }, { parent: this, provider });
      }
      // Only behind its firewall (the rescue system's SSH and, later, the maintenance API face
      // the admin networks only), and with the image it will write registered at the factory.
      const rescue = new robot.RescueReset(
        `${server.name}-rescue`,
        { serverNumber: n, authorizedKey: this.robotKey.fingerprint, os: pulumi.all(["linux", args.checked]).apply(([os]) => os), resetType: "hw" },
        { parent: this, provider, dependsOn: [names[server.name]!, firewalls[server.name]!, ...(members[server.name] ? [members[server.name]!] : []), ...(args.after ?? [])] },
      );
      rescues[server.name] = rescue;
      // Secret as a whole: it carries the private key.
      const connection = pulumi.secret({
        host: server.address,
        port: args.ssh?.port ?? 22,
        user: args.ssh?.user ?? "root",
        privateKey: this.sshKey.privateKeyOpenssh,
        dialErrorLimit: args.sshDialAttempts ?? 90,
        perDialTimeout: 10,
      });
      // Each step runs once per rescue boot: a later Talos version or key changes nothing here
      // (upgrades go through the day-2 steps; a running Talos node has no SSH). A new server
      // number replaces the rescue, and its id re-runs every step.
      const once = { parent: this, ignoreChanges: ["create", "connection"] };
      const uuid = new command.remote.Command(
        `${server.name}-smbios-uuid`,
        { connection, create: args.scripts.verifySmbiosUuidScript(serverLabel(server)), triggers: [rescue.id] },
        { ...once, dependsOn: [rescue] },
      );
      const imageUrl = pulumi.output(args.image.schematicId).apply((id) => metalImageUrl(args.image.factoryUrl, id, args.image.talosVersion, server.architecture));
      const write = new command.remote.Command(
        `${server.name}-write-image`,
        { connection, create: imageUrl.apply((url) => args.scripts.writeImageScript({ imageUrl: url, disk: server.installDisk })), triggers: [rescue.id] },
        { ...once, dependsOn: [uuid] },
      );
      const reboot = new command.remote.Command(
        `${server.name}-reboot`,
        { connection, create: args.scripts.rebootScript(), triggers: [rescue.id] },
        { ...once, dependsOn: [write] },
      );
      steps[server.name] = [uuid, write, reboot];
    }
    this.firewalls = firewalls;
    this.rescues = rescues;
    this.vswitchMembers = members;
    this.names = names;
    this.steps = steps;
    this.nodeAfter = Object.fromEntries(Object.entries(steps).map(([node, s]) => [node, [s[s.length - 1]!]]));
    this.registerOutputs({});
  }
}
