// Package command is this project's own `command` resource plugin. It implements the two
// resources the project uses, command:local:Command and command:remote:Command (package
// remote), with the same tokens, property names, defaults and CRUD semantics as the official
// plugin, so the unmodified @pulumi/command npm SDK (1.2.1) talks to it as it would to the
// official one.
//
// Why we implement it ourselves: the Go module proxy this project can reach serves no version
// of github.com/pulumi/pulumi-command/provider, but it does serve pulumi-go-provider, which
// is what the official plugin is built on. Only the subset this project needs is here:
// local.Command without assetPaths/archivePaths (rejected with a clear error if set) and
// remote.Command. remote.CopyFile, remote.CopyToRemote and the local.run function are not
// implemented.
package command

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"talos-cluster.local/providers/command/remote"
)

// Version is set at build time from toolchain/versions.json; it is what the plugin reports
// and must equal the version the npm SDK requests (@pulumi/command's package.json version).
var Version = "0.0.0-dev"

// Provider returns the `command` provider. Resources are declared in this Go package
// (`command`), so ModuleMap renames that module to `local`: the token becomes
// command:local:Command, which is what @pulumi/command's local.Command registers.
func Provider() p.Provider {
	return infer.Provider(infer.Options{
		Resources: []infer.InferredResource{
			infer.Resource(&Command{}),
			// Declared in Go package `remote`: token command:remote:Command.
			infer.Resource(&remote.Command{}),
		},
		ModuleMap: map[tokens.ModuleName]tokens.ModuleName{"command": "local"},
	})
}

// Environment variables carrying the previous stdout/stderr (same names as upstream).
const (
	envPreviousStdout = "PULUMI_COMMAND_STDOUT"
	envPreviousStderr = "PULUMI_COMMAND_STDERR"
)

// errorOutputTail caps how much of the command's combined output goes into an error.
const errorOutputTail = 8 << 10

// Command is command:local:Command.
type Command struct{}

// Logging mirrors upstream's command:local:Logging enum.
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

