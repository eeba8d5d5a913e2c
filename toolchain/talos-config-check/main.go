// talos-config-check runs Talos's own machine-config rules (github.com/siderolabs/talos/pkg/machinery)
// over the configs and patch files of a stack. Built by toolchain/setup.mjs from the machinery
// version pinned in toolchain/versions.json; the program and the tests call it with JSON on stdin.
//
//	talos-config-check check    < request.json   # validate configs, name the patch that broke one
//	talos-config-check patches  < patches.json   # load each patch file with Talos's patch loader
//	talos-config-check support  < pairs.json     # Talos's Kubernetes support verdict per version pair
//	talos-config-check version                   # the machinery version it was built from
//
// Nothing here reaches the network: validation runs with validation.WithLocal().
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/compatibility"
	coreconfig "github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	machinetype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
)

// Version is the machinery version this binary was built from (set with -ldflags -X by setup).
var Version = "unknown"

// mode is Talos's runtime mode as validation sees it: metal installs to disk, cloud boots an
// installed image (Hetzner snapshots), container neither.
type mode string

func (m mode) String() string        { return string(m) }
func (m mode) RequiresInstall() bool { return m == "metal" }
func (m mode) InContainer() bool     { return m == "container" }

func parseMode(s string) (mode, error) {
	switch s {
	case "metal", "cloud", "container":
		return mode(s), nil
	}

	return "", fmt.Errorf("unknown mode %q (want metal, cloud or container)", s)
}

// Patch is one patch layer with where it came from (a file path, or a name for derived patches).
type Patch struct {
	Source  string `json:"source"`
	Content string `json:"content"`
}

// Item is one node's config. With Config set, that complete config is validated; without it,
// the config is built like Talos builds it: Base (or a config generated for Role) with Patches
// applied in order. Patches always serve to name the patch that broke an invalid config.
type Item struct {
	Name    string  `json:"name"`
	Mode    string  `json:"mode"`
	Role    string  `json:"role"`
	Config  string  `json:"config,omitempty"`
	Base    string  `json:"base,omitempty"`
	Patches []Patch `json:"patches,omitempty"`
}

// Generate describes the throwaway config generated for items without Base: fresh secrets,
// the stack's version contract, Kubernetes version, cluster name and endpoint.
type Generate struct {
	ClusterName       string `json:"clusterName"`
	Endpoint          string `json:"endpoint"`
	TalosVersion      string `json:"talosVersion"`
	KubernetesVersion string `json:"kubernetesVersion"`
}

type checkRequest struct {
	Generate *Generate `json:"generate,omitempty"`
	Items    []Item    `json:"items"`
}

