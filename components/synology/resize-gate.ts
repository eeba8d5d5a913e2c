// After a control plane's guest was resized (shut down, set, powered on), the next guest must not
// go down before etcd is whole again: a TCP answer on the Talos API port only says the machine
// booted. The gate asks Talos itself (`talosctl health`: etcd healthy on every control plane,
// members ⊆ control planes, apid and Kubernetes up), as the day-2 steps do.
import { type ClusterMembers, healthCommand, prelude, q } from "../day2/upgrade-plan";
import type { VmNode } from "./synology-vms";

/** The gate's scripts and the environment whose change runs it. Pure. */
export function resizeGateScripts(node: VmNode, members: ClusterMembers, timeout: string): { create: string; update: string; environment: Record<string, string> } {
  return {
    // A new guest has no cluster yet: its first boot is the node's install, gated by bootstrap.
    create: `echo ${q(`${node.name}: guest created, no resize to gate`)}`,
    update: [
      prelude(["talosctl"]),
      `echo ${q(`${node.name}: guest resized to ${node.vm.vcpus} vCPUs, ${node.vm.memoryMiB} MiB; waiting for etcd and the cluster through Talos`)}`,
      healthCommand(members, timeout),
    ].join("\n"),
    environment: { GUEST_VCPUS: String(node.vm.vcpus), GUEST_MEMORY_MIB: String(node.vm.memoryMiB) },
  };
}