// CommandInputs are the inputs @pulumi/command's local.Command sends (same names as upstream).
type CommandInputs struct {
	// Any change to triggers replaces the resource (upstream: provider:"replaceOnChanges").
	Triggers *[]any   `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	Create   *string  `pulumi:"create,optional"`
	Update   *string  `pulumi:"update,optional"`
	Delete   *string  `pulumi:"delete,optional"`
	Stdin    *string  `pulumi:"stdin,optional"`
	Logging  *Logging `pulumi:"logging,optional"`
	// Default ["/bin/sh", "-c"] is applied at run time, as upstream does (not a schema default).
	Interpreter            *[]string          `pulumi:"interpreter,optional"`
	Dir                    *string            `pulumi:"dir,optional"`
	Environment            *map[string]string `pulumi:"environment,optional"`
	AssetPaths             *[]string          `pulumi:"assetPaths,optional"`
	ArchivePaths           *[]string          `pulumi:"archivePaths,optional"`
	AddPreviousOutputInEnv *bool              `pulumi:"addPreviousOutputInEnv,optional"`
}

func (c *CommandInputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Triggers, "The resource will be updated (or replaced) if any of these values change.")
	a.Describe(&c.Create, "The command to run on create; also run on update when `update` is not set.")
	a.Describe(&c.Update, "The command to run on update; if empty, `create` runs again.")
	a.Describe(&c.Delete, "The command to run on delete.")
	a.Describe(&c.Stdin, "Pass a string to the command's process as standard in.")
	a.Describe(&c.Logging, "Which of stdout/stderr are logged. Defaults to both.")
	a.Describe(&c.Interpreter, "The program and arguments to run the command. Defaults to [\"/bin/sh\", \"-c\"].")
	a.Describe(&c.Dir, "The directory to run the command from; it must exist.")
	a.Describe(&c.Environment, "Additional environment variables available to the command's process.")
	a.Describe(&c.AssetPaths, "Not supported by this plugin (setting it is an error).")
	a.Describe(&c.ArchivePaths, "Not supported by this plugin (setting it is an error).")
	a.Describe(&c.AddPreviousOutputInEnv, "Inject the previous stdout/stderr as "+
		"PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR. Defaults to true.")
	a.SetDefault(&c.AddPreviousOutputInEnv, true)
}

// CommandOutputs is the checkpointed state: every input plus stdout/stderr. Upstream's
// `assets`/`archive` outputs are omitted because their inputs are not supported.
type CommandOutputs struct {
	CommandInputs
	Stdout string `pulumi:"stdout"`
	Stderr string `pulumi:"stderr"`
}

func (c *CommandOutputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Stdout, "The standard output of the command's process")
	a.Describe(&c.Stderr, "The standard error of the command's process")
}

func (c *Command) Annotate(a infer.Annotator) {
	a.Describe(&c, "A local command to be executed (subset of the official pulumi-command plugin).")
}

// Check applies the defaults and rejects the inputs this plugin does not implement, so a
// program using them fails at preview rather than silently behaving differently.
func (*Command) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[CommandInputs], error) {
	in, failures, err := infer.DefaultCheck[CommandInputs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[CommandInputs]{Inputs: in, Failures: failures}, err
	}
	for _, f := range []struct {
		name  string
		value *[]string
	}{{"assetPaths", in.AssetPaths}, {"archivePaths", in.ArchivePaths}} {
		name := f.name
		if (f.value != nil && len(*f.value) > 0) || req.NewInputs.Get(name).IsComputed() {
			failures = append(failures, p.CheckFailure{Property: name, Reason: name +
				" is not supported by this project's command plugin (toolchain/providers/command); " +
				"remove it or copy the files in the command itself"})
		}
	}
	return infer.CheckResponse[CommandInputs]{Inputs: in, Failures: failures}, nil
}

// Create runs `create` (nothing during preview).
func (*Command) Create(ctx context.Context, req infer.CreateRequest[CommandInputs]) (
	infer.CreateResponse[CommandOutputs], error,
) {
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

// Update runs `update`, or `create` when `update` is not set (upstream semantics: a change
// to any input other than triggers is an in-place update). Nothing runs during preview.
func (*Command) Update(ctx context.Context, req infer.UpdateRequest[CommandInputs, CommandOutputs]) (
	infer.UpdateResponse[CommandOutputs], error,
) {
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

// Delete runs `delete` if set, with the inputs recorded in state.
func (*Command) Delete(ctx context.Context, req infer.DeleteRequest[CommandOutputs]) (infer.DeleteResponse, error) {
	if req.State.Delete == nil {
		return infer.DeleteResponse{}, nil
	}
	state := req.State
	return infer.DeleteResponse{}, run(ctx, *state.Delete, state.CommandInputs, &state)
}

// run executes command through the interpreter. out holds the previous stdout/stderr on entry
// (exported to the process when addPreviousOutputInEnv is not false) and the new ones on
// success. A non-zero exit returns an error carrying the tail of the combined output.
func run(ctx context.Context, command string, in CommandInputs, out *CommandOutputs) error {
	args := []string{"/bin/sh", "-c"}
	if in.Interpreter != nil && len(*in.Interpreter) > 0 {
		args = append([]string{}, *in.Interpreter...)
	}
	args = append(args, command)

	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if in.Dir != nil {
		cmd.Dir = *in.Dir
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		cmd.Dir = wd
	}
	cmd.Env = os.Environ()
	if in.Environment != nil {
		for k, v := range *in.Environment {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	if in.AddPreviousOutputInEnv == nil || *in.AddPreviousOutputInEnv {
		if out.Stdout != "" {
			cmd.Env = append(cmd.Env, envPreviousStdout+"="+out.Stdout)
		}
		if out.Stderr != "" {
			cmd.Env = append(cmd.Env, envPreviousStderr+"="+out.Stderr)
		}
	}
	if in.Stdin != nil && len(*in.Stdin) > 0 {
		cmd.Stdin = strings.NewReader(*in.Stdin)
	}

	var stdout, stderr, combined bytes.Buffer
	combinedW := &lockedWriter{w: &combined}
	logR, logW := io.Pipe()
	stdoutWs := []io.Writer{&stdout, combinedW}
	if in.Logging.logStdout() {
		stdoutWs = append(stdoutWs, logW)
	}
	stderrWs := []io.Writer{&stderr, combinedW}
	if in.Logging.logStderr() {
		stderrWs = append(stderrWs, logW)
	}
	cmd.Stdout = io.MultiWriter(stdoutWs...)
	cmd.Stderr = io.MultiWriter(stderrWs...)

	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(logR)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.GetLogger(ctx).InfoStatus(sc.Text())
		}
		_, _ = io.Copy(io.Discard, logR)
	}()

	err := cmd.Run()
	_ = logW.Close()
	<-logged

	if err != nil {
		tail := combined.String()
		if len(tail) > errorOutputTail {
			tail = "...\n" + tail[len(tail)-errorOutputTail:]
		}
		return fmt.Errorf("%w: running %q:\n%s", err, command, tail)
	}
	out.Stdout = strings.TrimSuffix(stdout.String(), "\n")
	out.Stderr = strings.TrimSuffix(stderr.String(), "\n")
	return nil
}

// lockedWriter serialises the stdout and stderr copiers writing into one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

var (
	_ infer.CustomCheck[CommandInputs]                  = (*Command)(nil)
	_ infer.CustomUpdate[CommandInputs, CommandOutputs] = (*Command)(nil)
	_ infer.CustomDelete[CommandOutputs]                = (*Command)(nil)
)
