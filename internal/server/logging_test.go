package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestLoggingTextFormat(t *testing.T) {
	var buf syncBuf
	l, err := NewLogging(LogConfig{Levels: []string{"keystonemiddleware=WARN", "neutron.policy=DEBUG"}}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	log := l.Logger()
	ctx := reqctx.With(context.Background(), &reqctx.Context{RequestID: "req-1", UserID: "u1", ProjectID: "p1", UserDomainID: "default", ProjectDomainID: "default"})
	log.InfoContext(ctx, "hello", "n", 3, "s", "two words")
	log.Info("outside")
	log.Debug("hidden")
	log.With("logger", "neutron.policy").DebugContext(ctx, "decision")
	log.With("logger", "keystonemiddleware.auth_token").Info("quiet")
	log.WithGroup("g").Warn("grouped", "k", "v")
	l.Close()
	out := buf.String()
	for _, want := range []string{
		" INFO neutron [None req-1 u1 p1 - - default default] hello n=3 s=\"two words\"\n",
		" INFO neutron [-] outside\n",
		" DEBUG neutron.policy [None req-1 u1 p1 - - default default] decision\n",
		" WARNING neutron [-] grouped g.k=v\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") || strings.Contains(out, "quiet") {
		t.Errorf("levels not applied:\n%s", out)
	}
}

func TestLoggingJSONAndReopen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "n.log")
	l, err := NewLogging(LogConfig{File: file, JSON: true, Debug: true}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	log := l.Logger()
	ctx := reqctx.With(context.Background(), &reqctx.Context{RequestID: "req-2", ProjectID: "p2"})
	log.DebugContext(ctx, "first", "err", errors.New("boom"))
	l.Flush()
	os.Rename(file, file+".1")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	log.Info("second")
	if err := l.Apply(LogConfig{File: filepath.Join(dir, "missing", "x.log")}); err == nil {
		t.Fatal("a log file that cannot be opened was accepted")
	}
	log.Info("third") // still to the reopened file
	l.Close()
	old, _ := os.ReadFile(file + ".1")
	var line struct {
		Message, Levelname string
		Context            map[string]any
		Extra              map[string]any
	}
	if err := json.Unmarshal(old, &line); err != nil {
		t.Fatalf("%v: %s", err, old)
	}
	if line.Message != "first" || line.Levelname != "DEBUG" || line.Context["request_id"] != "req-2" || line.Context["project"] != "p2" || line.Extra["err"] != "boom" {
		t.Fatalf("JSON line: %s", old)
	}
	cur, _ := os.ReadFile(file)
	if !strings.Contains(string(cur), `"message":"second"`) || !strings.Contains(string(cur), `"message":"third"`) || strings.Contains(string(cur), "first") {
		t.Fatalf("reopened file: %s", cur)
	}
}

func TestLoggingBadLevels(t *testing.T) {
	for _, lv := range []string{"nolevel", "x=LOUD"} {
		if _, err := NewLogging(LogConfig{Levels: []string{lv}}, os.Stderr); err == nil {
			t.Errorf("default_log_levels %q accepted", lv)
		}
	}
}
