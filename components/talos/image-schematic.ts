import * as pulumi from "@pulumi/pulumi";
import * as talos from "@pulumiverse/talos";
import { createHash } from "node:crypto";

/** What goes into the image: the part of the Image Factory's schematic this project uses. */
export interface SchematicSpec {
  /** Official extensions, in the order they are listed. */
  readonly extensions: readonly string[];
  /** Kernel arguments baked into boot media and installer. */
  readonly extraKernelArgs: readonly string[];
}

/**
 * The schematic YAML exactly as the Image Factory marshals it (gopkg.in/yaml.v3: 4-space
 * indent, omitempty fields left out), so its SHA-256 is the factory's schematic ID. The
 * config schema only admits extension names and kernel args that YAML writes unquoted.
 */
export function schematicYaml(spec: SchematicSpec): string {
  const lines: string[] = [];
  if (spec.extraKernelArgs.length) {
    lines.push("    extraKernelArgs:", ...spec.extraKernelArgs.map((a) => `        - ${a}`));
  }
  if (spec.extensions.length) {
    lines.push("    systemExtensions:", "        officialExtensions:", ...spec.extensions.map((e) => `            - ${e}`));
  }
  return lines.length ? `customization:\n${lines.join("\n")}\n` : "customization: {}\n";
}

/** The content-addressed schematic ID, computed locally so previews show the real installer image. */
export function schematicId(spec: SchematicSpec): string {
  return createHash("sha256").update(schematicYaml(spec)).digest("hex");
}

/** The factory host (no scheme) that serves installer images, e.g. factory.talos.dev. */
function factoryHost(factoryUrl: string): string {
  return new URL(factoryUrl).host;
}

export function installerImage(factoryUrl: string, id: string, talosVersion: string): string {
  return `${factoryHost(factoryUrl)}/installer/${id}:${talosVersion}`;
}

export function isoUrl(factoryUrl: string, id: string, talosVersion: string): string {
  return `${factoryUrl.replace(/\/+$/, "")}/image/${id}/${talosVersion}/metal-amd64.iso`;
}

export interface ImageSchematicArgs {
  /** Extensions and kernel args. Required. */
  readonly spec: SchematicSpec;
  /** Talos version of the installer image and ISO. Required. */
  readonly talosVersion: string;
  /** Image Factory base URL. Required (the stack config defaults it to https://factory.talos.dev). */
  readonly factoryUrl: string;
  /** Register the schematic with the factory. Default: true. */
  readonly register?: boolean;
  /** The Talos provider to register with. Required. */
  readonly provider: talos.Provider;
}

/**
 * The Image Factory schematic: its ID computed locally, and registered with the factory before
 * any node is applied. `ready` resolves once the factory confirmed the same ID, and fails
 * clearly if it ever answers another one.
 */
export class ImageSchematic extends pulumi.ComponentResource {
  public readonly id: string;
  public readonly installerImage: string;
  public readonly isoUrl: string;
  /** Resources a node apply must wait for (the factory registration, when enabled). */
  public readonly registration: pulumi.Resource[];
  /** The verified schematic ID; rejects if the factory's ID differs from ours. */
  public readonly ready: pulumi.Output<string>;

  constructor(name: string, args: ImageSchematicArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-cluster:talos:ImageSchematic", name, {}, opts);
    this.id = schematicId(args.spec);
    this.installerImage = installerImage(args.factoryUrl, this.id, args.talosVersion);
    this.isoUrl = isoUrl(args.factoryUrl, this.id, args.talosVersion);

    if (args.register ?? true) {
      const schematic = new talos.imagefactory.Schematic(
        `${name}-schematic`,
        { schematic: schematicYaml(args.spec) },
        { parent: this, provider: args.provider },
      );
      this.registration = [schematic];
      const expected = this.id;
      this.ready = schematic.id.apply((factoryId) => {
        if (factoryId !== expected) {
          throw new Error(
            `Image Factory ${args.factoryUrl} registered the schematic as ${factoryId}, but this program computed ${expected}; ` +
              "machine configs would name an installer image that does not exist, so nothing is applied",
          );
        }
        return factoryId;
      });
    } else {
      this.registration = [];
      this.ready = pulumi.output(this.id);
    }

    this.registerOutputs({ id: this.id, installerImage: this.installerImage, isoUrl: this.isoUrl, ready: this.ready });
  }
}
