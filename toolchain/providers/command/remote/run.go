package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	p "github.com/pulumi/pulumi-go-provider"
	"golang.org/x/crypto/ssh"
)

// Environment variables carrying the previous stdout/stderr (same names as upstream).
const (
	envPreviousStdout = "PULUMI_COMMAND_STDOUT"
	envPreviousStderr = "PULUMI_COMMAND_STDERR"
)

// errorOutputTail caps how much of the command's combined output goes into an error.
const errorOutputTail = 8 << 10

// run executes command in one SSH session. out holds the previous stdout/stderr on entry and the
// new ones on success. A non-zero exit returns an error with the exit status and the tail of the
// combined output. The connection (with its secrets) never appears in a message.
func run(ctx context.Context, command string, in CommandInputs, out *CommandOutputs) error {
	if in.Connection == nil || deref(in.Connection.Host, "") == "" {
		return errNoHost
	}
	client, closeClient, err := in.Connection.dial(ctx)
	if err != nil {
		return err
	}
	defer closeClient()
	// A cancelled deployment closes the connection, which ends session.Run.
	stop := context.AfterFunc(ctx, closeClient)
	defer stop()

	session, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("opening an SSH session on %s: %w", in.Connection.endpoint(), err)
	}
	defer session.Close()

	if in.Environment != nil {
		names := make([]string, 0, len(*in.Environment))
		for k := range *in.Environment {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if err := session.Setenv(k, (*in.Environment)[k]); err != nil {
				return fmt.Errorf("the SSH server refused environment variable %s (%w): it passes only what sshd_config AcceptEnv lists; "+
					"alternatively put `%s=...` in front of the command", k, err, k)
			}
		}
	}
	if in.AddPreviousOutputInEnv == nil || *in.AddPreviousOutputInEnv {
		for k, v := range map[string]string{envPreviousStdout: out.Stdout, envPreviousStderr: out.Stderr} {
			if v == "" {
				continue
			}
			if err := session.Setenv(k, v); err != nil {
				p.GetLogger(ctx).Warningf("the SSH server refused %s (not in its AcceptEnv); the command runs without it", k)
			}
		}
	}
	if in.Stdin != nil && len(*in.Stdin) > 0 {
		session.Stdin = strings.NewReader(*in.Stdin)
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
	session.Stdout = io.MultiWriter(stdoutWs...)
	session.Stderr = io.MultiWriter(stderrWs...)

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

	err = session.Run(command)
	_ = logW.Close()
	<-logged

	if err != nil {
		tail := combined.String()
		if len(tail) > errorOutputTail {
			tail = "...\n" + tail[len(tail)-errorOutputTail:]
		}
		var missing *ssh.ExitMissingError
		if errors.As(err, &missing) {
			err = fmt.Errorf("%w (the connection to %s ended before the command reported its exit status)", err, in.Connection.endpoint())
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return fmt.Errorf("%w: running %q on %s:\n%s", err, command, in.Connection.endpoint(), tail)
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
