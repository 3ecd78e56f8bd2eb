package main

import (
	"fmt"
	"io"

	"github.com/neutrino-os/neutrino/internal/app"
)

// policyCmd prints every policy rule with its effective check string: the
// in-code defaults (with Zed's deprecated alternatives ORed in unless
// enforce_new_defaults) and the overrides of policy_file and policy_dirs.
func policyCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("policy", "[--config-file F]... [--format yaml|json]",
		"Print every policy rule with its effective check string: the in-code defaults of\nNeutron Zed and the overrides of policy_file and policy_dirs.")
	var f confFlags
	f.config(fs)
	format := fs.String("format", "yaml", "yaml or json")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	c, err := f.load()
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	e, err := app.NewEnforcer(c)
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	if err := e.WriteEffective(stdout, *format); err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	return 0
}
