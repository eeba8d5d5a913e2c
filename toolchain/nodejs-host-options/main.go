// Command pulumi-language-nodejs, as setup installs it beside the built Pulumi CLI: a shim in
// front of the Node.js language host that hands the host the project's runtime options.
//
// Why: the only Node.js language host the Go module proxy serves is the one in sdk/v3 v3.68.0.
// That host takes the runtime options (`typescript`, `nodeargs`, `tsconfig` under
// `runtime.options` in Pulumi.yaml) as command-line flags, but the CLI we build (v3.248) passes
// options through the RunRequest instead, so the old host never sees them and always runs
// programs through ts-node. This shim reads the options from the project file and passes them
// as the flags the old host understands; everything else goes to the host unchanged.
//
// The real host is the file pulumi-language-nodejs-host in the directory this shim was started
// from (setup links both there).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"gopkg.in/yaml.v3"
)

// Version is stamped at build time with the language host's version.
var Version = "dev"

const hostName = "pulumi-language-nodejs-host"

// projectFiles are the names Pulumi accepts for a project file, in its order of preference.
var projectFiles = []string{"Pulumi.yaml", "Pulumi.yml", "Pulumi.json"}

type project struct {
	Runtime yaml.Node `yaml:"runtime"`
}

type runtimeOptions struct {
	Options map[string]any `yaml:"options"`
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println(Version)
		return
	}
	host, err := realHost()
	if err != nil {
		fail(err)
	}
	flags, err := optionFlags(projectDir(os.Args[1:]))
	if err != nil {
		fail(err)
	}
	argv := append(append([]string{host}, flags...), os.Args[1:]...)
	fail(syscall.Exec(host, argv, os.Environ()))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs (options shim): %v\n", err)
	os.Exit(1)
}

func realHost() (string, error) {
	self := os.Args[0]
	if !strings.ContainsRune(self, filepath.Separator) {
		found, err := exec.LookPath(self)
		if err != nil {
			return "", err
		}
		self = found
	}
	host := filepath.Join(filepath.Dir(self), hostName)
	if _, err := os.Stat(host); err != nil {
		return "", fmt.Errorf("the Node.js language host is not beside this shim: %w", err)
	}
	return host, nil
}

// projectDir is the -root flag's value when the CLI passes one, else the working directory.
func projectDir(args []string) string {
	for i, arg := range args {
		switch {
		case strings.HasPrefix(arg, "-root=") || strings.HasPrefix(arg, "--root="):
			return arg[strings.Index(arg, "=")+1:]
		case (arg == "-root" || arg == "--root") && i+1 < len(args):
			return args[i+1]
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	return dir
}

// optionFlags finds the nearest project file at or above dir and turns its runtime options
// into the old host's flags. No project file, or a runtime without options: no flags.
func optionFlags(dir string) ([]string, error) {
	file, err := findProject(dir)
	if err != nil || file == "" {
		return nil, err
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var p project
	if err := yaml.Unmarshal(text, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if p.Runtime.Kind != yaml.MappingNode {
		return nil, nil // `runtime: nodejs`, without options
	}
	var rt runtimeOptions
	if err := p.Runtime.Decode(&rt); err != nil {
		return nil, fmt.Errorf("%s: runtime: %w", file, err)
	}
	return flagsFrom(rt.Options, file)
}

func flagsFrom(options map[string]any, file string) ([]string, error) {
	var flags []string
	if v, ok := options["typescript"]; ok {
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: runtime.options.typescript must be true or false, not %v", file, v)
		}
		flags = append(flags, "-typescript="+strconv.FormatBool(b))
	}
	for _, name := range []string{"nodeargs", "tsconfig"} {
		if v, ok := options[name]; ok {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: runtime.options.%s must be a string, not %v", file, name, v)
			}
			flags = append(flags, "-"+name+"="+s)
		}
	}
	return flags, nil
}

func findProject(dir string) (string, error) {
	for {
		for _, name := range projectFiles {
			candidate := filepath.Join(dir, name)
			if _, err := os.Stat(candidate); err == nil {
				return candidate, nil
			} else if !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}