// Result is the verdict on one item. Source names the patch that made it invalid: a patch's
// source, or "base" when the config was invalid before any of the item's patches.
type Result struct {
	Name     string   `json:"name"`
	Valid    bool     `json:"valid"`
	Source   string   `json:"source,omitempty"`
	Message  string   `json:"message,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fail(errors.New("usage: talos-config-check check|patches|support|version < request.json"))
	}

	var out any

	var err error

	switch os.Args[1] {
	case "check":
		var req checkRequest
		if err = decode(&req); err == nil {
			out, err = check(req)
		}
	case "patches":
		var patches []Patch
		if err = decode(&patches); err == nil {
			out = loadPatches(patches)
		}
	case "support":
		var pairs []supportPair
		if err = decode(&pairs); err == nil {
			out = support(pairs)
		}
	case "version":
		out = map[string]string{"machinery": Version}
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}

	if err != nil {
		fail(err)
	}

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")

	if err = enc.Encode(out); err != nil {
		fail(err)
	}
}

func decode(v any) error {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}

	return json.Unmarshal(data, v)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "talos-config-check: %v\n", err)
	os.Exit(2)
}

func check(req checkRequest) ([]Result, error) {
	generated := map[string]string{}

	results := make([]Result, 0, len(req.Items))

	for _, item := range req.Items {
		m, err := parseMode(item.Mode)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", item.Name, err)
		}

		base := item.Base
		if base == "" && (item.Config == "" || len(item.Patches) > 0) {
			if base, err = generatedBase(req.Generate, item.Role, generated); err != nil {
				return nil, fmt.Errorf("%s: %w", item.Name, err)
			}
		}

		results = append(results, checkItem(item, m, base))
	}

	return results, nil
}

// generatedBase is the role's config as `talosctl gen config` would make it, once per role.
func generatedBase(gen *Generate, role string, cache map[string]string) (string, error) {
	if text, ok := cache[role]; ok {
		return text, nil
	}

	if gen == nil {
		return "", errors.New("needs a base config or a generate section")
	}

	var t machinetype.Type

	switch role {
	case "controlplane":
		t = machinetype.TypeControlPlane
	case "worker":
		t = machinetype.TypeWorker
	default:
		return "", fmt.Errorf("unknown role %q", role)
	}

	contract, err := coreconfig.ParseContractFromVersion(gen.TalosVersion)
	if err != nil {
		return "", err
	}

	input, err := generate.NewInput(gen.ClusterName, gen.Endpoint, gen.KubernetesVersion, generate.WithVersionContract(contract))
	if err != nil {
		return "", err
	}

	cfg, err := input.Config(t)
	if err != nil {
		return "", err
	}

	data, err := cfg.Bytes()
	if err != nil {
		return "", err
	}

	cache[role] = string(data)

	return cache[role], nil
}

// checkItem validates the item's complete config. When it is invalid, the patches are applied to
// the base one by one, and the first patch after which validation fails is named.
func checkItem(item Item, m mode, base string) Result {
	res := Result{Name: item.Name}

	complete := item.Config
	if complete == "" {
		built, source, err := applyPatches(base, item.Patches)
		if err != nil {
			res.Source, res.Message = source, err.Error()

			return res
		}

		complete = built
	}

	warnings, err := validate(complete, m)
	if err == nil {
		res.Valid, res.Warnings = true, warnings

		return res
	}

	res.Message = err.Error()
	res.Source = blame(base, item.Patches, m)

	return res
}

// applyPatches applies each patch in turn with Talos's own patcher; on failure it names the patch.
func applyPatches(base string, patches []Patch) (string, string, error) {
	current := base

	for _, p := range patches {
		next, err := applyOne(current, p)
		if err != nil {
			return "", p.Source, err
		}

		current = next
	}

	return current, "", nil
}

func applyOne(current string, p Patch) (string, error) {
	loaded, err := configpatcher.LoadPatch([]byte(p.Content))
	if err != nil {
		return "", err
	}

	out, err := configpatcher.Apply(configpatcher.WithBytes([]byte(current)), []configpatcher.Patch{loaded})
	if err != nil {
		return "", err
	}

	data, err := out.Bytes()

	return string(data), err
}

// blame names the first layer after which the config stops validating ("base" if it never did).
func blame(base string, patches []Patch, m mode) string {
	if base == "" {
		return ""
	}

	if _, err := validate(base, m); err != nil {
		return "base"
	}

	current := base

	for _, p := range patches {
		next, err := applyOne(current, p)
		if err != nil {
			return p.Source
		}

		if _, err := validate(next, m); err != nil {
			return p.Source
		}

		current = next
	}

	return ""
}

// validate loads a complete config the way a node does and runs Talos's strict, local validation.
func validate(text string, m mode) ([]string, error) {
	cfg, err := configloader.NewFromBytes([]byte(text))
	if err != nil {
		return nil, err
	}

	warnings, err := cfg.Validate(m, validation.WithLocal(), validation.WithStrict())
	if err != nil {
		return warnings, errors.New(strings.TrimSpace(err.Error()))
	}

	return warnings, nil
}

type patchResult struct {
	Source  string `json:"source"`
	Valid   bool   `json:"valid"`
	Message string `json:"message,omitempty"`
}

// loadPatches loads each patch as Talos does before merging it: unknown keys and wrong types fail here.
func loadPatches(patches []Patch) []patchResult {
	out := make([]patchResult, 0, len(patches))

	for _, p := range patches {
		res := patchResult{Source: p.Source, Valid: true}

		if _, err := configpatcher.LoadPatch([]byte(p.Content)); err != nil {
			res.Valid, res.Message = false, strings.TrimSpace(err.Error())
		}

		out = append(out, res)
	}

	return out
}

type supportPair struct {
	Talos      string `json:"talos"`
	Kubernetes string `json:"kubernetes"`
}

type supportResult struct {
	supportPair
	Supported bool   `json:"supported"`
	Message   string `json:"message,omitempty"`
}

// support answers with machinery's compatibility package: is this Kubernetes supported with this Talos?
func support(pairs []supportPair) []supportResult {
	out := make([]supportResult, 0, len(pairs))

	for _, p := range pairs {
		res := supportResult{supportPair: p}

		talos, err := compatibility.ParseTalosVersion(&machine.VersionInfo{Tag: p.Talos})
		if err == nil {
			var k8s *compatibility.KubernetesVersion

			if k8s, err = compatibility.ParseKubernetesVersion(p.Kubernetes); err == nil {
				err = k8s.SupportedWith(talos)
			}
		}

		if err != nil {
			res.Message = err.Error()
		} else {
			res.Supported = true
		}

		out = append(out, res)
	}

	return out
}
