// Package app assembles a neutrino server from its configuration — the
// equivalent of neutron-server's start-up: open and migrate the database,
// load the core and service plugins, build the API controller and the
// request pipeline — and runs it.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/extensions"
	"github.com/neutrino-os/neutrino/internal/keystone"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/policy"
	"github.com/neutrino-os/neutrino/internal/quota"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/server"
)

// DefaultConnection is the embedded default database.
const DefaultConnection = "sqlite:///neutrino.db"

// ApplyDefaultProfile sets what the embedded default means when no config
// file is given: SQLite, noauth, 127.0.0.1:9696, vxlan tenant networks and
// the service plugins of a DevStack-like Neutron (as the reference profile).
func ApplyDefaultProfile(c *config.Config) error {
	if c.FromFiles {
		return nil
	}
	set := func(g, n, v string) error {
		if c.IsSet(g, n) {
			return nil
		}
		return c.Set(g, n, v)
	}
	for _, kv := range [][3]string{
		{"DEFAULT", "bind_host", "127.0.0.1"},
		{"DEFAULT", "auth_strategy", "noauth"},
		{"DEFAULT", "allow_overlapping_ips", "true"},
		{"DEFAULT", "service_plugins", "router,segments,trunk,qos,port_forwarding"},
		{"database", "connection", DefaultConnection},
	} {
		if err := set(kv[0], kv[1], kv[2]); err != nil {
			return err
		}
	}
	return ml2.DefaultProfile(c)
}

// App is an assembled neutrino.
type App struct {
	Config *config.Config
	DB     *db.DB
	Env    *plugin.Env
	API    *api.Controller
	Server *server.Server
	Policy *policy.Enforcer
	Log    *slog.Logger

	authz *authorizer
}

// OpenDB opens the configured database.
func OpenDB(c *config.Config) (*db.DB, error) {
	url := c.String("database", "connection")
	if url == "" {
		return nil, fmt.Errorf("[database] connection is not set")
	}
	d, err := db.Open(url, db.Options{MaxOpenConns: c.Int("database", "max_pool_size"), Retry: &db.RetryPolicy{
		MaxRetries:  c.Int("database", "db_max_retries"),
		Interval:    time.Duration(c.Int("database", "db_retry_interval")) * time.Second,
		MaxInterval: time.Duration(c.Int("database", "db_max_retry_interval")) * time.Second,
		Inc:         c.Bool("database", "db_inc_retry_interval"),
	}})
	if err != nil {
		return nil, fmt.Errorf("[database] connection: %w", err)
	}
	return d, nil
}

