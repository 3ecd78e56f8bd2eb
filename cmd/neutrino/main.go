// Command neutrino is a drop-in replacement for the OpenStack Neutron
// server: one binary with subcommands.
//
//	neutrino [serve] [--config-file F]... [flags]   run the API server
//	neutrino db upgrade [--config-file F]...        apply schema migrations
//	neutrino db version [--config-file F]...        print the schema version
//	neutrino policy [--config-file F]... [--format yaml|json]  print the effective policy
//	neutrino config-doc                             print docs/config.md
//	neutrino version                                print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only when NEUTRINO_PPROF is set
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
	_ "github.com/neutrino-os/neutrino/internal/plugins" // registers every plugin
	"github.com/neutrino-os/neutrino/internal/server"
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

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stderr)
	case "db":
		sub := ""
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			sub, args = args[0], args[1:]
		}
		return dbCmd(sub, args, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "neutrino %s (Networking API v2.0, Neutron %s compatible)\n", Version, NeutronVersion)
		return 0
	case "config-doc":
		config.WriteDoc(stdout)
		return 0
	case "bench":
		return benchCmd(args, stdout, stderr)
	case "policy":
		return policyCmd(args, stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "neutrino: unknown command %q\n", cmd)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: neutrino <command> [flags]

commands:
  serve        run the API server (default)
  db upgrade   apply pending schema migrations
  db version   print the schema version
  bench        run the benchmark workload against an endpoint
  policy       print the effective policy (defaults + overrides), like oslopolicy-policy-generator
  config-doc   print the configuration reference (docs/config.md)
  version      print the version

Run "neutrino serve -h" for the server's flags.
`)
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// commonFlags are the configuration flags of serve and db.
type commonFlags struct {
	files, dirs, sets multi
	bindHost, dbConn  string
	authStrategy      string
	bindPort, workers int
	debug             bool
}

func (f *commonFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.files, "config-file", "neutron.conf to read (repeatable; later files override earlier ones)")
	fs.Var(&f.dirs, "config-dir", "directory of *.conf files to read after the config files (repeatable)")
	fs.Var(&f.sets, "set", "override an option: group.name=value (repeatable), e.g. --set ml2.tenant_network_types=vlan")
	fs.StringVar(&f.bindHost, "bind-host", "", "override [DEFAULT] bind_host")
	fs.IntVar(&f.bindPort, "bind-port", 0, "override [DEFAULT] bind_port")
	fs.IntVar(&f.workers, "api-workers", -1, "override [DEFAULT] api_workers")
	fs.StringVar(&f.dbConn, "database-connection", "", "override [database] connection")
	fs.StringVar(&f.authStrategy, "auth-strategy", "", "override [DEFAULT] auth_strategy")
	fs.BoolVar(&f.debug, "debug", false, "log at debug level")
}

func (f *commonFlags) load() (*config.Config, error) {
	over := map[string]string{}
	for _, s := range f.sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: want group.name=value", s)
		}
		over[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if f.bindHost != "" {
		over["DEFAULT.bind_host"] = f.bindHost
	}
	if f.bindPort != 0 {
		over["DEFAULT.bind_port"] = fmt.Sprint(f.bindPort)
	}
	if f.workers >= 0 {
		over["DEFAULT.api_workers"] = fmt.Sprint(f.workers)
	}
	if f.dbConn != "" {
		over["database.connection"] = f.dbConn
	}
	if f.authStrategy != "" {
		over["DEFAULT.auth_strategy"] = f.authStrategy
	}
	if f.debug {
		over["DEFAULT.debug"] = "true"
	}
	c, err := config.Load(f.files, f.dirs, over)
	if err != nil {
		return nil, err
	}
	if err := app.ApplyDefaultProfile(c); err != nil {
		return nil, err
	}
	return c, nil
}

// flushLogs writes out buffered log lines (set by newLogger).
var flushLogs = func() {}

func newLogger(c *config.Config, stderr io.Writer) (*slog.Logger, func(), error) {
	level := slog.LevelInfo
	if c.Bool("DEFAULT", "debug") {
		level = slog.LevelDebug
	}
	out, closeFn := stderr, func() {}
	if lf := c.String("DEFAULT", "log_file"); lf != "" {
		if d := c.String("DEFAULT", "log_dir"); d != "" && !filepath.IsAbs(lf) {
			lf = filepath.Join(d, lf)
		}
		f, err := os.OpenFile(lf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("log_file: %v", err)
		}
		out, closeFn = f, func() { f.Close() }
	}
	lw := server.NewLogWriter(out, 100*time.Millisecond)
	flushLogs = func() { lw.Flush() }
	return slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: level})), func() { lw.Close(); closeFn() }, nil
}

func serve(args []string, stderr io.Writer) int {
	start := time.Now()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f commonFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c, err := f.load()
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	log, closeLog, err := newLogger(c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	defer closeLog()
	slog.SetDefault(log)
	for _, w := range c.Warnings {
		log.Warn("ignoring unknown option " + w)
	}
	if workerID := os.Getenv(workerEnv); workerID == "" {
		log.Info("neutrino starting", "version", Version, "config_files", c.Files)
		log.Info("********************************************************************************")
		for _, line := range c.Effective() {
			log.Info(line)
		}
		log.Info("********************************************************************************")
	}

	if addr := os.Getenv("NEUTRINO_PPROF"); addr != "" {
		go func() { log.Warn("pprof server", "error", http.ListenAndServe(addr, nil)) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if n := c.Int("DEFAULT", "api_workers"); n > 1 && os.Getenv(workerEnv) == "" {
		return supervise(ctx, c, log, n, args)
	}

	d, err := openDBWaiting(ctx, c, log)
	if err != nil {
		log.Error("start-up failed", "error", err)
		return 1
	}
	d.Close()
	a, err := app.New(c, log, os.Getenv(workerEnv) == "")
	if err != nil {
		log.Error("start-up failed", "error", err)
		return 1
	}
	defer a.Close()
	ln, err := workerListener()
	if err != nil {
		log.Error("start-up failed", "error", err)
		return 1
	}
	if ln == nil {
		if ln, err = a.Listen(); err != nil {
			log.Error("cannot listen", "error", err)
			return 1
		}
	}
	log.Info("serving", "address", ln.Addr().String(), "database", a.DB.Redacted, "engine", a.DB.Dialect().String(),
		"extensions", len(a.API.Extensions), "startup", time.Since(start).Round(time.Millisecond).String())
	flushLogs()
	if err := a.Run(ctx, ln); err != nil {
		log.Error("server failed", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func dbCmd(sub string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("db", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f commonFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c, err := f.load()
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	d, err := app.OpenDB(c)
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	defer d.Close()
	ctx := context.Background()
	switch sub {
	case "upgrade":
		applied, err := d.Migrate(ctx, db.Schema())
		if err != nil {
			fmt.Fprintln(stderr, "neutrino: db upgrade:", err)
			return 1
		}
		v, _ := d.Version(ctx)
		fmt.Fprintf(stdout, "applied %d migration(s) %v; schema version %d (%s)\n", len(applied), applied, v, d.Redacted)
		return 0
	case "version", "current":
		v, err := d.Version(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "neutrino:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%d (head %d)\n", v, db.Head())
		return 0
	}
	fmt.Fprintln(stderr, "usage: neutrino db upgrade|version [--config-file F]...")
	return 2
}

var errNoWorker = errors.New("not a worker")
