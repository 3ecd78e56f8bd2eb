package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/server"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// confFlags are the command-line flags that make a configuration; each
// command registers the groups it uses, so its --help shows only those.
type confFlags struct {
	files, dirs, sets multi
	bindHost, dbConn  string
	authStrategy      string
	bindPort, workers int
	debug, useJSON    bool
	logFile, logDir   string
}

// config: --config-file, --config-dir, --set.
func (f *confFlags) config(fs *flag.FlagSet) {
	fs.Var(&f.files, "config-file", "neutron.conf (or ml2_conf.ini, ...) to read; repeatable, later files override earlier ones")
	fs.Var(&f.dirs, "config-dir", "directory whose *.conf files are read after the config files, in sorted order (repeatable)")
	fs.Var(&f.sets, "set", "override any option a file may hold: group.name=value (repeatable), e.g. --set ml2.tenant_network_types=vlan, --set keystone_authtoken.password=secret")
}

// database: --database-connection.
func (f *confFlags) database(fs *flag.FlagSet) {
	fs.StringVar(&f.dbConn, "database-connection", "", "override [database] connection (sqlite:///path.db, postgresql://…, mysql+pymysql://…)")
}

// server: the listening socket, workers and authentication.
func (f *confFlags) server(fs *flag.FlagSet) {
	fs.StringVar(&f.bindHost, "bind-host", "", "override [DEFAULT] bind_host")
	fs.IntVar(&f.bindPort, "bind-port", 0, "override [DEFAULT] bind_port")
	fs.IntVar(&f.workers, "api-workers", -1, "override [DEFAULT] api_workers")
	fs.StringVar(&f.authStrategy, "auth-strategy", "", "override [DEFAULT] auth_strategy (keystone or noauth)")
}

// logging: oslo.log's command-line options.
func (f *confFlags) logging(fs *flag.FlagSet) {
	fs.BoolVar(&f.debug, "debug", false, "log at DEBUG: option values, policy decisions, transaction retries ([DEFAULT] debug)")
	fs.BoolVar(&f.debug, "d", false, "short for --debug")
	fs.StringVar(&f.logFile, "log-file", "", "log to this file ([DEFAULT] log_file)")
	fs.StringVar(&f.logDir, "log-dir", "", "directory of the log file ([DEFAULT] log_dir)")
	fs.BoolVar(&f.useJSON, "use-json", false, "log JSON lines ([DEFAULT] use_json)")
}

// load reads the configuration: files, directories, then the flags.
func (f *confFlags) load() (*config.Config, error) {
	over := map[string]string{}
	for _, s := range f.sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: want group.name=value", s)
		}
		over[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	for k, v := range map[string]string{
		"DEFAULT.bind_host": f.bindHost, "database.connection": f.dbConn,
		"DEFAULT.auth_strategy": f.authStrategy, "DEFAULT.log_file": f.logFile, "DEFAULT.log_dir": f.logDir,
	} {
		if v != "" {
			over[k] = v
		}
	}
	if f.bindPort != 0 {
		over["DEFAULT.bind_port"] = fmt.Sprint(f.bindPort)
	}
	if f.workers >= 0 {
		over["DEFAULT.api_workers"] = fmt.Sprint(f.workers)
	}
	if f.debug {
		over["DEFAULT.debug"] = "true"
	}
	if f.useJSON {
		over["DEFAULT.use_json"] = "true"
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

// logConfig is the log output the configuration asks for, as oslo.log
// reads it: log_dir/log_file (log_dir alone: log_dir/neutrino.log).
func logConfig(c *config.Config) server.LogConfig {
	file, dir := c.String("DEFAULT", "log_file"), c.String("DEFAULT", "log_dir")
	if file == "" && dir != "" {
		file = "neutrino.log"
	}
	if file != "" && dir != "" && !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	return server.LogConfig{
		File: file, AlsoStderr: c.Bool("DEFAULT", "use_stderr"), JSON: c.Bool("DEFAULT", "use_json"),
		Debug: c.Bool("DEFAULT", "debug"), Levels: c.List("DEFAULT", "default_log_levels"),
	}
}
