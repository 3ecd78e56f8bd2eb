package oslo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

const python = "/usr/bin/python3" // Debian's, where python3-oslo.messaging lives

// needPeer makes sure Debian's python3-oslo.messaging is installed.
func needPeer(t *testing.T) {
	t.Helper()
	if exec.Command(python, "-c", "import oslo_messaging").Run() == nil {
		return
	}
	if out, err := exec.Command("sh", "testdata/install-peer.sh").CombinedOutput(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("python3-oslo.messaging not installable: %v\n%s", err, out)
		}
		t.Fatalf("installing python3-oslo.messaging: %v\n%s", err, out)
	}
}

// pyLines runs peer.py and streams its JSON lines.
func startPeer(t *testing.T, args ...string) (lines <-chan map[string]any, stdin io.WriteCloser, wait func() error) {
	t.Helper()
	cmd := exec.Command(python, append([]string{"testdata/peer.py"}, args...)...)
	cmd.Stderr = &tailBuffer{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan map[string]any, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				ch <- m
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("peer %v stderr (tail):\n%s", args[0], cmd.Stderr.(*tailBuffer).String())
		}
	})
	return ch, stdin, cmd.Wait
}

// tailBuffer keeps the last 8 KiB written.
type tailBuffer struct{ b []byte }

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if len(w.b) > 8192 {
		w.b = w.b[len(w.b)-8192:]
	}
	return len(p), nil
}
func (w *tailBuffer) String() string { return string(w.b) }

func nextLine(t *testing.T, lines <-chan map[string]any, d time.Duration) map[string]any {
	t.Helper()
	select {
	case m, ok := <-lines:
		if !ok {
			t.Fatal("peer exited")
		}
		return m
	case <-time.After(d):
		t.Fatalf("no line from the peer within %s", d)
		return nil
	}
}

// The Go client against a Python oslo.messaging server.
func TestInteropGoCallsPython(t *testing.T) {
	needBroker(t, brokerAddr)
	needPeer(t)
	vh := testVhost(t, "")
	u := vhostURL(brokerAddr, vh)
	lines, _, _ := startPeer(t, "server", u, "py-agent", "pyhost")
	if m := nextLine(t, lines, 60*time.Second); m["ready"] != true {
		t.Fatalf("peer: %v", m)
	}
	tr := openTransport(t, u, fastOptions())
	ctx := context.Background()
	rc := AdminContext()

	res, err := tr.Call(ctx, rc, Target{Topic: "py-agent", Version: "1.5"}, "echo", map[string]any{"a": 1, "s": "é<&>"})
	var echo struct {
		Args      map[string]any `json:"args"`
		IsAdmin   bool           `json:"is_admin"`
		RequestID string         `json:"request_id"`
	}
	if err != nil || json.Unmarshal(res, &echo) != nil || echo.Args["a"] != float64(1) || echo.Args["s"] != "é<&>" ||
		!echo.IsAdmin || echo.RequestID != rc.String("request_id") {
		t.Fatalf("echo: %s %v", res, err)
	}
	_, err = tr.Call(ctx, rc, Target{Topic: "py-agent", Server: "pyhost", Version: "1.0"}, "fail", map[string]any{"x": 7})
	var re *RemoteError
	if !errors.As(err, &re) || re.Class != "ValueError" || re.Module != "builtins" || re.Message != "bad value 7" ||
		len(re.Traceback) == 0 || mustJSON(re.Args) != `["bad value 7"]` {
		t.Errorf("fail: %#v", err)
	}
	_, err = tr.Call(ctx, rc, Target{Topic: "py-agent", Version: "1.6"}, "echo", nil)
	if !errors.As(err, &re) || re.Class != "UnsupportedVersion" || re.Module != "oslo_messaging.rpc.dispatcher" {
		t.Errorf("version 1.6: %v", err)
	}
	_, err = tr.Call(ctx, rc, Target{Topic: "py-agent", Version: "1.0"}, "nothing", nil)
	if !errors.As(err, &re) || re.Class != "NoSuchMethod" {
		t.Errorf("no such method: %v", err)
	}

	for _, tg := range []Target{{Topic: "py-agent", Server: "pyhost"}, {Topic: "py-agent", Fanout: true}} {
		if err := tr.Cast(ctx, rc, tg, "note", map[string]any{"fanout": tg.Fanout}); err != nil {
			t.Fatal(err)
		}
		if m := nextLine(t, lines, 10*time.Second); m["cast"] != "note" || mustJSON(m["args"]) != mustJSON(map[string]any{"fanout": tg.Fanout}) {
			t.Errorf("cast %+v: peer saw %v", tg, m)
		}
	}
	res, err = tr.Call(ctx, rc, Target{Topic: "py-agent"}, "get_notes", nil)
	if err != nil || string(res) != `[{"fanout":false},{"fanout":true}]` && string(res) != `[{"fanout": false}, {"fanout": true}]` {
		var notes []map[string]bool
		if json.Unmarshal(res, &notes) != nil || len(notes) != 2 {
			t.Errorf("get_notes: %s %v", res, err)
		}
	}
}

