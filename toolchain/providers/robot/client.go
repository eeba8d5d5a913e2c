package robot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultURL is the Robot webservice's address (robot.hetzner.com/doc/webservice/en.html; the
// same constant in ansible-collections/community.hrobot plugins/module_utils/robot.py BASE_URL
// and in MathiasPius/hrobot-rs src/api/*.rs).
const DefaultURL = "https://robot-ws.your-server.de"

// RobotError is an error answer of the webservice: {"error":{"status","code","message",
// "missing","invalid","max_request","interval"}}, the shape hrobot-rs src/error.rs
// (GenericAPIError) and community.hrobot's fetch_url_json read.
type RobotError struct {
	Method, Path string
	Status       int      `json:"status"`
	Code         string   `json:"code"`
	Message      string   `json:"message"`
	Missing      []string `json:"missing"`
	Invalid      []string `json:"invalid"`
	MaxRequest   int      `json:"max_request"`
	Interval     int      `json:"interval"`
}

func (e *RobotError) Error() string {
	msg := fmt.Sprintf("Robot %s %s: %d %s", e.Method, e.Path, e.Status, e.Code)
	if e.Message != "" {
		msg += " (" + e.Message + ")"
	}
	if len(e.Invalid) > 0 {
		msg += "; invalid: " + strings.Join(e.Invalid, ", ")
	}
	if len(e.Missing) > 0 {
		msg += "; missing: " + strings.Join(e.Missing, ", ")
	}
	if hint := hints[e.Code]; hint != "" {
		msg += ": " + hint
	} else if e.Code == "RATE_LIMIT_EXCEEDED" {
		msg += fmt.Sprintf(": Robot allows %d such requests per %d s; run up again once the interval has passed", e.MaxRequest, e.Interval)
	}
	return msg
}

// What the user can do about the errors a stack can cause.
var hints = map[string]string{
	"UNAUTHORIZED":                 "check the encrypted stack secrets talos-cluster:robotUser and talos-cluster:robotPassword (a Robot webservice user, robot.hetzner.com > Settings > Webservice and app settings)",
	"SERVER_NOT_FOUND":             "check talos-cluster:hetzner.dedicated[].serverNumber: the Robot account has no server with this number",
	"FIREWALL_RULE_LIMIT_EXCEEDED": "the Robot firewall takes at most 10 input rules: list fewer hetzner.adminCidrs",
	"VSWITCH_VLAN_NOT_UNIQUE":      "the server is already in another vSwitch with the same VLAN ID",
}

// IsCode reports whether err is a Robot error with this code.
func IsCode(err error, code string) bool {
	var r *RobotError
	return errors.As(err, &r) && r.Code == code
}

// Client calls the webservice with HTTP basic auth, form-encoded bodies and JSON answers.
type Client struct {
	base           string
	user, password string
	http           *http.Client
}

// NewClient checks the URL: https always, except plain http to a loopback address (the tests'
// fake Robot); the password must never cross a network in clear.
func NewClient(rawURL, user, password string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("url %q is not a URL like %s", rawURL, DefaultURL)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())) {
		return nil, fmt.Errorf("url %q must be https (plain http only to a loopback address): the Robot password must not cross the network in clear", rawURL)
	}
	return &Client{
		base:     strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/"),
		user:     user,
		password: password,
		http:     &http.Client{Timeout: 2 * time.Minute},
	}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Do sends one request; form (may be nil) goes form-encoded in the body. out (may be nil)
// receives the JSON answer. A non-2xx answer is a *RobotError.
func (c *Client) Do(ctx context.Context, method, path string, form url.Values, out any) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.user, c.password)
	req.Header.Set("Accept", "application/json")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the Robot webservice at %s: %v; check talos-cluster:hetzner.robotUrl", c.base, err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("Robot %s %s: reading the answer: %v", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var env struct {
			Error *RobotError `json:"error"`
		}
		if json.Unmarshal(text, &env) != nil || env.Error == nil {
			return &RobotError{Method: method, Path: path, Status: resp.StatusCode, Code: "HTTP_" + fmt.Sprint(resp.StatusCode)}
		}
		env.Error.Method, env.Error.Path = method, path
		if env.Error.Status == 0 {
			env.Error.Status = resp.StatusCode
		}
		return env.Error
	}
	if out == nil || len(strings.TrimSpace(string(text))) == 0 {
		return nil
	}
	if err := json.Unmarshal(text, out); err != nil {
		return fmt.Errorf("Robot %s %s: unexpected answer: %v", method, path, err)
	}
	return nil
}

// pollInterval is how often a state Robot changes in the background (firewall, vSwitch) is read.
var pollInterval = 5 * time.Second

// waitFor reads until done says so, the context ends or wait passes.
func waitFor(ctx context.Context, wait time.Duration, what string, done func() (bool, error)) error {
	deadline := time.Now().Add(wait)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: still not done after %s", what, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}
