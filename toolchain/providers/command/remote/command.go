// Package remote is command:remote:Command of this project's `command` plugin: a shell command run
// over SSH on create/update/delete, with the property names, defaults and CRUD semantics of the
// official plugin, so the published @pulumi/command 1.2.1 SDK (remote.Command, types.input.remote.
// ConnectionArgs) talks to it unchanged.
//
// Behaviour follows upstream pulumi/pulumi-command (provider/pkg/provider/remote: command.go,
// commandController.go, commandOutputs.go, connection.go, read at v1.2.1-136-g010bd8e0; no code
// copied): the connection is a secret; `triggers` replace the resource; update runs `update`, or
// `create` when `update` is unset; delete runs `delete` with the connection recorded in state;
// environment variables go through SSH "env" requests, which the server must accept (AcceptEnv),
// and a refused one fails the command; the previous stdout/stderr are offered as
// PULUMI_COMMAND_STDOUT/STDERR and only a warning is logged when the server refuses them; dialing
// retries up to dialErrorLimit failed attempts (-1: no limit), perDialTimeout seconds each.
// Not implemented: remote.CopyFile and remote.CopyToRemote.
package remote

import (
	"context"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Command is command:remote:Command.
type Command struct{}

func (c *Command) Annotate(a infer.Annotator) {
	a.Describe(&c, "A command to run on a remote host over SSH (subset of the official pulumi-command plugin).")
}

// Logging mirrors upstream's command:remote:Logging enum.
type Logging string

const (
	LogStdout          Logging = "stdout"
	LogStderr          Logging = "stderr"
	LogStdoutAndStderr Logging = "stdoutAndStderr"
	NoLogging          Logging = "none"
)

func (Logging) Values() []infer.EnumValue[Logging] {
	return []infer.EnumValue[Logging]{
		{Name: string(LogStdout), Value: LogStdout, Description: "Capture stdout in logs but not stderr"},
		{Name: string(LogStderr), Value: LogStderr, Description: "Capture stderr in logs but not stdout"},
		{Name: string(LogStdoutAndStderr), Value: LogStdoutAndStderr, Description: "Capture stdout and stderr in logs"},
		{Name: string(NoLogging), Value: NoLogging, Description: "Capture no logs"},
	}
}

func (l *Logging) logStdout() bool { return l == nil || *l == LogStdout || *l == LogStdoutAndStderr }
func (l *Logging) logStderr() bool { return l == nil || *l == LogStderr || *l == LogStdoutAndStderr }

// CommandInputs are the inputs @pulumi/command's remote.Command sends.
type CommandInputs struct {
	Triggers               *[]any             `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	Create                 *string            `pulumi:"create,optional"`
	Update                 *string            `pulumi:"update,optional"`
	Delete                 *string            `pulumi:"delete,optional"`
	Stdin                  *string            `pulumi:"stdin,optional"`
	Logging                *Logging           `pulumi:"logging,optional"`
	Connection             *Connection        `pulumi:"connection" provider:"secret"`
	Environment            *map[string]string `pulumi:"environment,optional"`
	AddPreviousOutputInEnv *bool              `pulumi:"addPreviousOutputInEnv,optional"`
}

func (c *CommandInputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Triggers, "The resource will be replaced if any of these values change.")
	a.Describe(&c.Create, "The command to run on create; also run on update when `update` is not set.")
	a.Describe(&c.Update, "The command to run on update; if empty, `create` runs again.")
	a.Describe(&c.Delete, "The command to run on delete.")
	a.Describe(&c.Stdin, "Pass a string to the command's process as standard in.")
	a.Describe(&c.Logging, "Which of stdout/stderr are logged. Defaults to both.")
	a.Describe(&c.Connection, "The parameters with which to connect to the remote host.")
	a.Describe(&c.Environment, "Additional environment variables for the command, sent as SSH env requests: "+
		"the server must accept them (sshd_config AcceptEnv), otherwise the command fails.")
	a.Describe(&c.AddPreviousOutputInEnv, "Offer the previous stdout/stderr as PULUMI_COMMAND_STDOUT and "+
		"PULUMI_COMMAND_STDERR (a warning when the server refuses them). Defaults to true.")
}

// CommandOutputs is the checkpointed state: every input plus stdout/stderr.
type CommandOutputs struct {
	CommandInputs
	Stdout string `pulumi:"stdout"`
	Stderr string `pulumi:"stderr"`
}

func (c *CommandOutputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Stdout, "The standard output of the command's process")
	a.Describe(&c.Stderr, "The standard error of the command's process")
}

// Check applies the schema defaults and refuses a connection that could never authenticate or a
// privateKey that does not parse, so the mistake shows at preview, not after ten dial attempts.
func (*Command) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[CommandInputs], error) {
	in, failures, err := infer.DefaultCheck[CommandInputs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 || in.Connection == nil {
		return infer.CheckResponse[CommandInputs]{Inputs: in, Failures: failures}, err
	}
	if req.NewInputs.Get("connection").HasComputed() {
		return infer.CheckResponse[CommandInputs]{Inputs: in, Failures: failures}, nil
	}
	if msg := in.Connection.checkKey(); msg != "" {
		failures = append(failures, p.CheckFailure{Property: "connection.privateKey", Reason: msg})
	}
	return infer.CheckResponse[CommandInputs]{Inputs: in, Failures: failures}, nil
}

// Create runs `create` (nothing during preview).
func (*Command) Create(ctx context.Context, req infer.CreateRequest[CommandInputs]) (infer.CreateResponse[CommandOutputs], error) {
	state := CommandOutputs{CommandInputs: req.Inputs}
	id, err := resource.NewUniqueHex(req.Name, 8, 0)
	if err != nil {
		return infer.CreateResponse[CommandOutputs]{}, err
	}
	if req.DryRun || req.Inputs.Create == nil {
		return infer.CreateResponse[CommandOutputs]{ID: id, Output: state}, nil
	}
	err = run(ctx, *req.Inputs.Create, req.Inputs, &state)
	return infer.CreateResponse[CommandOutputs]{ID: id, Output: state}, err
}

// Update runs `update`, or `create` when `update` is not set. Nothing runs during preview.
func (*Command) Update(ctx context.Context, req infer.UpdateRequest[CommandInputs, CommandOutputs]) (infer.UpdateResponse[CommandOutputs], error) {
	state := CommandOutputs{CommandInputs: req.Inputs, Stdout: req.State.Stdout, Stderr: req.State.Stderr}
	if req.DryRun {
		return infer.UpdateResponse[CommandOutputs]{Output: state}, nil
	}
	cmd := req.Inputs.Create
	if req.Inputs.Update != nil {
		cmd = req.Inputs.Update
	}
	if cmd == nil {
		return infer.UpdateResponse[CommandOutputs]{Output: state}, nil
	}
	err := run(ctx, *cmd, req.Inputs, &state)
	return infer.UpdateResponse[CommandOutputs]{Output: state}, err
}

// Delete runs `delete` if set, over the connection recorded in state.
func (*Command) Delete(ctx context.Context, req infer.DeleteRequest[CommandOutputs]) (infer.DeleteResponse, error) {
	if req.State.Delete == nil {
		return infer.DeleteResponse{}, nil
	}
	state := req.State
	return infer.DeleteResponse{}, run(ctx, *state.Delete, state.CommandInputs, &state)
}

var (
	_ infer.CustomCheck[CommandInputs]                  = (*Command)(nil)
	_ infer.CustomUpdate[CommandInputs, CommandOutputs] = (*Command)(nil)
	_ infer.CustomDelete[CommandOutputs]                = (*Command)(nil)
)
