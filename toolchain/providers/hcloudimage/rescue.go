package hcloudimage

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// WriteImageScript is what the rescue system runs: the xz raw image streamed from the factory,
// decompressed and written to the disk (curl, xz and dd are in Hetzner's rescue system), then
// flushed. pipefail: a failed download must fail the build, not write a short image.
func WriteImageScript(url, disk string) string {
	return fmt.Sprintf("set -euo pipefail; curl -fsSL --retry 3 %s | xz -d | dd of=%s bs=4M conv=fsync status=none; sync", shellQuote(url), shellQuote(disk))
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeImage runs the script over SSH once the rescue system answers (it boots after the power
// on action, which Hetzner reports done before sshd listens). The host key is not checked: the
// rescue system makes a new one at each boot and Hetzner's API does not publish it; the
// connection carries no secret (the key is throwaway, the image public).
func writeImage(ctx context.Context, host string, port int, user string, signer ssh.Signer, script string) error {
	config := &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), //nolint:gosec // see above
		Timeout:         15 * time.Second,
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var client *ssh.Client
	var last error
	for client == nil {
		var err error
		client, err = ssh.Dial("tcp", addr, config)
		if err == nil {
			break
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("SSH to %s: %w (last: %v)", addr, ctx.Err(), last)
		case <-time.After(3 * time.Second):
		}
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer session.Close()
	var stderr bytes.Buffer
	session.Stderr = &stderr
	done := make(chan error, 1)
	go func() { done <- session.Run("bash -c " + shellQuote(script)) }()
	select {
	case <-ctx.Done():
		return fmt.Errorf("writing the image: %w", ctx.Err())
	case err := <-done:
		if err != nil {
			return fmt.Errorf("writing the image: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
	}
	return nil
}
