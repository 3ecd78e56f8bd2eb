package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/keystone"
)

// checkResult is one line of `neutrino db check`, as oslo.upgradecheck's.
type checkResult struct {
	name    string
	code    int // 0 success, 1 warning, 2 failure
	details string
}

var resultNames = [...]string{"Success", "Warning", "Failure"}

func dbCheck(c *config.Config, stdout, stderr io.Writer) int {
	var rs []checkResult
	add := func(name string, code int, details string) { rs = append(rs, checkResult{name, code, details}) }

	v, where, err := schemaVersion(c)
	switch {
	case err != nil:
		add("Database", 2, fmt.Sprintf("%s: %v (run `neutrino db upgrade` to create it)", where, err))
	default:
		if e := app.SchemaError(v, where); e != nil {
			add("Database schema", 2, e.Error())
		} else {
			add("Database schema", 0, fmt.Sprintf("%s is at version %d, the version this neutrino needs", where, v))
		}
	}
	if _, err := app.NewEnforcer(c); err != nil {
		add("Policy", 2, err.Error())
	} else {
		add("Policy", 0, "policy_file and policy_dirs parse")
	}
	switch c.String("DEFAULT", "auth_strategy") {
	case "keystone":
		if _, _, err := keystone.ConfigFromINI(c.Raw); err != nil {
			add("Authentication", 2, "[keystone_authtoken]: "+err.Error())
		} else {
			add("Authentication", 0, "[keystone_authtoken] is complete")
		}
	default:
		add("Authentication", 1, "auth_strategy = noauth: every caller is an admin")
	}
	var ignored []string
	for _, w := range c.Warnings {
		ignored = append(ignored, "unknown option "+w)
	}
	if len(c.IgnoredSet) > 0 {
		ignored = append(ignored, "accepted but not acted on: "+strings.Join(c.IgnoredSet, ", "))
	}
	for _, v := range c.UnimplementedValues() {
		ignored = append(ignored, "not implemented: "+v)
	}
	if sp := app.UnimplementedServicePlugins(c); len(sp) > 0 {
		ignored = append(ignored, "service plugins not implemented: "+strings.Join(sp, ", "))
	}
	if len(ignored) > 0 {
		add("Ignored configuration", 1, strings.Join(ignored, "; "))
	} else {
		add("Ignored configuration", 0, "neutrino acts on every option given")
	}
	writeResults(stdout, rs)
	worst := 0
	for _, r := range rs {
		worst = max(worst, r.code)
	}
	return worst
}

// writeResults prints the results table of oslo.upgradecheck.
func writeResults(w io.Writer, rs []checkResult) {
	const width = 76
	line := "+" + strings.Repeat("-", width+2) + "+\n"
	row := func(s string) { fmt.Fprintf(w, "| %-*s |\n", width, s) }
	fmt.Fprint(w, line)
	row("Upgrade Check Results")
	fmt.Fprint(w, line)
	for _, r := range rs {
		row("Check: " + r.name)
		row("Result: " + resultNames[r.code])
		for i, l := range wrap("Details: "+r.details, width) {
			if i > 0 {
				l = "  " + l
			}
			row(l)
		}
		fmt.Fprint(w, line)
	}
}

// wrap breaks s into lines of at most width (continuation lines two less).
func wrap(s string, width int) []string {
	var out []string
	cur := ""
	for _, word := range strings.Fields(s) {
		limit := width
		if len(out) > 0 {
			limit = width - 2
		}
		if cur != "" && len(cur)+1+len(word) > limit {
			out = append(out, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += word
	}
	return append(out, cur)
}
