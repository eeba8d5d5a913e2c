import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { clusterPatches, nodePatch, toYaml } from "../../components/talos/patches";
import { secretsBundleProblems, secretsBundleYaml } from "../../components/talos/secrets-bundle";
import { fakeMachineSecrets } from "../support/mocks";

const reservations = { systemMemory: "512Mi", kubeMemory: "512Mi", evictionMemory: "256Mi" };

describe("cluster patches", () => {
  it("turns off Talos's CNI and kube-proxy for Cilium", () => {
    const [network] = clusterPatches({ cni: "cilium", podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12", allowSchedulingOnControlPlanes: false, installerImage: "img", kubeletReservations: reservations });
    assert.deepEqual(network, {
      cluster: { network: { podSubnets: ["10.244.0.0/16"], serviceSubnets: ["10.96.0.0/12"], cni: { name: "none" } }, proxy: { disabled: true } },
    });
  });

  it("keeps Talos's flannel and kube-proxy otherwise", () => {
    const patches = clusterPatches({ cni: "flannel", podCidr: "172.20.0.0/16", serviceCidr: "172.21.0.0/16", allowSchedulingOnControlPlanes: true, installerImage: "img", kubeletReservations: reservations });
    assert.deepEqual(patches, [
      { cluster: { network: { podSubnets: ["172.20.0.0/16"], serviceSubnets: ["172.21.0.0/16"] } } },
      { machine: { features: { kubePrism: { enabled: true, port: 7445 } } } },
      { cluster: { allowSchedulingOnControlPlanes: true } },
      { machine: { install: { image: "img" } } },
      { machine: { kubelet: { extraConfig: { systemReserved: { memory: "512Mi" }, kubeReserved: { memory: "512Mi" }, evictionHard: { "memory.available": "256Mi" } } } } },
    ]);
  });
});

describe("kubelet eviction thresholds", () => {
  // The kubelet's default hard-eviction thresholds on Linux nodes, as documented in
  // https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/#hard-eviction-thresholds
  // ("memory.available<100Mi, nodefs.available<10%, imagefs.available<15%, nodefs.inodesFree<5%,
  // imagefs.inodesFree<5%"); the same page says that setting any one of them leaves the others unset.
  const KUBELET_DEFAULTS: Record<string, string> = {
    "memory.available": "100Mi",
    "nodefs.available": "10%",
    "nodefs.inodesFree": "5%",
    "imagefs.available": "15%",
    "imagefs.inodesFree": "5%",
  };
  const file = path.join(__dirname, "..", "..", "patches", "all", "20-kubelet-eviction.yaml");
  const fromFile = YAML.parse(fs.readFileSync(file, "utf8")).machine.kubelet.extraConfig.evictionHard as Record<string, string>;
  const fromStack = (clusterPatches({ cni: "cilium", podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12", allowSchedulingOnControlPlanes: false, installerImage: "img", kubeletReservations: reservations }).at(-1) as any).machine.kubelet.extraConfig
    .evictionHard as Record<string, string>;

  it("every threshold we do not set from the stack is the kubelet's documented default", () => {
    assert.deepEqual(fromStack, { "memory.available": "256Mi" }); // seed 000, cluster.kubeletReservations.evictionMemory
    const { "memory.available": _memory, ...defaults } = KUBELET_DEFAULTS;
    assert.deepEqual(fromFile, defaults);
  });

  it("together (Talos merges the two maps key by key) they name every documented threshold", () => {
    assert.deepEqual(Object.keys(fromFile).filter((k) => k in fromStack), []);
    assert.deepEqual(Object.keys({ ...fromStack, ...fromFile }).sort(), Object.keys(KUBELET_DEFAULTS).sort());
  });
});

describe("node patch", () => {
  it("sets only hostname and install disk for a DHCP node without labels", () => {
    assert.deepEqual(nodePatch({ name: "w-1", role: "worker", installDisk: "/dev/vda", labels: {}, taints: {} }), {
      machine: { network: { hostname: "w-1" }, install: { disk: "/dev/vda" } },
    });
  });

  it("adds static addressing, labels and taints", () => {
    const patch = nodePatch({
      name: "cp-1",
      role: "controlplane",
      installDisk: "/dev/nvme0n1",
      network: { interface: "eth0", addresses: ["192.168.1.32/24"], gateway: "192.168.1.1", nameservers: ["1.1.1.1"] },
      labels: { "topology.kubernetes.io/zone": "rack-1" },
      taints: { dedicated: "storage:NoSchedule" },
    });
    assert.deepEqual(patch, {
      machine: {
        network: {
          hostname: "cp-1",
          interfaces: [{ interface: "eth0", dhcp: false, addresses: ["192.168.1.32/24"], routes: [{ network: "0.0.0.0/0", gateway: "192.168.1.1" }] }],
          nameservers: ["1.1.1.1"],
        },
        install: { disk: "/dev/nvme0n1" },
        nodeLabels: { "topology.kubernetes.io/zone": "rack-1" },
        nodeTaints: { dedicated: "storage:NoSchedule" },
      },
    });
    assert.deepEqual(YAML.parse(toYaml(patch)), patch);
  });

  it("gives a control plane every label and taint, Talos applying them with admin credentials", () => {
    const patch = nodePatch({ name: "cp-1", role: "controlplane", installDisk: "/dev/sda", labels: { "node-role.kubernetes.io/ingress": "" }, taints: { dedicated: "ingress:NoSchedule" } });
    assert.deepEqual(patch, {
      machine: { network: { hostname: "cp-1" }, install: { disk: "/dev/sda" }, nodeLabels: { "node-role.kubernetes.io/ingress": "" }, nodeTaints: { dedicated: "ingress:NoSchedule" } },
    });
  });

  it("leaves a worker's restricted labels and every taint to the Kubernetes API (NodeRestriction refuses its kubelet)", () => {
    const patch = nodePatch({
      name: "database-1",
      role: "worker",
      installDisk: "/dev/sda",
      labels: { "node-role.kubernetes.io/database": "", "topology.kubernetes.io/zone": "rack-1", "example.com/role": "db", "node.kubernetes.io/pool": "db" },
      taints: { role: "database:NoSchedule" },
    });
    assert.deepEqual(patch, {
      machine: { network: { hostname: "database-1" }, install: { disk: "/dev/sda" }, nodeLabels: { "topology.kubernetes.io/zone": "rack-1", "example.com/role": "db", "node.kubernetes.io/pool": "db" } },
    });
  });

  it("writes no nodeLabels for a worker whose labels all go through the API", () => {
    assert.deepEqual(nodePatch({ name: "w-1", role: "worker", installDisk: "/dev/sda", labels: { "node-role.kubernetes.io/worker": "" }, taints: {} }), {
      machine: { network: { hostname: "w-1" }, install: { disk: "/dev/sda" } },
    });
  });
});

describe("secrets bundle", () => {
  it("writes the talosctl gen secrets layout", () => {
    assert.deepEqual(YAML.parse(secretsBundleYaml(fakeMachineSecrets("x"))), {
      cluster: { id: "x-cluster-id", secret: "x-cluster-secret" },
      secrets: { bootstraptoken: "x-bootstrap", secretboxencryptionsecret: "x-secretbox" },
      trustdinfo: { token: "x-trustd" },
      certs: {
        etcd: { crt: "x-etcd-crt", key: "x-etcd-key" },
        k8s: { crt: "x-k8s-crt", key: "x-k8s-key" },
        k8saggregator: { crt: "x-aggregator-crt", key: "x-aggregator-key" },
        k8sserviceaccount: { key: "x-sa-key" },
        os: { crt: "x-os-crt", key: "x-os-key" },
      },
    });
    assert.deepEqual(secretsBundleProblems(secretsBundleYaml(fakeMachineSecrets("x"))), []);
  });

  it("names what is wrong with a file that is not a bundle", () => {
    assert.deepEqual(secretsBundleProblems("- a\n- b\n"), ["is not a talosctl secrets file: missing cluster, secrets, trustdinfo, certs"]);
    assert.deepEqual(secretsBundleProblems("just text"), ["is not a talosctl secrets file (expected a YAML mapping)"]);
    assert.match(secretsBundleProblems("a: [")[0]!, /^is not YAML: /);
  });
});
