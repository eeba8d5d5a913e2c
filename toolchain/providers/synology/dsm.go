package synology

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The DSM Web APIs this provider calls, with the version it speaks to each. SYNO.API.Info tells
// where each one lives and which versions the NAS offers; a missing one is reported by name.
var apiVersions = map[string]int{
	"SYNO.API.Auth":                        6,
	"SYNO.FileStation.Upload":              2,
	"SYNO.FileStation.Delete":              2,
	"SYNO.Virtualization.API.Guest":        1,
	"SYNO.Virtualization.API.Guest.Action": 1,
	"SYNO.Virtualization.API.Guest.Image":  1,
	"SYNO.Virtualization.API.Task.Info":    1,
	"SYNO.Virtualization.API.Storage":      1,
	"SYNO.Virtualization.API.Network":      1,
	// Internal: the only call any public client mounts ISOs with (its set, v1 as go-synology sends it).
	"SYNO.Virtualization.Guest": 1,
}

// Session errors after which one fresh login and one retry are worth it (common codes 106, 107, 119).
var sessionLost = map[int]bool{106: true, 107: true, 119: true}

// DSMError is an unsuccessful DSM response: the API and method called, the code and its meaning.
type DSMError struct {
	API, Method string
	Code        int
}

func (e *DSMError) Error() string {
	m, hint := meaning(e.API, e.Code)
	msg := fmt.Sprintf("DSM %s %s failed with error %d (%s)", e.API, e.Method, e.Code, m)
	if hint != "" {
		msg += ": " + hint
	}
	return msg
}

// IsCode reports whether err is a DSM error with this code.
func IsCode(err error, code int) bool {
	var d *DSMError
	return errors.As(err, &d) && d.Code == code
}

type apiInfo struct {
	Path       string `json:"path"`
	MinVersion int    `json:"minVersion"`
	MaxVersion int    `json:"maxVersion"`
}

// Client is one DSM session: logged in on first use, reused by every call of the provider
// process, and logged out when the process exits (Logout).
type Client struct {
	base     string
	user     string
	password string
	http     *http.Client

	mu   sync.Mutex
	apis map[string]apiInfo
	sid  string
}

// NewClient checks the URL and builds the HTTP client: TLS verification always, against the
// system roots plus caPEM when given (a NAS with its own or self-signed certificate).
func NewClient(rawURL, user, password, caPEM string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("url %q is not a URL like https://nas.lan:5001", rawURL)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("url %q must be https: the DSM password must not cross the network in clear", rawURL)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caPEM != "" && !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return nil, errors.New("caCert holds no PEM certificate")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &Client{
		base:     strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/"),
		user:     user,
		password: password,
		http:     &http.Client{Transport: transport, Timeout: 10 * time.Minute},
	}, nil
}

// HTTP is the client with the same trust, for downloads (the Image Factory ISO).
func (c *Client) HTTP() *http.Client { return c.http }

func (c *Client) unreachable(err error) error {
	return fmt.Errorf("cannot reach DSM at %s: %v; check talos-cluster:synology.url and that DSM is up and reachable from this machine", c.base, err)
}

// post sends one form request and decodes the envelope. It returns the data on success and a
// *DSMError with the documented meaning otherwise.
func (c *Client) post(ctx context.Context, path string, form url.Values, api, method string) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/webapi/"+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, api, method)
}

func (c *Client) do(req *http.Request, api, method string) (json.RawMessage, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.unreachable(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, c.unreachable(err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("DSM %s %s: HTTP %d from %s", api, method, resp.StatusCode, req.URL.Redacted())
	}
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("DSM %s %s: the answer is not a DSM response envelope: %v", api, method, err)
	}
	if !env.Success {
		code := 100
		if env.Error != nil {
			code = env.Error.Code
		}
		return nil, &DSMError{API: api, Method: method, Code: code}
	}
	return env.Data, nil
}

