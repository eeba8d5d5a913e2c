// `pulumi preview` of the committed example stacks through the real engine, offline: a preview
// of a new cluster never dials a node (configs are unknown until the secrets exist, and the
// health check waits for the kubeconfig), so no traffic leaves the machine.
import assert from "node:assert/strict";
import { engineProject, EngineProject } from "./harness";

// The committed stacks' encryption salt belongs to the demo passphrase of scripts/env.sh.
const DEMO_PASSPHRASE = "talos-cluster-local-default";

describe("engine: preview of the committed example stacks", function () {
  this.timeout(300_000);
  let project: EngineProject;

  before(() => {
    project = engineProject(DEMO_PASSPHRASE);
  });
  after(() => project?.cleanup());

  const core = ["talos:machine:Secrets", "talos:imageFactory:Schematic", "talos:machine:ConfigurationApply", "talos:machine:Bootstrap", "talos:cluster:Kubeconfig"];
  const addonCore = ["pulumi:providers:kubernetes", "kubernetes:yaml/v2:ConfigFile", "kubernetes:core/v1:Namespace", "kubernetes:helm.sh/v3:Release", "command:local:Command"];
  const cases = [
    {
      name: "homelab",
      // with the membership step, a kernel-args step per node, the nodes' own schematic (vga=792),
      // the control plane's resize gate and the boot-from-disk switches (a component and one per guest)
      creates: 47,
      types: [...core, ...addonCore, "pulumi:providers:synology", "synology:vmm:Image", "synology:vmm:Guest", "synology:vmm:BootFromDisk"],
      names: ["tales-addons-prometheus-operator-crds-manifests", "tales-addons-cilium-release", "talos-control-1-upgrade", "tales-upgrades-kubernetes", "talos-worker-1-rollout", "tales-synology-image", "tales-synology-talos-control-1", "tales-synology-talos-worker-1"],
    },
    // the stack of the e2e workflow (.github/workflows/e2e.yml), on talosctl's QEMU bridge addresses
    // (no prometheus-operator CRDs: their manifest is a GitHub release asset)
    { name: "e2e", creates: 32, types: [...core, ...addonCore.filter((t) => t !== "kubernetes:yaml/v2:ConfigFile")], names: ["e2e-addons-cilium-release", "e2e-cp-1-apply", "e2e-worker-1-upgrade", "e2e-upgrades-kubernetes"] },
    {
      name: "deepthought",
      // with Linkerd Viz and the Contour Gateway (provisioner files, GatewayClass, Gateway) of seed 003,
      // and the DataDiskWipes component with one wipe step per data disk (5)
      creates: 72,
      types: [
        ...core,
        ...addonCore,
        "tls:index:PrivateKey",
        "tls:index:SelfSignedCert",
        "tls:index:CertRequest",
        "tls:index:LocallySignedCert",
        "kubernetes:yaml/v2:ConfigGroup",
        "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
        "kubernetes:gateway.networking.k8s.io/v1:Gateway",
      ],
      names: [
        "deepthought-addons-gateway-api-crds-manifests",
        "deepthought-addons-cilium-release",
        "deepthought-addons-rook-ceph-operator",
        "deepthought-addons-rook-ceph-cluster",
        "deepthought-addons-linkerd-crds",
        "deepthought-addons-linkerd-control-plane",
        "deepthought-addons-linkerd-viz-release",
        "deepthought-addons-gateway-class",
        "deepthought-addons-gateway-gateway",
        "deepthought-disk-wipes",
        "deepthought-worker-2-wipe-sdb",
      ],
    },
    {
      // a dummy token (encrypted in the stack file): previews create nothing and call no API, the
      // Talos snapshot (built by up: no hetzner.image) included
      name: "hetzner",
      creates: 73,
      types: [
        ...core,
        ...addonCore,
        "talos-cluster:addons:HcloudCloudControllerManager",
        "kubernetes:core/v1:Secret",
        "pulumi:providers:hcloud",
        "hcloud:index:Network",
        "hcloud:index:NetworkSubnet",
        "hcloud:index:PlacementGroup",
        "hcloud:index:Firewall",
        "hcloud:index:LoadBalancer",
        "hcloud:index:LoadBalancerNetwork",
        "hcloud:index:LoadBalancerService",
        "hcloud:index:LoadBalancerTarget",
        "hcloud:index:Server",
        "talos-cluster:hetzner:TalosSnapshots",
        "hcloudimage:index:TalosSnapshot",
      ],
      names: ["oxide-hetzner-talos-amd64", "oxide-cp-1", "oxide-cp-3", "oxide-worker-2", "oxide-hetzner-api-targets", "oxide-cp-1-apply", "oxide-addons-hcloud-ccm-secret", "oxide-addons-hcloud-ccm-release"],
    },
    {
      // LAN nodes beside Hetzner pools (README, "Hybrid clusters"): servers only for the pools, no
      // cloud controller; the LAN nodes' applies dial their own addresses (never in a preview)
      name: "hybrid",
      // 73 of the hetzner stack, one LAN node more (+5: its Node, apply, upgrade, rollout and
      // kernel-args steps), one server less (-1), no cloud controller (-3: component, Secret,
      // release), and the dedicated worker (+15: the same 5 node steps, the DedicatedServers
      // component, Robot provider, rescue key and its Robot copy, the server's Robot name,
      // firewall and rescue reset, and the three SSH steps: UUID check, image write, reboot)
      creates: 89,
      types: [
        ...core,
        ...addonCore,
        "pulumi:providers:hcloud",
        "hcloud:index:Network",
        "hcloud:index:Firewall",
        "hcloud:index:LoadBalancer",
        "hcloud:index:LoadBalancerTarget",
        "hcloud:index:Server",
        "talos-cluster:hetzner:DedicatedServers",
        "pulumi:providers:robot",
        "robot:index:SshKey",
        "robot:index:ServerName",
        "robot:index:Firewall",
        "robot:index:RescueReset",
        "command:remote:Command",
      ],
      names: ["metal-worker-1-smbios-uuid", "metal-worker-1-write-image", "metal-worker-1-reboot", "metal-worker-1-apply", "hybrid-cp-fsn1-1", "hybrid-cp-nbg1-1", "hybrid-worker-2", "hybrid-hetzner-api-targets", "hybrid-cp-fsn1-1-apply", "lan-cp-1-apply", "lan-worker-1-upgrade"],
      absent: [/hcloud:index:Server +lan-/, / hybrid-addons-hcloud-ccm-release create/],
    },
  ];
  for (const { name, creates, types, names, absent = [] } of cases as { name: string; creates: number; types: string[]; names: string[]; absent?: RegExp[] }[]) {
    it(`previews ${name} offline, listing every resource and add-on`, async () => {
      const stack = await project.committedStack(name);
      const preview = await stack.preview({ color: "never" });
      assert.deepEqual(preview.changeSummary, { create: creates });
      // Plugins come from Pulumi's plugin cache and the language host from beside the CLI.
      assert.doesNotMatch(`${preview.stdout}${preview.stderr}`, /from \$PATH/);
      for (const type of types) assert.match(preview.stdout, new RegExp(`\\+ +${type} `), `${type} missing from the ${name} preview`);
      for (const resource of names) assert.match(preview.stdout, new RegExp(` ${resource} create`), `${resource} missing from the ${name} preview`);
      // e.g. no Hetzner server for a LAN node
      for (const pattern of absent) assert.doesNotMatch(preview.stdout, pattern, `${pattern} in the ${name} preview`);
    });
  }
});
