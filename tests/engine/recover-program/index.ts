// The restore step of components/talos on its own: one control plane on a loopback address, a
// fake talosconfig, the snapshot path from stack config. The engine test puts a recording
// talosctl stand-in first on PATH.
import * as pulumi from "@pulumi/pulumi";
import { EtcdRecovery } from "./components/talos/etcd-recovery";
import { recoverySource } from "./config/backup";

const config = new pulumi.Config("lab");

new EtcdRecovery("lab-recover", {
  // Another address stands for a replaced first control plane (README, "Replacing the first control plane").
  node: config.get("node") ?? "127.0.0.21",
  ...recoverySource(config.require("snapshot")),
  timeout: "1m",
  talosconfig: pulumi.secret("fake-talosconfig-SECRET-7f3a"),
  after: [],
});
