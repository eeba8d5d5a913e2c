// command:remote:Command through the published @pulumi/command SDK, against the real sshd of
// tests/support/openssh.ts (tests/engine/remote-command.engine.test.ts drives it). Config
// namespace `rt`: the connection, and `scenario`:
//   lifecycle - two commands with stdin, environment, triggers, update and delete, whose every run
//               appends a line to $HOME/<name>.log on the server;
//   failures  - a command that fails, an environment variable the server does not accept, and
//               a closed port (each fails the up with its own message).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

const cfg = new pulumi.Config("rt");
const connection = {
  host: cfg.require("host"),
  port: cfg.requireNumber("port"),
  user: cfg.require("user"),
  privateKey: cfg.requireSecret("privateKey"),
  hostKey: cfg.require("hostKey"),
};

if (cfg.require("scenario") === "lifecycle") {
  // Two commands alike but for their triggers: when `value` and `trigger` change together,
  // "updated" (fixed trigger) runs `update` and "replaced" is replaced.
  const outputs: Record<string, pulumi.Output<string>> = {};
  for (const name of ["updated", "replaced"]) {
    const probe = new command.remote.Command(name, {
      connection,
      triggers: [name === "replaced" ? cfg.require("trigger") : "fixed"],
      stdin: "from stdin",
      environment: { TALOS_TEST_VALUE: cfg.require("value") },
      create: `echo "create $TALOS_TEST_VALUE" >> ${name}.log; echo "created $(cat) $TALOS_TEST_VALUE"; echo "to stderr" >&2`,
      update: `echo "update $TALOS_TEST_VALUE previous=$PULUMI_COMMAND_STDOUT" >> ${name}.log; echo "updated $TALOS_TEST_VALUE"`,
      delete: `echo "delete previous=$PULUMI_COMMAND_STDOUT" >> ${name}.log`,
    });
    outputs[`${name}Stdout`] = probe.stdout;
    outputs[`${name}Stderr`] = probe.stderr;
  }
  module.exports = outputs;
} else {
  new command.remote.Command("fails", { connection, create: "echo partial output; echo something broke >&2; exit 7" });
  new command.remote.Command("env-refused", { connection, environment: { NOT_ACCEPTED: "x" }, create: "true" });
  new command.remote.Command("closed-port", {
    connection: { ...connection, host: cfg.require("closedHost"), port: cfg.requireNumber("closedPort"), dialErrorLimit: 2 },
    create: "true",
  });
}
