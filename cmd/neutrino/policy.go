package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/neutrino-os/neutrino/internal/app"
)

// policyCmd prints every policy rule with its effective check string: the
// in-code defaults (with Zed's deprecated alternatives ORed in unless
// enforce_new_defaults) and the overrides of policy_file and policy_dirs.
func policyCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("policy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f commonFlags
	f.register(fs)
	format := fs.String("format", "yaml", "yaml or json")
	if err := fs.Parse(args); err != nil {
		return 2
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
