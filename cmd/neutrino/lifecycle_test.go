package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestServeMigrationPolicy: on PostgreSQL and MySQL, serve does not touch
// an empty database (it stops, saying to run db upgrade) unless
// [database] auto_migrate = true or --auto-migrate; after db upgrade it
// serves.
func TestServeMigrationPolicy(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		if e.Name == "sqlite" {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			dir := t.TempDir()
			out, errOut, code := runBin(t, dir, "serve", "--database-connection", url, "--auth-strategy", "noauth", "--bind-port", fmt.Sprint(freePort(t)))
			if code != 1 || !strings.Contains(out+errOut, "no neutrino schema") || !strings.Contains(out+errOut, "neutrino db upgrade") {
				t.Fatalf("serve on an empty %s database: exit %d\n%s%s", e.Name, code, out, errOut)
			}
			out, _, _ = runBin(t, dir, "db", "version", "--database-connection", url)
			if !strings.HasPrefix(out, "0 (head ") {
				t.Fatalf("serve migrated the database: db version says %q", out)
			}
			// asked in the configuration file: it migrates
			port := freePort(t)
			conf := writeFile(t, dir, "n.conf", fmt.Sprintf("[DEFAULT]\nauth_strategy = noauth\nbind_host = 127.0.0.1\nbind_port = %d\n[database]\nconnection = %s\nauto_migrate = true\n", port, url))
			p := start(t, nil, "--config-file", conf)
			p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
			p.waitUp(t, 20*time.Second)
			if !strings.Contains(p.log(), "database schema migrated") {
				t.Fatal("auto_migrate = true did not migrate")
			}
			out, _, _ = runBin(t, dir, "db", "version", "--database-connection", url)
			if !strings.Contains(out, "up to date") {
				t.Fatalf("db version after auto_migrate: %q", out)
			}
		})
	}
	// --auto-migrate on a fresh PostgreSQL or MySQL database
	for _, e := range testutil.Engines(t) {
		if e.Name == "sqlite" {
			continue
		}
		url := e.URL(t)
		p := start(t, nil, "--database-connection", url, "--auto-migrate")
		p.waitUp(t, 20*time.Second)
		break
	}
}

// TestSIGHUPReload: SIGHUP re-reads the configuration files and reopens
// the log file, logging that it does, while a kept-alive connection goes
// on serving; a broken file leaves the running configuration in place.
// (TestSIGHUPPolicy checks the policy reload with Keystone users.)
func TestSIGHUPReload(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	logFile := filepath.Join(dir, "neutrino.log")
	confText := fmt.Sprintf("[DEFAULT]\nauth_strategy = noauth\nbind_host = 127.0.0.1\nbind_port = %d\nlog_dir = %s\nlog_file = neutrino.log\n[database]\nconnection = sqlite:///%s/n.db\n[oslo_policy]\npolicy_file = %s/policy.yaml\n", port, dir, dir, dir)
	conf := writeFile(t, dir, "neutron.conf", confText)
	p := start(t, nil, "--config-file", conf)
	p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	p.waitUp(t, 10*time.Second)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	post := func() (int, bool) {
		reused := false
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
			"POST", p.url+"/v2.0/networks", strings.NewReader(`{"network":{"name":"hup"}}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request after SIGHUP: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, reused
	}
	if code, _ := post(); code != 201 {
		t.Fatalf("create: %d", code)
	}
	waitLog := func(path, want string) { t.Helper(); waitFile(t, path, want) }
	waitLog(logFile, `"POST /v2.0/networks HTTP/1.1" status: 201`)

	// logrotate moves the file; debug is switched on
	if err := os.Rename(logFile, logFile+".1"); err != nil {
		t.Fatal(err)
	}
	confText = strings.Replace(confText, "[DEFAULT]\n", "[DEFAULT]\ndebug = true\n", 1)
	writeFile(t, dir, "neutron.conf", confText)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(logFile+".1", "caught SIGHUP")
	waitLog(logFile, "reload done")
	code, reused := post()
	if code != 201 {
		t.Fatalf("create after SIGHUP: %d", code)
	}
	if !reused {
		t.Fatal("the kept-alive connection was dropped by SIGHUP")
	}
	waitLog(logFile, `"POST /v2.0/networks HTTP/1.1" status: 201`)
	waitLog(logFile, "policy check passed")

	// a broken configuration: the running one stays
	writeFile(t, dir, "neutron.conf", confText+"[DEFAULT]\nbind_port = lots\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(logFile, "reload failed, the running configuration stays")
	if code, _ := post(); code != 201 {
		t.Fatalf("after a failed reload: %d", code)
	}
	select {
	case <-p.done:
		t.Fatalf("the server exited: %v", p.err)
	default:
	}
}

// TestSIGHUPWorkers: with api_workers the parent passes SIGHUP on to every
// worker, and they all keep serving.
func TestSIGHUPWorkers(t *testing.T) {
	p := start(t, nil, "--api-workers", "2")
	p.waitUp(t, 15*time.Second)
	time.Sleep(300 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(p.log(), "reload done") < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := strings.Count(p.log(), "reload done"); n != 3 {
		t.Fatalf("%d processes reloaded, want 3 (parent and 2 workers)", n)
	}
	for i := 0; i < 4; i++ {
		resp, err := http.Get(p.url + "/v2.0/networks")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("after SIGHUP: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}

// waitFile waits until the file at path holds want.
func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("%s lacks %q:\n%s", path, want, b)
}