// session discovers the APIs (once) and logs in (once per session); caller holds c.mu.
func (c *Client) session(ctx context.Context) (string, error) {
	if c.apis == nil {
		names := make([]string, 0, len(apiVersions))
		for name := range apiVersions {
			names = append(names, name)
		}
		sort.Strings(names)
		q := url.Values{"api": {"SYNO.API.Info"}, "version": {"1"}, "method": {"query"}, "query": {strings.Join(names, ",")}}
		data, err := c.post(ctx, "query.cgi", q, "SYNO.API.Info", "query")
		if err != nil {
			return "", err
		}
		apis := map[string]apiInfo{}
		if err := json.Unmarshal(data, &apis); err != nil {
			return "", fmt.Errorf("DSM SYNO.API.Info: unexpected answer: %v", err)
		}
		for name, version := range apiVersions {
			info, ok := apis[name]
			if !ok && strings.HasPrefix(name, "SYNO.Virtualization.") {
				return "", fmt.Errorf("DSM at %s does not offer %s: install Virtual Machine Manager from Package Center and open it once", c.base, name)
			}
			if !ok || version < info.MinVersion || version > info.MaxVersion {
				return "", fmt.Errorf("DSM at %s does not offer %s version %d (offers %d-%d): DSM 7.x is needed", c.base, name, version, info.MinVersion, info.MaxVersion)
			}
		}
		c.apis = apis
	}
	if c.sid == "" {
		form := url.Values{
			"api": {"SYNO.API.Auth"}, "version": {strconv.Itoa(apiVersions["SYNO.API.Auth"])}, "method": {"login"},
			"account": {c.user}, "passwd": {c.password}, "session": {"VirtualizationAPI"}, "format": {"sid"},
		}
		data, err := c.post(ctx, c.apis["SYNO.API.Auth"].Path, form, "SYNO.API.Auth", "login")
		if err != nil {
			return "", err
		}
		var login struct {
			SID string `json:"sid"`
		}
		if err := json.Unmarshal(data, &login); err != nil || login.SID == "" {
			return "", errors.New("DSM SYNO.API.Auth login: the answer holds no sid")
		}
		c.sid = login.SID
	}
	return c.sid, nil
}

// Login opens the session now (API discovery and login), so a bad password or an unreachable DSM
// is reported before anything is downloaded or made.
func (c *Client) Login(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.session(ctx)
	return err
}

// Call runs api.method with params in the provider's session, logging in again once if DSM
// dropped the session (timeout, duplicate login). out, when not nil, receives the data.
func (c *Client) Call(ctx context.Context, api, method string, params url.Values, out any) error {
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		sid, err := c.session(ctx)
		c.mu.Unlock()
		if err != nil {
			return err
		}
		form := url.Values{}
		for k, v := range params {
			form[k] = v
		}
		form.Set("api", api)
		form.Set("version", strconv.Itoa(apiVersions[api]))
		form.Set("method", method)
		form.Set("_sid", sid)
		data, err := c.post(ctx, c.apis[api].Path, form, api, method)
		var d *DSMError
		if err != nil && errors.As(err, &d) && sessionLost[d.Code] && attempt == 0 {
			c.mu.Lock()
			if c.sid == sid {
				c.sid = ""
			}
			c.mu.Unlock()
			continue
		}
		if err != nil {
			return err
		}
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("DSM %s %s: unexpected answer: %v", api, method, err)
			}
		}
		return nil
	}
}

// Upload sends a file of known size to a DSM folder with File Station: multipart, the file part
// last as the File Station guide requires, and with Content-Length set, since File Station answers
// 1800 to an upload whose length it cannot tell or whose body does not match it. The folder's
// parents are created and a same-named file is overwritten.
func (c *Client) Upload(ctx context.Context, folder, name string, content io.Reader, size int64) error {
	const api = "SYNO.FileStation.Upload"
	c.mu.Lock()
	sid, err := c.session(ctx)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	fields := [][2]string{{"api", api}, {"version", strconv.Itoa(apiVersions[api])}, {"method", "upload"},
		{"path", folder}, {"create_parents", "true"}, {"overwrite", "true"}}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return err
		}
	}
	if _, err := mw.CreateFormFile("file", name); err != nil {
		return err
	}
	headBytes := append([]byte(nil), head.Bytes()...)
	head.Reset()
	if err := mw.Close(); err != nil { // writes only the closing boundary, into head
		return err
	}
	tail := head.Bytes()
	body := io.MultiReader(bytes.NewReader(headBytes), io.LimitReader(content, size), bytes.NewReader(tail))
	q := url.Values{"api": {api}, "version": {strconv.Itoa(apiVersions[api])}, "method": {"upload"}, "_sid": {sid}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/webapi/"+c.apis[api].Path+"?"+q.Encode(), body)
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(headBytes)) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	_, err = c.do(req, api, "upload")
	return err
}

// Logout ends the session, if one was opened. Errors are ignored: the process is exiting.
func (c *Client) Logout(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sid == "" || c.apis == nil {
		return
	}
	form := url.Values{"api": {"SYNO.API.Auth"}, "version": {strconv.Itoa(apiVersions["SYNO.API.Auth"])}, "method": {"logout"},
		"session": {"VirtualizationAPI"}, "_sid": {c.sid}}
	_, _ = c.post(ctx, c.apis["SYNO.API.Auth"].Path, form, "SYNO.API.Auth", "logout")
	c.sid = ""
}

var (
	clientsMu sync.Mutex
	clients   []*Client
)

func register(c *Client) {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	clients = append(clients, c)
}

// LogoutAll logs every session of this process out (main calls it on exit).
func LogoutAll(ctx context.Context) {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	for _, c := range clients {
		c.Logout(ctx)
	}
}

// jsonParam encodes a structured parameter the way the VMM API takes it: JSON text in a form field.
func jsonParam(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// pollInterval is how often task and power states are polled.
var pollInterval = 2 * time.Second
