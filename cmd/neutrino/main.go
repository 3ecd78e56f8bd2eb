// Command neutrino is a drop-in replacement for the OpenStack Neutron
// server: one binary with subcommands.
//
//	neutrino [serve] [--config-file F]... [flags]   run the API server
//	neutrino db upgrade|version|check [--config-file F]...
//	neutrino policy [--config-file F]... [--format yaml|json]  print the effective policy
//	neutrino bench --endpoint URL ...                run the benchmark workload
//	neutrino ovn-db-sync [--mode log|repair]        compare/repair the OVN NB with the database
//	neutrino config-doc                             print docs/config.md
//	neutrino version | --version                    print the version
//
// Every subcommand answers --help with its own flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	_ "net/http/pprof" // served only when NEUTRINO_PPROF is set
	"os"
	"runtime/debug"
	"strings"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/config"
	_ "github.com/neutrino-os/neutrino/internal/plugins" // registers every plugin
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = "0.1.0-dev"

// NeutronVersion is the Neutron release whose API neutrino speaks.
const NeutronVersion = "21.0.0 (Zed)"

func main() {
	// request ids and resource ids are random UUIDs: read the randomness in
	// blocks rather than with a system call per id
	uuid.EnableRandPool()
	if os.Getenv("GOGC") == "" {
		// API responses are short-lived garbage: collect less often
		// (memory stays far below Neutron's per-worker footprint)
		debug.SetGCPercent(200)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is a subcommand of neutrino.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the API server (the default command)", serve},
		{"db", "database schema: upgrade, version, check", dbCmd},
		{"policy", "print the effective policy (defaults + overrides), like oslopolicy-policy-generator", policyCmd},
		{"bench", "run the benchmark workload against an endpoint", benchCmd},
		{"ovn-db-sync", "compare (and repair) the OVN Northbound database with the database", ovnDBSyncCmd},
		{"config-doc", "print the configuration reference (docs/config.md)", configDocCmd},
		{"version", "print the version", versionCmd},
		{"help", "show the help of neutrino or of a command", helpCmd},
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		switch {
		case len(args) > 0 && isHelp(args[0]):
			usage(stdout)
			return 0
		case len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "-V"):
			return versionCmd(nil, stdout, stderr)
		}
		return serve(args, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "neutrino: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" || a == "help" }

func usage(w io.Writer) {
	fmt.Fprintf(w, "neutrino %s: the OpenStack Networking API (Neutron %s) in one binary\n\n", Version, NeutronVersion)
	fmt.Fprint(w, "usage: neutrino <command> [flags]\n       neutrino [serve flags]     (serve is the default)\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nflags:\n  -h, --help  show this help\n  --version   print the version\n\nRun \"neutrino <command> --help\" for the flags of a command.\n")
}

func helpCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	if args[0] == "help" {
		usage(stdout)
		return 0
	}
	return run(append(args[:1:1], "--help"), stdout, stderr)
}

func versionCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "print the version")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	fmt.Fprintf(stdout, "neutrino %s (Networking API v2.0, Neutron %s compatible)\n", Version, NeutronVersion)
	return 0
}

func configDocCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("config-doc", "", "print the configuration reference in Markdown (docs/config.md)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	config.WriteDoc(stdout)
	return 0
}

// newFlagSet makes the flag set of a command; its usage prints
// "usage: neutrino <name> <synopsis>", the description and the flags.
func newFlagSet(name, synopsis, desc string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		if synopsis == "" {
			synopsis = "[flags]"
		}
		fmt.Fprintf(w, "usage: neutrino %s %s\n\n%s\n", name, synopsis, desc)
		printFlags(w, fs)
	}
	return fs
}

// printFlags lists the flags GNU-style (--name), as OpenStack's tools do.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nflags:\n")
			first = false
		}
		arg, help := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		fmt.Fprintf(w, "  %s%s", dash, f.Name)
		if arg != "" {
			fmt.Fprintf(w, " %s", strings.ToUpper(arg))
		}
		switch f.DefValue {
		case "", "0", "-1", "false", "[]":
		default:
			help += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "\n        %s\n", help)
	})
}

// parseFlags parses args; --help prints the command's usage on stdout.
// When ok is false the command returns code at once.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) || err == nil && fs.NArg() > 0 && isHelp(fs.Arg(0)) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0, false
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "neutrino %s: %v\n\n", fs.Name(), err)
		fs.SetOutput(stderr)
		fs.Usage()
		return 2, false
	}
	return 0, true
}
