package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/server"
)

const serveDesc = `Run the Networking API server. It reads neutron.conf like neutron-server
(--config-file, repeatable, and --config-dir), then the flags below.

Signals: SIGTERM and SIGINT stop accepting connections and drain the
requests in flight ([DEFAULT] shutdown_timeout); SIGHUP reloads the
configuration files, the policy files and the log options, and reopens the
log file, without dropping a connection.

A PostgreSQL or MySQL database is never migrated by serve unless
[database] auto_migrate = true or --auto-migrate: run "neutrino db upgrade".
The embedded SQLite database is migrated at start unless auto_migrate = false.`

// serveFlags are the flags of serve.
type serveFlags struct {
	confFlags
	autoMigrate bool
}

func serve(args []string, stdout, stderr io.Writer) int {
	start := time.Now()
	// from now on SIGHUP reloads instead of killing the process
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	fs := newFlagSet("serve", "[--config-file F]... [flags]", serveDesc)
	var f serveFlags
	f.config(fs)
	f.database(fs)
	f.server(fs)
	f.logging(fs)
	fs.BoolVar(&f.autoMigrate, "auto-migrate", false, "apply pending schema migrations at start, on any engine ([database] auto_migrate)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	c, err := f.load()
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	logs, err := server.NewLogging(logConfig(c), stderr)
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	defer logs.Close()
	log := logs.Logger()
	worker := os.Getenv(workerEnv) != ""
	if !worker {
		warnConfig(log, c)
		log.Info("neutrino starting", "version", Version, "config_files", strings.Join(c.Files, ","))
		logOptions(log, c)
	}
	if addr := os.Getenv("NEUTRINO_PPROF"); addr != "" {
		go func() { log.Warn("pprof server", "error", http.ListenAndServe(addr, nil)) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	migrate := shouldMigrate(c, f.autoMigrate)
	r := &reloader{flags: &f.confFlags, logs: logs, log: log, cur: c}
	if n := c.Int("DEFAULT", "api_workers"); n > 1 && !worker {
		return supervise(ctx, c, log, n, args, migrate, hup, r)
	}

	// wait for a database that is not up yet, as oslo.db does
	d, err := openDBWaiting(ctx, c, log)
	if err != nil {
		log.Error("start-up failed", "error", err)
		return 1
	}
	d.Close()
	a, err := app.New(c, log, migrate && !worker)
	if err != nil {
		log.Error("start-up failed: " + err.Error())
		return 1
	}
	defer a.Close()
	r.app = a
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
	go r.loop(ctx, hup, nil)
	log.Info("serving", "address", ln.Addr().String(), "database", a.DB.Redacted, "engine", a.DB.Dialect().String(),
		"extensions", len(a.API.Extensions), "startup", time.Since(start).Round(time.Millisecond).String())
	logs.Flush()
	return serveAll(ctx, a, ln, log)
}

// serveAll serves the API and, with a transport_url, the RPC workers until ctx
// ends; then it drains both.
func serveAll(ctx context.Context, a *app.App, ln net.Listener, log *slog.Logger) int {
	svc, err := startRPC(ctx, a, log)
	if err != nil {
		log.Error("start-up failed", "error", err)
		return 1
	}
	if err := a.Run(ctx, ln); err != nil {
		log.Error("server failed", "error", err)
		return 1
	}
	stopRPC(svc, a, log)
	log.Info("stopped")
	return 0
}

// startRPC is serve_rpc: with a transport_url, the RPC workers start once
// the API listens; they keep trying while the broker is away.
func startRPC(ctx context.Context, a *app.App, log *slog.Logger) (*rpc.Service, error) {
	svc, err := rpc.New(a.Env, log)
	if err != nil || svc == nil {
		return nil, err
	}
	go func() {
		if err := svc.Start(ctx); err != nil && ctx.Err() == nil {
			log.Error("RPC workers not started", "error", err)
		}
	}()
	return svc, nil
}

// stopRPC stops the RPC workers after the API drained: the requests they
// hold are answered and the queued notifications sent, within
// shutdown_timeout.
func stopRPC(svc *rpc.Service, a *app.App, log *slog.Logger) {
	if svc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(a.Config.Int("DEFAULT", "shutdown_timeout"))*time.Second)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		log.Warn("RPC workers stopped with an error", "error", err)
	}
}

// shouldMigrate: --auto-migrate, else [database] auto_migrate, which is
// true by default only for SQLite.
func shouldMigrate(c *config.Config, flag bool) bool {
	if flag {
		return true
	}
	return c.BoolOr("database", "auto_migrate", strings.HasPrefix(c.String("database", "connection"), "sqlite"))
}

// warnConfig names, once each, what of the configuration neutrino ignores.
func warnConfig(log *slog.Logger, c *config.Config) {
	for _, w := range c.Warnings {
		log.Warn("ignoring unknown option " + w)
	}
	if len(c.IgnoredSet) > 0 {
		log.Warn("options accepted but not acted on by neutrino (ignored): " + strings.Join(c.IgnoredSet, ", "))
	}
	for _, v := range c.UnimplementedValues() {
		log.Warn("not implemented by neutrino, ignored: " + v)
	}
}

// logOptions logs every option's value at DEBUG, as oslo.config's
// log_opt_values does.
func logOptions(log *slog.Logger, c *config.Config) {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	log.Debug("********************************************************************************")
	log.Debug("configuration options gathered from: config files " + strings.Join(c.Files, ", "))
	for _, line := range c.Effective() {
		log.Debug(line)
	}
	log.Debug("********************************************************************************")
}

// reloader is what SIGHUP does: read the configuration files again, apply
// the log options (reopening the log file) and the policy files, and name
// the changed options that need a restart.
type reloader struct {
	flags *confFlags
	logs  *server.Logging
	log   *slog.Logger
	app   *app.App // nil in the api_workers supervisor
	cur   *config.Config
}

// loop reloads on each SIGHUP until ctx ends; then, if forward is set, it
// is called too (the supervisor passes the signal on to its workers).
func (r *reloader) loop(ctx context.Context, hup <-chan os.Signal, forward func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload()
			if forward != nil {
				forward()
			}
		}
	}
}

// reloadable options take effect on SIGHUP; the others at the next start.
func reloadable(name string) bool {
	switch name {
	case "debug", "log_file", "log_dir", "use_json", "use_stderr", "default_log_levels":
		return true
	}
	return strings.HasPrefix(name, "oslo_policy.")
}

func (r *reloader) reload() {
	r.log.Info("caught SIGHUP: reloading the configuration files, the policy files and the log files", "config_files", strings.Join(r.cur.Files, ","))
	c, err := r.flags.load()
	if err != nil {
		r.logs.Reopen()
		r.log.Error("reload failed, the running configuration stays: " + err.Error())
		return
	}
	if err := r.logs.Apply(logConfig(c)); err != nil {
		r.logs.Reopen()
		r.log.Error("log options not reloaded: " + err.Error())
	}
	warnConfig(r.log, c)
	if r.app != nil {
		if err := r.app.ReloadPolicy(c); err != nil {
			r.log.Error("policy not reloaded, the running policy stays: " + err.Error())
		}
	}
	old := map[string]string{}
	for _, l := range r.cur.Effective() {
		k, v, _ := strings.Cut(l, " = ")
		old[k] = v
	}
	for _, l := range c.Effective() {
		k, v, _ := strings.Cut(l, " = ")
		if old[k] != v && !reloadable(k) {
			r.log.Warn("option changed; it takes effect when neutrino restarts", "option", k)
		}
	}
	r.cur = c
	logOptions(r.log, c)
	r.log.Info("reload done")
}
