package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Upstream defaults (the SDK's connectionArgsProvideDefaults applies the same ones client-side).
const (
	defaultUser           = "root"
	defaultPort           = 22
	defaultDialErrorLimit = 10
	defaultPerDialTimeout = 15
)

// Retry delays between failed dial attempts: 100 ms growing by half each time, at most 5 s (the
// shape of the pulumi SDK's retry.Until, which upstream uses).
const (
	firstRetryDelay = 100 * time.Millisecond
	maxRetryDelay   = 5 * time.Second
)

// Connection is command:remote:Connection.
type Connection struct {
	connectionBase
	Proxy *ProxyConnection `pulumi:"proxy,optional"`
}

// ProxyConnection is command:remote:ProxyConnection (a bastion host).
type ProxyConnection struct {
	connectionBase
}

type connectionBase struct {
	User               *string  `pulumi:"user,optional"`
	Password           *string  `pulumi:"password,optional" provider:"secret"`
	Host               *string  `pulumi:"host"`
	Port               *float64 `pulumi:"port,optional"`
	PrivateKey         *string  `pulumi:"privateKey,optional" provider:"secret"`
	PrivateKeyPassword *string  `pulumi:"privateKeyPassword,optional" provider:"secret"`
	AgentSocketPath    *string  `pulumi:"agentSocketPath,optional"`
	DialErrorLimit     *int     `pulumi:"dialErrorLimit,optional"`
	PerDialTimeout     *int     `pulumi:"perDialTimeout,optional"`
	HostKey            *string  `pulumi:"hostKey,optional"`
}

func describeBase(a infer.Annotator, c *connectionBase) {
	a.Describe(&c.User, "The user that we should use for the connection.")
	a.SetDefault(&c.User, defaultUser)
	a.Describe(&c.Password, "The password we should use for the connection.")
	a.Describe(&c.Host, "The address of the resource to connect to.")
	a.Describe(&c.Port, "The port to connect to. Defaults to 22.")
	a.SetDefault(&c.Port, defaultPort)
	a.Describe(&c.PrivateKey, "The contents of an SSH key to use for the connection. This takes preference over the password if provided.")
	a.Describe(&c.PrivateKeyPassword, "The password to use in case the private key is encrypted.")
	a.Describe(&c.AgentSocketPath, "SSH Agent socket path. Default to environment variable SSH_AUTH_SOCK if present.")
	a.Describe(&c.DialErrorLimit, "Max allowed errors on trying to dial the remote host. -1 set count to unlimited. Default value is 10.")
	a.SetDefault(&c.DialErrorLimit, defaultDialErrorLimit)
	a.Describe(&c.PerDialTimeout, "Max number of seconds for each dial attempt. 0 implies no maximum. Default value is 15 seconds.")
	a.SetDefault(&c.PerDialTimeout, defaultPerDialTimeout)
	a.Describe(&c.HostKey, "The expected host key to verify the server's identity. If not provided, the host key will be ignored.")
}

func (c *Connection) Annotate(a infer.Annotator) {
	a.Describe(&c, "Instructions for how to connect to a remote endpoint.")
	describeBase(a, &c.connectionBase)
	a.Describe(&c.Proxy, "The connection settings for the bastion/proxy host.")
}

func (c *ProxyConnection) Annotate(a infer.Annotator) {
	a.Describe(&c, "Instructions for how to connect to a remote endpoint via a bastion host.")
	describeBase(a, &c.connectionBase)
}

func (c *connectionBase) endpoint() string {
	port := defaultPort
	if c.Port != nil {
		port = int(*c.Port)
	}
	return net.JoinHostPort(deref(c.Host, ""), strconv.Itoa(port))
}

// checkKey parses the private key (with its password): "" when fine or absent, else why not.
// The message never contains the key.
func (c *connectionBase) checkKey() string {
	if c.PrivateKey == nil {
		return ""
	}
	if _, err := c.signer(); err != nil {
		return "the private key does not parse: " + err.Error()
	}
	return ""
}

func (c *connectionBase) signer() (ssh.Signer, error) {
	if c.PrivateKeyPassword != nil {
		return ssh.ParsePrivateKeyWithPassphrase([]byte(*c.PrivateKey), []byte(*c.PrivateKeyPassword))
	}
	return ssh.ParsePrivateKey([]byte(*c.PrivateKey))
}

// clientConfig: the private key first, then the password (also answering keyboard-interactive
// prompts), then the agent. Without hostKey any host key is accepted, as upstream does.
func (c *connectionBase) clientConfig() (*ssh.ClientConfig, func(), error) {
	cfg := &ssh.ClientConfig{User: deref(c.User, defaultUser), HostKeyCallback: ssh.InsecureIgnoreHostKey()} //nolint:gosec // upstream's documented default
	if c.HostKey != nil {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*c.HostKey))
		if err != nil {
			return nil, nil, fmt.Errorf("hostKey %q does not parse as an authorized_keys line: %w", *c.HostKey, err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(key)
		cfg.HostKeyAlgorithms = hostKeyAlgorithms(key)
	}
	if t := deref(c.PerDialTimeout, defaultPerDialTimeout); t > 0 {
		cfg.Timeout = time.Duration(t) * time.Second
	}
	if c.PrivateKey != nil {
		signer, err := c.signer()
		if err != nil {
			return nil, nil, fmt.Errorf("the private key does not parse: %w", err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if c.Password != nil {
		password := *c.Password
		cfg.Auth = append(cfg.Auth, ssh.Password(password), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = password
				}
				return answers, nil
			}))
	}
	socket := deref(c.AgentSocketPath, os.Getenv("SSH_AUTH_SOCK"))
	closeAgent := func() {}
	if socket != "" {
		conn, err := net.Dial("unix", socket)
		if err != nil {
			return nil, nil, fmt.Errorf("ssh agent at %s: %w", socket, err)
		}
		closeAgent = func() { _ = conn.Close() }
		cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	return cfg, closeAgent, nil
}

// hostKeyAlgorithms asks the server for the pinned key's type (an RSA key may be offered as
// any of its signature algorithms).
func hostKeyAlgorithms(key ssh.PublicKey) []string {
	if key.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{key.Type()}
}

// dialWithRetry calls dial until it succeeds, the context ends, or it failed more than limit
// times (limit -1: no limit). The error names the attempts and the last failure.
func dialWithRetry[T any](ctx context.Context, what string, limit int, dial func() (T, error)) (T, error) {
	var zero T
	delay := firstRetryDelay
	for attempt := 1; ; attempt++ {
		v, err := dial()
		if err == nil {
			return v, nil
		}
		if limit >= 0 && attempt > limit {
			return zero, fmt.Errorf("%s: gave up after %d failed attempts (dialErrorLimit %d): %w", what, attempt, limit, err)
		}
		max := "unlimited"
		if limit >= 0 {
			max = strconv.Itoa(limit + 1)
		}
		p.GetLogger(ctx).InfoStatusf("%s: attempt %d/%s failed (%v), retrying in %s", what, attempt, max, err, delay)
		select {
		case <-ctx.Done():
			return zero, fmt.Errorf("%s: %w (last failure: %w)", what, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(delay*3/2, maxRetryDelay)
	}
}

// dial opens the SSH client, through the proxy when one is set. The returned closer also
// closes the proxy client and agent connections.
func (c *Connection) dial(ctx context.Context) (*ssh.Client, func(), error) {
	cfg, closeAgent, err := c.clientConfig()
	if err != nil {
		return nil, nil, err
	}
	endpoint := c.endpoint()
	limit := deref(c.DialErrorLimit, defaultDialErrorLimit)
	if c.Proxy == nil {
		client, err := dialWithRetry(ctx, "dial "+endpoint, limit, func() (*ssh.Client, error) {
			return ssh.Dial("tcp", endpoint, cfg)
		})
		if err != nil {
			closeAgent()
			return nil, nil, err
		}
		return client, func() { _ = client.Close(); closeAgent() }, nil
	}
	proxyCfg, closeProxyAgent, err := c.Proxy.clientConfig()
	if err != nil {
		closeAgent()
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	proxyEndpoint := c.Proxy.endpoint()
	proxy, err := dialWithRetry(ctx, "dial proxy "+proxyEndpoint, deref(c.Proxy.DialErrorLimit, defaultDialErrorLimit), func() (*ssh.Client, error) {
		return ssh.Dial("tcp", proxyEndpoint, proxyCfg)
	})
	if err != nil {
		closeAgent()
		closeProxyAgent()
		return nil, nil, err
	}
	client, err := dialWithRetry(ctx, "dial "+endpoint+" through proxy "+proxyEndpoint, limit, func() (*ssh.Client, error) {
		conn, err := proxy.Dial("tcp", endpoint)
		if err != nil {
			return nil, err
		}
		sshConn, chans, reqs, err := ssh.NewClientConn(conn, endpoint, cfg)
		if err != nil {
			_ = conn.Close()
			return nil, err
		}
		return ssh.NewClient(sshConn, chans, reqs), nil
	})
	closeAll := func() { _ = proxy.Close(); closeAgent(); closeProxyAgent() }
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return client, func() { _ = client.Close(); closeAll() }, nil
}

var errNoHost = errors.New("connection.host is empty")

func deref[T any](v *T, fallback T) T {
	if v == nil {
		return fallback
	}
	return *v
}
