// The program's DedicatedServers component, as index.ts builds it, for one server whose rescue
// system is a real sshd on loopback: the Robot calls go to the fake Robot webservice, the SSH steps
// to the sshd, the image comes from a loopback stand-in of the Image Factory. Only one thing differs
// from production: the "disk" is a regular file, which the image write accepts only when told
// (rescue-scripts.ts allowRegularFileForTests; the script is otherwise the production one).
import * as pulumi from "@pulumi/pulumi";
import { DedicatedServers } from "./components/hetzner/dedicated-servers";
import * as rescueScripts from "./components/hetzner/rescue-scripts";
import type { DedicatedServerSettings } from "./config/hetzner";

const test = new pulumi.Config("dedicated-test");
const servers = test.requireObject<DedicatedServerSettings[]>("servers");
const dedicated = new DedicatedServers("tales-dedicated", {
  clusterName: "tales",
  servers,
  adminCidrs: ["127.0.0.0/8"],
  robot: { url: test.require("robotUrl"), user: test.requireSecret("robotUser"), password: new pulumi.Config("talos-cluster").requireSecret("robotPassword") },
  image: { factoryUrl: test.require("factoryUrl"), schematicId: "s", talosVersion: "v1.14.1" },
  scripts: { ...rescueScripts, writeImageScript: (a) => rescueScripts.writeImageScript({ ...a, allowRegularFileForTests: true }) },
  ssh: { port: Number(test.require("sshPort")), user: test.require("sshUser") },
  sshDialAttempts: 5,
});
export const uuids = Object.fromEntries(Object.entries(dedicated.steps).map(([n, s]) => [n, s[0]!.stdout]));
export const ready = Object.fromEntries(Object.entries(dedicated.nodeAfter).map(([n, r]) => [n, r.length]));
