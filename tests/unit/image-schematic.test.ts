import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { installerImage, isoUrl, schematicId, schematicYaml } from "../../components/talos/image-schematic";
import { factoryAnswers, installMocks } from "../support/mocks";

type Module = typeof import("../../components/talos/image-schematic");
type TalosSdk = typeof import("@pulumiverse/talos");

describe("Image Factory schematic", () => {
  it("gives seed 000's schematic ID for the qemu guest agent", () => {
    const spec = { extensions: ["siderolabs/qemu-guest-agent"], extraKernelArgs: [] };
    assert.equal(schematicYaml(spec), "customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/qemu-guest-agent\n");
    assert.equal(schematicId(spec), "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515");
  });

  it("gives the factory's well-known ID for an empty schematic", () => {
    const spec = { extensions: [], extraKernelArgs: [] };
    assert.equal(schematicYaml(spec), "customization: {}\n");
    assert.equal(schematicId(spec), "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba");
  });

  it("gives the factory's own test IDs (siderolabs/image-factory pkg/schematic/schematic_test.go TestID config1)", () => {
    assert.equal(schematicId({ extensions: [], extraKernelArgs: ["noapic", "nolapic"] }), "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c");
  });

  it("gives the homelab nodes' schematic: seed 000's guest agent and the Synology console's vga=792", () => {
    // before: ce4c9805… (the cluster's, without kernel args); README "Kernel arguments"
    assert.equal(schematicId({ extensions: ["siderolabs/qemu-guest-agent"], extraKernelArgs: ["vga=792"] }), "9c8161f27dc8c2dc2b33642151260c69bcfa293826b413defc6c843dfcdc8ca2");
  });

  it("writes kernel args before extensions, as the factory's struct orders them", () => {
    const spec = { extensions: ["siderolabs/iscsi-tools", "siderolabs/qemu-guest-agent"], extraKernelArgs: ["vga=792", "net.ifnames=0"] };
    const yaml = "customization:\n    extraKernelArgs:\n        - vga=792\n        - net.ifnames=0\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/iscsi-tools\n            - siderolabs/qemu-guest-agent\n";
    assert.equal(schematicYaml(spec), yaml);
    assert.equal(schematicId(spec), createHash("sha256").update(yaml).digest("hex"));
  });

  it("names the installer image and ISO of the factory", () => {
    assert.equal(installerImage("https://factory.talos.dev", "abc", "v1.10.6"), "factory.talos.dev/installer/abc:v1.10.6");
    assert.equal(isoUrl("https://factory.talos.dev/", "abc", "v1.10.6"), "https://factory.talos.dev/image/abc/v1.10.6/metal-amd64.iso");
    assert.equal(installerImage("http://127.0.0.1:8080", "abc", "v1.10.6"), "127.0.0.1:8080/installer/abc:v1.10.6");
  });

  describe("registration", () => {
    afterEach(() => factoryAnswers(undefined));

    async function register() {
      const recorder = installMocks();
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ImageSchematic } = require("../../components/talos/image-schematic") as Module;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const talos = require("@pulumiverse/talos") as TalosSdk;
      const provider = new talos.Provider("p", {});
      const image = new ImageSchematic("img", {
        spec: { extensions: ["siderolabs/qemu-guest-agent"], extraKernelArgs: [] },
        talosVersion: "v1.10.6",
        factoryUrl: "https://factory.talos.dev",
        provider,
      });
      return { recorder, image };
    }

    it("resolves once the factory answers our ID", async () => {
      const { image, recorder } = await register();
      assert.equal(await (image.ready as any).promise(), "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515");
      assert.equal(recorder.ofType("talos:imageFactory/schematic:Schematic").length, 1);
      assert.equal(image.registration.length, 1);
    });

    it("fails clearly when the factory answers another ID", async () => {
      factoryAnswers("0000");
      const { image } = await register();
      await assert.rejects((image.ready as any).promise(), {
        message:
          "Image Factory https://factory.talos.dev registered the schematic as 0000, but this program computed ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515; " +
          "machine configs would name an installer image that does not exist, so nothing is applied",
      });
    });
  });
});