// New builds the application; migrate applies pending schema migrations.
func New(c *config.Config, log *slog.Logger, migrate bool) (*App, error) {
	d, err := OpenDB(c)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if migrate {
		applied, err := d.Migrate(ctx, db.Schema())
		if err != nil {
			d.Close()
			return nil, err
		}
		if len(applied) > 0 {
			log.Info("database schema migrated", "versions", applied)
		}
	}
	v, err := d.Version(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	if err := SchemaError(v, d.Redacted); err != nil {
		d.Close()
		return nil, err
	}
	a := &App{Config: c, DB: d, Log: log}
	if err := a.build(); err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// SchemaError says what to do when a database's schema version v is not
// the one this binary needs (nil when it is).
func SchemaError(v int, where string) error {
	switch want := db.Head(); {
	case v == want:
		return nil
	case v == 0:
		return fmt.Errorf("database %s has no neutrino schema (this neutrino needs version %d): run `neutrino db upgrade` with the same configuration (or set [database] auto_migrate = true, or serve --auto-migrate)", where, want)
	case v < want:
		return fmt.Errorf("database %s schema is at version %d, behind this neutrino's %d: run `neutrino db upgrade` with the same configuration (or set [database] auto_migrate = true, or serve --auto-migrate)", where, v, want)
	default:
		return fmt.Errorf("database %s schema is at version %d, newer than this neutrino's %d: run a newer neutrino", where, v, want)
	}
}

func (a *App) build() error {
	c := a.Config
	env, err := a.loadPlugins()
	if err != nil {
		return err
	}
	quotas := quota.New(c, a.DB)
	for _, t := range env.Tables() {
		if t.Quota != "" {
			quotas.Track(t.Quota, t.Name)
			t.Quotas = quotas
		}
	}
	env.AddExtensions("quotas", "quota_details", "quota-check-limit")
	exts, err := extensions.List(env.ExtensionAliases())
	if err != nil {
		return err
	}
	maxLimit, err := paginationMaxLimit(c)
	if err != nil {
		return err
	}
	enforcer, err := NewEnforcer(c)
	if err != nil {
		return err
	}
	a.Policy = enforcer
	a.authz = newAuthorizer(enforcer, env, a.Log)
	ctl := &api.Controller{
		Policy:     a.authz,
		Resources:  env.Resources(),
		Specials:   map[string]api.Special{"quotas": quotas},
		Extensions: exts,
		MaxLimit:   maxLimit,
		LinkPrefix: c.String("DEFAULT", "network_link_prefix"),
		MaxBulk:    c.Int("DEFAULT", "max_bulk_items"),
		Log:        a.Log,
		// ML2/OVN: the mechanism driver does not support it
		NoEmptyStringFiltering: !env.HasExtension("empty-string-filtering"),
	}
	ctl.Init()
	a.Env, a.API = env, ctl
	a.Server = &server.Server{
		API:       ctl,
		Log:       a.Log,
		AccessLog: true,
		Limits:    server.LimitsFromConfig(c),
		Ready: func(ctx context.Context) error {
			return a.DB.SQL.PingContext(ctx)
		},
	}
	if c.String("DEFAULT", "auth_strategy") == "keystone" {
		return a.setupKeystone()
	}
	return nil
}

// loadPlugins loads the core plugin, the configured and the default service
// plugins, and lets them finish their declarations.
func (a *App) loadPlugins() (*plugin.Env, error) {
	c := a.Config
	env := plugin.NewEnv(c, a.DB, a.Log)
	if err := env.Load(c.String("DEFAULT", "core_plugin")); err != nil {
		return nil, err
	}
	if err := env.LoadServicePlugins(servicePlugins(c, a.Log)...); err != nil {
		return nil, err
	}
	if err := loadDefaultServicePlugins(env); err != nil {
		return nil, err
	}
	retryLog := a.Log.With("logger", "oslo_db.api")
	a.DB.OnRetry = func(ctx context.Context, attempt int, err error) {
		retryLog.DebugContext(ctx, "database transaction conflicted; retrying", "attempt", attempt, "error", err)
	}
	return env, env.Finish()
}

// paginationMaxLimit is [DEFAULT] pagination_max_limit (-1: none).
func paginationMaxLimit(c *config.Config) (int, error) {
	s := strings.ToLower(c.String("DEFAULT", "pagination_max_limit"))
	if s == "infinite" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("invalid value for option [DEFAULT] pagination_max_limit: %q (an integer > 0, or -1/infinite)", s)
	}
	return n, nil
}

// setupKeystone puts keystonemiddleware's auth_token in front of the API.
func (a *App) setupKeystone() error {
	kc, ignored, err := keystone.ConfigFromINI(a.Config.Raw)
	if err != nil {
		return err
	}
	if len(ignored) > 0 {
		a.Log.Warn("[keystone_authtoken] options accepted but not acted on by neutrino (ignored): " + strings.Join(ignored, ", "))
	}
	v, err := keystone.New(kc, keystone.WithLogger(a.Log.With("logger", "keystonemiddleware.auth_token")), keystone.WithDecorate(func(rc *reqctx.Context) {
		e := a.authz.enforcer()
		rc.IsAdmin = e.CheckIsAdmin(rc)
		rc.IsAdvsvc = e.CheckIsAdvsvc(rc)
	}))
	if err != nil {
		return err
	}
	a.Server.Auth = v.Middleware
	return nil
}

// ReloadPolicy reads the policy files of c ([oslo_policy]) again and uses
// them for every request from now on (SIGHUP). On error the policy in use
// stays.
func (a *App) ReloadPolicy(c *config.Config) error {
	e, err := NewEnforcer(c)
	if err != nil {
		return err
	}
	a.authz.use(e)
	a.Policy = e
	return nil
}

// Listen opens the API socket.
func (a *App) Listen() (net.Listener, error) {
	addr := net.JoinHostPort(a.Config.String("DEFAULT", "bind_host"), strconv.Itoa(a.Config.Int("DEFAULT", "bind_port")))
	return net.Listen("tcp", addr)
}

// Run serves until ctx is done, then drains.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	drain := time.Duration(a.Config.Int("DEFAULT", "shutdown_timeout")) * time.Second
	return a.Server.Serve(ctx, ln, drain)
}

// Close stops what the plugins run in the background (events.BeforeShutdown) and releases the
// database.
func (a *App) Close() error {
	if a.Env != nil {
		a.Env.Bus.Notify(events.Process, events.BeforeShutdown, &events.Payload{Ctx: context.Background()})
	}
	return a.DB.Close()
}
