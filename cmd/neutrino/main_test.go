package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

var binary string

func TestMain(m *testing.M) {
	if b := os.Getenv("NEUTRINO_TEST_BINARY"); b != "" {
		// run the tests against another build (e.g. an older one, to
		// measure what a fix changes)
		binary = b
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "neutrino-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "neutrino")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a neutrino process under test.
type proc struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
	err  error
	// afterChange, when set, runs after each openstack CLI command that changes something (the
	// OVN smoke test checks the Northbound database there)
	afterChange func(t *testing.T, args []string)
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

type lockedWriter struct{ p *proc }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.logs.Write(b)
}

// start runs `neutrino serve` with args on a free port and a temp SQLite DB.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	base := []string{"serve"}
	if !hasArg(args, "--config-file") {
		base = append(base, "--bind-port", fmt.Sprint(port))
		if !hasArg(args, "--database-connection") {
			base = append(base, "--database-connection", "sqlite:///"+filepath.Join(dir, "n.db"))
		}
	}
	p := &proc{url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	p.cmd = exec.Command(binary, append(base, args...)...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = lockedWriter{p}, lockedWriter{p}
	// a child process still holding the output pipe must not hang Wait
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("server log:\n%s", p.log())
		}
	})
	return p
}

func hasArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

// waitUp polls GET / until it answers.
func (p *proc) waitUp(t *testing.T, within time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	client := &http.Client{Timeout: time.Second}
	for time.Since(t0) < within {
		resp, err := client.Get(p.url + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(t0)
			}
		}
		select {
		case <-p.done:
			t.Fatalf("server exited: %v", p.err)
		case <-time.After(2 * time.Millisecond):
		}
	}
	t.Fatalf("server not answering after %v", within)
	return 0
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "neutrino ") {
		t.Fatalf("version: %v %s", err, out)
	}
}

// TestFirstRequestFast: serve on the embedded default answers its first
// request within 0.2 s of being started (fresh database, migrations
// included).
func TestFirstRequestFast(t *testing.T) {
	best := time.Hour
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		p := start(t, nil)
		p.waitUp(t, 10*time.Second)
		if d := time.Since(t0); d < best {
			best = d
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
	}
	t.Logf("first answer after %v", best)
	if best > 200*time.Millisecond {
		t.Fatalf("first request answered after %v, want < 200ms", best)
	}
}

// TestEmbeddedDefaultServices: without a config file the server offers what
// the reference profile does (routers, QoS, trunks, segments, port
// forwarding): a new user's `openstack router create` works.
func TestEmbeddedDefaultServices(t *testing.T) {
	p := start(t, nil)
	p.waitUp(t, 10*time.Second)
	r := testutil.Do(t, "POST", p.url+"/v2.0/routers", map[string]any{"router": map[string]any{"name": "r", "tenant_id": "p"}})
	r.Expect(t, 201)
	have := map[string]bool{}
	for _, e := range testutil.Do(t, "GET", p.url+"/v2.0/extensions", nil).Expect(t, 200).List("extensions") {
		have[e["alias"].(string)] = true
	}
	for _, a := range []string{"router", "qos", "trunk", "segment", "floating-ip-port-forwarding", "port-security", "dns-integration"} {
		if !have[a] {
			t.Errorf("extension %s not served by the embedded default", a)
		}
	}
}

// TestSIGTERMDrainsInFlight: a request in progress when SIGTERM arrives is
// completed, then the process exits 0.
func TestSIGTERMDrainsInFlight(t *testing.T) {
	p := start(t, nil)
	p.waitUp(t, 10*time.Second)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", p.url+"/v2.0/networks", pr)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{0, err}
			return
		}
		resp.Body.Close()
		res <- result{resp.StatusCode, nil}
	}()
	io.WriteString(pw, `{"network": {"name": `)
	time.Sleep(100 * time.Millisecond) // the request is now in flight
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	select {
	case <-p.done:
		t.Fatal("exited before the in-flight request finished")
	default:
	}
	io.WriteString(pw, `"drained"}}`)
	pw.Close()
	r := <-res
	if r.err != nil || r.status != 201 {
		t.Fatalf("in-flight request: %d %v", r.status, r.err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit after draining")
	}
	if p.err != nil {
		t.Fatalf("exit: %v", p.err)
	}
	// new connections are refused once stopped
	if _, err := http.Get(p.url + "/"); err == nil {
		t.Fatal("still accepting after SIGTERM")
	}
}