// A Python oslo.messaging client against the Go server.
func TestInteropPythonCallsGo(t *testing.T) {
	needBroker(t, brokerAddr)
	needPeer(t)
	vh := testVhost(t, "")
	u := vhostURL(brokerAddr, vh)
	tr := openTransport(t, u, fastOptions())
	rec := newRecorder()
	var d Dispatcher
	d.Add(Endpoint{Version: "1.5", Methods: map[string]Handler{
		"echo": func(_ context.Context, req *Request) (any, error) {
			return map[string]any{"args": req.Args, "version": req.Version, "request_id": req.Context["request_id"]}, nil
		},
		"fail_builtin": func(context.Context, *Request) (any, error) {
			return nil, Exception("builtins", "ValueError", "bad input", nil)
		},
		"fail_neutron": func(context.Context, *Request) (any, error) {
			return nil, Exception("neutron_lib.exceptions", "PortNotFound", "Port p1 could not be found.", map[string]any{"port_id": "p1"})
		},
		"note": rec.handler,
		"slow": func(context.Context, *Request) (any, error) {
			time.Sleep(4 * time.Second)
			return "done", nil
		},
	}})
	startServer(t, tr, ServerTarget{Topic: "go-plugin", Host: "gohost"}, &d)

	lines, _, _ := startPeer(t, "client", u, "go-plugin", "gohost")
	got := map[string]map[string]any{}
	for len(got) < 10 {
		m := nextLine(t, lines, 60*time.Second)
		got[m["step"].(string)] = m
	}
	want := map[string]string{
		"echo":           `{"result":{"args":{"a":1,"b":["x",null]},"request_id":"req-from-python","version":"1.5"},"step":"echo"}`,
		"echo_host":      `{"result":{"args":{"a":2},"request_id":"req-from-python","version":"1.2"},"step":"echo_host"}`,
		"fail_builtin":   `{"error":{"exc_type":null,"module":"builtins","str":"bad input","type":"ValueError","value":null},"step":"fail_builtin"}`,
		"fail_neutron":   `{"error":{"exc_type":"PortNotFound","module":"oslo_messaging.rpc.client","str":"Remote error: PortNotFound Port p1 could not be found.","type":"RemoteError","value":"Port p1 could not be found."},"step":"fail_neutron"}`,
		"no_such_method": `{"error":{"exc_type":null,"module":"oslo_messaging.rpc.dispatcher_Remote","str":"Endpoint does not support RPC method no_such_method","type":"NoSuchMethod_Remote","value":null},"step":"no_such_method"}`,
		"bad_version":    `{"error":{"exc_type":null,"module":"oslo_messaging.rpc.dispatcher_Remote","str":"Endpoint does not support RPC version 1.6. Attempted method: echo","type":"UnsupportedVersion_Remote","value":null},"step":"bad_version"}`,
		"cast":           `{"result":null,"step":"cast"}`,
		"slow":           `{"result":"done","step":"slow"}`,
	}
	for step, w := range want {
		if g := mustJSON(got[step]); g != w {
			t.Errorf("%s:\n got %s\nwant %s", step, g, w)
		}
	}
	seen := map[string]bool{}
	for range 3 {
		req := rec.wait(t, 10*time.Second)
		if req.IsCall || req.Context["request_id"] != "req-from-python" {
			t.Errorf("cast: %+v", req)
		}
		seen[argString(t, req, "x")] = true
	}
	if !seen["cast"] || !seen["host"] || !seen["fanout"] {
		t.Errorf("casts seen: %v", seen)
	}
}
