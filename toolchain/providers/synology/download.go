package synology

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// download fetches the ISO into a temporary file, so its size is known before the upload (File
// Station needs Content-Length) and its checksum can be checked first. The caller removes the
// file. It returns the file, its size and its SHA-256.
//
// The checksum comes from the Image Factory itself: `<asset>.sha256` answers "<hex>  <file>"
// (siderolabs/image-factory internal/frontend/http/image.go, checksumSuffixes). A factory built
// without that endpoint answers 402 (internal/frontend/http/http.go, NotEnabledTag); then only
// the size is checked against the download's Content-Length, and the digest is still recorded.
func download(ctx context.Context, client *http.Client, rawURL string) (*os.File, int64, string, error) {
	want, err := factoryChecksum(ctx, client, rawURL)
	if err != nil {
		return nil, 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, "", fmt.Errorf("download %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, "", fmt.Errorf("download %s: HTTP %d", rawURL, resp.StatusCode)
	}
	f, err := os.CreateTemp("", "talos-iso-*.iso")
	if err != nil {
		return nil, 0, "", err
	}
	fail := func(err error) (*os.File, int64, string, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, "", err
	}
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(f, h), resp.Body)
	if err != nil {
		return fail(fmt.Errorf("download %s: %w", rawURL, err))
	}
	if resp.ContentLength >= 0 && size != resp.ContentLength {
		return fail(fmt.Errorf("download %s: got %d bytes, the server announced %d", rawURL, size, resp.ContentLength))
	}
	got := hex.EncodeToString(h.Sum(nil))
	if want != "" && got != want {
		return fail(fmt.Errorf("download %s: SHA-256 %s, but the Image Factory's checksum is %s; nothing was uploaded", rawURL, got, want))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	return f, size, got, nil
}

// factoryChecksum is the hex SHA-256 the factory publishes for the asset, or "" when the factory
// has no checksum endpoint (HTTP 402).
func factoryChecksum(ctx context.Context, client *http.Client, rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	u.Path += ".sha256"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("checksum of %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusPaymentRequired {
		return "", nil
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("checksum of %s: HTTP %d from %s", rawURL, resp.StatusCode, u.Redacted())
	}
	line, _ := bufio.NewReader(io.LimitReader(resp.Body, 4096)).ReadString('\n')
	fields := strings.Fields(line)
	sum := ""
	if len(fields) > 0 {
		sum = strings.ToLower(fields[0])
	}
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return "", fmt.Errorf("checksum of %s: %s does not hold a SHA-256", rawURL, u.Redacted())
	}
	return sum, nil
}