// TestSystemdNotify: READY=1 is sent on NOTIFY_SOCKET once listening.
func TestSystemdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p := start(t, []string{"NOTIFY_SOCKET=" + sock})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	if !strings.Contains(string(buf[:n]), "READY=1") {
		t.Fatalf("notification %q", buf[:n])
	}
	// it is listening by then
	resp, err := http.Get(p.url + "/")
	if err != nil {
		t.Fatalf("not listening when READY=1 was sent: %v", err)
	}
	resp.Body.Close()
}

var reqIDRE = regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestRequestIDAndAccessLog: every /v2.0 response carries a request id,
// and each request is logged once with it.
func TestRequestIDAndAccessLog(t *testing.T) {
	p := start(t, nil)
	p.waitUp(t, 10*time.Second)
	for _, path := range []string{"/v2.0/networks", "/v2.0/nope", "/v2.0/networks/x"} {
		resp, err := http.Get(p.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := resp.Header.Get("X-Openstack-Request-Id")
		if !reqIDRE.MatchString(id) {
			t.Fatalf("%s: request id %q", path, id)
		}
		deadline := time.Now().Add(2 * time.Second)
		for !strings.Contains(p.log(), id) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := len(regexp.MustCompile(regexp.QuoteMeta(id)+`[^\n]*status: `).FindAllString(p.log(), -1)); n != 1 {
			t.Fatalf("request %s has %d access log lines", id, n)
		}
		if !strings.Contains(p.log(), fmt.Sprintf("GET %s HTTP/1.1\" status: %d", path, resp.StatusCode)) {
			t.Fatalf("no access log line for %s", path)
		}
	}
	resp, err := http.Get(p.url + "/healthcheck")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "OK" {
		t.Fatalf("healthcheck: %d %q", resp.StatusCode, body)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigFiles: later files override earlier ones, flags override files,
// unknown options warn once each, bad values stop start-up naming the
// option, and the effective options are logged.
func TestConfigFiles(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	a := writeFile(t, dir, "a.conf", fmt.Sprintf(`[DEFAULT]
auth_strategy = noauth
bind_host = 127.0.0.2
bind_port = 1
core_plugin = ml2
made_up_option = 1
[database]
connection = sqlite:///%s/x.db
[ml2]
type_drivers = vxlan
tenant_network_types = vxlan
[ml2_type_vxlan]
vni_ranges = 5:5
[unknown_section]
foo = bar
`, dir))
	b := writeFile(t, dir, "b.conf", fmt.Sprintf("[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = %d\n", port))
	p := start(t, nil, "--config-file", a, "--config-file", b, "--debug")
	p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	p.waitUp(t, 10*time.Second)
	log := p.log()
	for _, want := range []string{"made_up_option", "[unknown_section] foo", "bind_host = 127.0.0.1", fmt.Sprintf("bind_port = %d", port), "ml2_type_vxlan.vni_ranges = ['5:5']"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if n := strings.Count(log, "ignoring unknown option [DEFAULT] made_up_option"); n != 1 {
		t.Errorf("unknown option warned %d times", n)
	}
	// one VNI: the second network finds none
	for i, want := range []int{201, 503} {
		resp, err := http.Post(p.url+"/v2.0/networks", "application/json", strings.NewReader(fmt.Sprintf(`{"network":{"name":"n%d"}}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("network %d: %d, want %d", i, resp.StatusCode, want)
		}
	}

	// flags override files
	port2 := freePort(t)
	p2 := start(t, nil, "--config-file", a, "--config-file", b, "--bind-port", fmt.Sprint(port2))
	p2.url = fmt.Sprintf("http://127.0.0.1:%d", port2)
	p2.waitUp(t, 10*time.Second)

	// bad values name the option
	for opt, conf := range map[string]string{
		"bind_port":            "[DEFAULT]\nbind_port = lots\n",
		"auth_strategy":        "[DEFAULT]\nauth_strategy = magic\n",
		"api_workers":          "[DEFAULT]\napi_workers = -3\n",
		"connection":           "[DEFAULT]\nauth_strategy = noauth\n[database]\nconnection = oracle://x\n",
		"vni_ranges":           "[DEFAULT]\nauth_strategy = noauth\n[database]\nconnection = sqlite:///" + dir + "/y.db\n[ml2_type_vxlan]\nvni_ranges = 9:1\n[ml2]\ntype_drivers = vxlan\n",
		"allow_bulk":           "[DEFAULT]\nallow_bulk = maybe\n",
		"pagination_max_limit": "[DEFAULT]\nauth_strategy = noauth\npagination_max_limit = 0\n[database]\nconnection = sqlite:///" + dir + "/z.db\n",
	} {
		f := writeFile(t, dir, "bad.conf", conf)
		args := []string{"serve", "--config-file", f}
		if opt != "bind_port" {
			args = append(args, "--bind-port", fmt.Sprint(freePort(t)))
		}
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err == nil {
			t.Fatalf("%s: started with a bad value", opt)
		}
		if !strings.Contains(string(out), opt) {
			t.Fatalf("%s: error does not name the option:\n%s", opt, out)
		}
	}
}

// TestDBUpgrade: `neutrino db upgrade` migrates, `db version` reports.
func TestDBUpgrade(t *testing.T) {
	dir := t.TempDir()
	url := "sqlite:///" + filepath.Join(dir, "u.db")
	out, err := exec.Command(binary, "db", "upgrade", "--database-connection", url).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "schema version") {
		t.Fatalf("db upgrade: %v %s", err, out)
	}
	out, err = exec.Command(binary, "db", "version", "--database-connection", url).CombinedOutput()
	if err != nil {
		t.Fatalf("db version: %v %s", err, out)
	}
	var v, head int
	fmt.Sscanf(string(out), "%d (head %d)", &v, &head)
	if v == 0 || v != head {
		t.Fatalf("db version: %s", out)
	}
	// idempotent
	out, err = exec.Command(binary, "db", "upgrade", "--database-connection", url).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "applied 0 migration") {
		t.Fatalf("second db upgrade: %v %s", err, out)
	}
}

// TestAPIWorkers: api_workers=3 runs three worker processes behind one
// socket; SIGTERM stops them all and the parent exits 0.
func TestAPIWorkers(t *testing.T) {
	p := start(t, nil, "--api-workers", "3")
	p.waitUp(t, 15*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	var kids []int
	for time.Now().Before(deadline) {
		kids = children(p.cmd.Process.Pid)
		if len(kids) == 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(kids) != 3 {
		t.Fatalf("%d worker processes, want 3", len(kids))
	}
	for i := 0; i < 30; i++ {
		resp, err := http.Post(p.url+"/v2.0/networks", "application/json", strings.NewReader(`{"network":{"name":"w"}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("create: %d", resp.StatusCode)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatal("parent did not exit")
	}
	if p.err != nil {
		t.Fatalf("parent exit: %v", p.err)
	}
	for _, k := range kids {
		if syscall.Kill(k, 0) == nil {
			t.Fatalf("worker %d still running", k)
		}
	}
}

// children lists the pids whose parent is pid (from /proc).
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var p int
		if _, err := fmt.Sscanf(e.Name(), "%d", &p); err != nil {
			continue
		}
		f, err := os.Open(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		// pid (comm) state ppid ...
		if i := strings.LastIndex(line, ")"); i > 0 {
			var state string
			var ppid int
			fmt.Sscanf(line[i+1:], " %s %d", &state, &ppid)
			if ppid == pid && state != "Z" {
				out = append(out, p)
			}
		}
	}
	return out
}

// TestConfigDocUpToDate: docs/config.md is what `neutrino config-doc` prints.
func TestConfigDocUpToDate(t *testing.T) {
	var buf bytes.Buffer
	if code := run([]string{"config-doc"}, &buf, io.Discard); code != 0 {
		t.Fatal("config-doc failed")
	}
	want, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatal("docs/config.md is stale: run `go run ./cmd/neutrino config-doc > docs/config.md`")
	}
}
