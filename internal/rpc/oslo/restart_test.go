package oslo

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"sync"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// privateNode is a RabbitMQ node of the package's tests (restarting it
// disturbs nobody), started on first use and stopped by TestMain.
type privateNode struct {
	node, addr, tlsAddr, dir string
	err                      error
}

var (
	private     privateNode
	privateOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if private.node != "" {
		_ = exec.Command("sh", "testdata/private-rabbit.sh", "stop", private.node).Run()
		_ = os.RemoveAll(private.dir)
	}
	os.Exit(code)
}

// privateBroker returns the private node (plain and TLS listeners; the TLS
// one uses a CA in its directory, ca.pem).
func privateBroker(t *testing.T) privateNode {
	t.Helper()
	if _, err := exec.LookPath("rabbitmqctl"); err != nil || !hasUser("rabbitmq") {
		if os.Getenv("CI") == "" {
			t.Skip("rabbitmq-server is not installed")
		}
		t.Fatal("rabbitmq-server is not installed")
	}
	privateOnce.Do(func() {
		p := &private
		if p.dir, p.err = os.MkdirTemp("", "neutrino-rabbit-"); p.err != nil {
			return
		}
		if p.err = writeTestCerts(p.dir); p.err != nil {
			return
		}
		p.node = fmt.Sprintf("neutrino-test-%d@localhost", os.Getpid())
		port, tlsPort := freePort(t), freePort(t)
		p.addr, p.tlsAddr = fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", tlsPort)
		out, err := exec.Command("sh", "testdata/private-rabbit.sh", "start", p.dir, p.node,
			strconv.Itoa(port), strconv.Itoa(freePort(t)), strconv.Itoa(tlsPort)).CombinedOutput()
		if err != nil {
			p.err = fmt.Errorf("starting a private RabbitMQ: %v\n%s", err, out)
		}
	})
	if private.err != nil {
		t.Fatal(private.err)
	}
	return private
}

func hasUser(name string) bool { _, err := user.Lookup(name); return err == nil }

// RabbitMQ restarts (its transient queues vanish): servers and callers
// reconnect and re-declare, a cast published while the broker is down or
// right after it is back is not lost, and calls work again.
func TestBrokerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a RabbitMQ node of its own (~30 s)")
	}
	p := privateBroker(t)
	node := p.node
	u := vhostURL(p.addr, testVhost(t, node))
	rec := newRecorder()
	srvT := openTransport(t, u, fastOptions())
	startServer(t, srvT, ServerTarget{Topic: "q-plugin", Host: "ctl1"}, echoDispatcher(rec))
	cl := openTransport(t, u, fastOptions())
	ctx := context.Background()
	call := func() error {
		_, err := cl.Call(ctx, AdminContext(), Target{Topic: "q-plugin", Version: "1.1", Timeout: 30 * time.Second}, "get_host_ha_router_count", nil)
		return err
	}
	if err := call(); err != nil {
		t.Fatal(err)
	}

	rabbitmqctl(t, node, "stop_app")
	during := make(chan error, 1)
	go func() { // published while the broker is down: waits, then goes through
		during <- cl.Cast(ctx, AdminContext(), Target{Topic: "q-plugin", Mandatory: true}, "note", map[string]any{"x": "during"})
	}()
	time.Sleep(time.Second)
	rabbitmqctl(t, node, "start_app")
	// Right after the restart, before the server has re-declared its queue.
	if err := cl.Cast(ctx, AdminContext(), Target{Topic: "q-plugin", Server: "ctl1", Mandatory: true}, "note", map[string]any{"x": "after"}); err != nil {
		t.Fatal(err)
	}
	if err := <-during; err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for len(got) < 2 {
		got[argString(t, rec.wait(t, 30*time.Second), "x")] = true
	}
	if !got["during"] || !got["after"] {
		t.Errorf("casts after the restart: %v", got)
	}
	if err := call(); err != nil {
		t.Fatalf("call after the restart: %v", err)
	}
	// A plain cast and a fanout (the fanout queue was re-declared under
	// its old name) reach the server again.
	if err := cl.Cast(ctx, AdminContext(), Target{Topic: "q-plugin"}, "note", map[string]any{"x": "plain"}); err != nil {
		t.Fatal(err)
	}
	if err := cl.Cast(ctx, AdminContext(), Target{Topic: "q-plugin", Fanout: true}, "note", map[string]any{"x": "fanout"}); err != nil {
		t.Fatal(err)
	}
	for len(got) < 4 {
		got[argString(t, rec.wait(t, 10*time.Second), "x")] = true
	}
	if !got["plain"] || !got["fanout"] {
		t.Errorf("casts: %v", got)
	}
	rec.none(t, 500*time.Millisecond) // and nothing twice
}

// A transport_url listing a dead host first connects to the next one, and
// an unreachable broker is retried until it appears.
func TestFailoverToSecondHost(t *testing.T) {
	needBroker(t, brokerAddr)
	vh := testVhost(t, "")
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	u := "rabbit://guest:guest@" + dead + ",guest:guest@" + brokerAddr + "/" + vh
	tr := openTransport(t, u, fastOptions())
	startServer(t, tr, ServerTarget{Topic: "t"}, echoDispatcher(newRecorder()))
	if _, err := tr.Call(context.Background(), AdminContext(), Target{Topic: "t", Version: "1.0"}, "get_host_ha_router_count", nil); err != nil {
		t.Fatal(err)
	}
}
