package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LogConfig is the part of oslo.log neutrino implements.
type LogConfig struct {
	// File is the log file (log_dir joined with log_file); "" logs to stderr.
	File string
	// AlsoStderr logs to stderr as well as to File (use_stderr).
	AlsoStderr bool
	// JSON writes one JSON object per line (use_json), as oslo.log's
	// JSONFormatter.
	JSON bool
	// Debug lowers the default level from INFO to DEBUG.
	Debug bool
	// Levels are default_log_levels: "logger=LEVEL", the level of a logger
	// and of every logger below it (the longest matching name wins).
	Levels []string
}

// LoggerKey is the attribute naming a logger (oslo's %(name)s), set with
// Logger.With(LoggerKey, "neutron.wsgi"); it is not printed as an attribute.
const LoggerKey = "logger"

// Logging is the process's log output: an oslo.log-like format (text or
// JSON), per-logger levels, every line logged with a request's context
// carrying its request id, user and project, and a log file that Reopen
// opens anew (after logrotate moved it) without losing a line.
type Logging struct {
	stderr io.Writer
	out    *LogWriter
	mu     sync.Mutex // file, cfg
	file   *os.File
	cfg    LogConfig
	state  atomic.Pointer[logState]
	host   string
	pid    int
}

type logState struct {
	json   bool
	root   slog.Level
	levels []namedLevel // longest name first
}

type namedLevel struct {
	name  string
	level slog.Level
}

// NewLogging opens the log output described by cfg.
func NewLogging(cfg LogConfig, stderr io.Writer) (*Logging, error) {
	host, _ := os.Hostname()
	l := &Logging{stderr: stderr, host: host, pid: os.Getpid()}
	l.out = NewLogWriter(io.Discard, 100*time.Millisecond)
	if err := l.Apply(cfg); err != nil {
		l.out.Close()
		return nil, err
	}
	return l, nil
}

// Logger returns the root logger (name "neutron").
func (l *Logging) Logger() *slog.Logger { return slog.New(&logHandler{l: l, name: "neutron"}) }

// Flush writes out buffered lines.
func (l *Logging) Flush() { l.out.Flush() }

// Close flushes and closes the log file.
func (l *Logging) Close() {
	l.out.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
}

// Reopen opens the log file again (SIGHUP after log rotation).
func (l *Logging) Reopen() error {
	l.mu.Lock()
	cfg := l.cfg
	l.mu.Unlock()
	return l.Apply(cfg)
}

// Apply switches to cfg: levels and format at once, and the output file
// opened anew. On error the previous output stays in use.
func (l *Logging) Apply(cfg LogConfig) error {
	st, err := parseLevels(cfg)
	if err != nil {
		return err
	}
	var f *os.File
	var w io.Writer = l.stderr
	if cfg.File != "" {
		f, err = os.OpenFile(cfg.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("log file: %v", err)
		}
		w = f
		if cfg.AlsoStderr {
			w = io.MultiWriter(f, l.stderr)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.out.SetOutput(w)
	if l.file != nil {
		l.file.Close()
	}
	l.file, l.cfg = f, cfg
	l.state.Store(st)
	return nil
}

func parseLevels(cfg LogConfig) (*logState, error) {
	st := &logState{json: cfg.JSON, root: slog.LevelInfo}
	if cfg.Debug {
		st.root = slog.LevelDebug
	}
	for _, kv := range cfg.Levels {
		name, lv, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("default_log_levels: %q is not logger=LEVEL", kv)
		}
		var level slog.Level
		switch strings.ToUpper(strings.TrimSpace(lv)) {
		case "DEBUG", "TRACE":
			level = slog.LevelDebug
		case "INFO":
			level = slog.LevelInfo
		case "WARN", "WARNING":
			level = slog.LevelWarn
		case "ERROR", "CRITICAL", "FATAL":
			level = slog.LevelError
		default:
			return nil, fmt.Errorf("default_log_levels: unknown level %q for %s", lv, name)
		}
		st.levels = append(st.levels, namedLevel{strings.TrimSpace(name), level})
	}
	sort.SliceStable(st.levels, func(i, j int) bool { return len(st.levels[i].name) > len(st.levels[j].name) })
	return st, nil
}

func (st *logState) levelFor(name string) slog.Level {
	for _, nl := range st.levels {
		if name == nl.name || strings.HasPrefix(name, nl.name) && name[len(nl.name)] == '.' {
			return nl.level
		}
	}
	return st.root
}

// logHandler is the slog.Handler of a Logging.
type logHandler struct {
	l      *Logging
	name   string
	attrs  []slog.Attr // with group prefixes applied
	prefix string      // open groups, "a.b."
	cache  atomic.Pointer[levelCache]
}

type levelCache struct {
	st    *logState
	level slog.Level
}

func (h *logHandler) Enabled(_ context.Context, level slog.Level) bool {
	st := h.l.state.Load()
	c := h.cache.Load()
	if c == nil || c.st != st {
		c = &levelCache{st: st, level: st.levelFor(h.name)}
		h.cache.Store(c)
	}
	return level >= c.level
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &logHandler{l: h.l, name: h.name, prefix: h.prefix, attrs: append([]slog.Attr{}, h.attrs...)}
	for _, a := range as {
		if a.Key == LoggerKey && h.prefix == "" {
			n.name = a.Value.String()
			continue
		}
		a.Key = h.prefix + a.Key
		n.attrs = append(n.attrs, a)
	}
	return n
}

func (h *logHandler) WithGroup(g string) slog.Handler {
	if g == "" {
		return h
	}
	return &logHandler{l: h.l, name: h.name, prefix: h.prefix + g + ".", attrs: h.attrs}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := h.attrs
	if r.NumAttrs() > 0 {
		attrs = append(make([]slog.Attr, 0, len(attrs)+r.NumAttrs()), attrs...)
		r.Attrs(func(a slog.Attr) bool {
			a.Key = h.prefix + a.Key
			attrs = append(attrs, a)
			return true
		})
	}
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	if h.l.state.Load().json {
		b = h.appendJSON(b, ctx, r, attrs)
	} else {
		b = h.appendText(b, ctx, r, attrs)
	}
	_, err := h.l.out.Write(b)
	*bp = b
	bufPool.Put(bp)
	return err
}

// levelName is oslo's %(levelname)s.
func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARNING"
	}
	return "ERROR"
}
