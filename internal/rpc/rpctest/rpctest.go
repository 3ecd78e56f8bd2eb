// Package rpctest helps tests of the RPC side: a RabbitMQ vhost of the
// test's own (or a RabbitMQ node of its own, to restart), a neutrino
// server with RPC workers on it, and an agent-side transport to call them
// as the Neutron agents do.
package rpctest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// BrokerAddr is the RabbitMQ tests use (guest/guest).
const BrokerAddr = "127.0.0.1:5672"

var nonName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Vhost makes a vhost of the test's own on the local RabbitMQ (deleted at
// the end) and returns its transport_url; it skips when RabbitMQ is
// unreachable, unless CI is set.
func Vhost(t testing.TB) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", BrokerAddr, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("RabbitMQ not reachable on %s: %v", BrokerAddr, err)
		}
		t.Fatalf("RabbitMQ not reachable on %s: %v", BrokerAddr, err)
	}
	_ = c.Close()
	name := "neutrino-test-" + nonName.ReplaceAllString(t.Name(), "-") + "-" + uuid.NewString()[:8]
	ctl(t, "add_vhost", name)
	t.Cleanup(func() { ctl(t, "delete_vhost", name) })
	ctl(t, "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
	return "rabbit://guest:guest@" + BrokerAddr + "/" + url.PathEscape(name)
}

func ctl(t testing.TB, args ...string) {
	out, err := exec.Command("rabbitmqctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Logger is a test's logger: stderr with NEUTRINO_TEST_LOG, else nothing.
func Logger() *slog.Logger {
	if os.Getenv("NEUTRINO_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Server is a neutrino with its RPC workers.
type Server struct {
	*testutil.Server
	RPC          *rpc.Service
	TransportURL string
}

// Start runs a neutrino (options as testutil's; transport_url and host
// "neutrino" are set) with its RPC workers started.
func Start(t testing.TB, transportURL string, o testutil.Options) *Server {
	t.Helper()
	set := map[string]string{"DEFAULT.transport_url": transportURL, "DEFAULT.host": "neutrino"}
	for k, v := range o.Set {
		set[k] = v
	}
	o.Set = set
	srv := testutil.StartServer(t, o)
	svc, err := rpc.New(srv.App.Env, Logger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop(context.Background()) })
	return &Server{Server: srv, RPC: svc, TransportURL: transportURL}
}

// Agent is the agents' side of the bus.
type Agent struct {
	T *oslo.Transport
}

// NewAgent opens an agent-side transport.
func NewAgent(t testing.TB, transportURL string) *Agent {
	t.Helper()
	o := oslo.DefaultOptions()
	o.RPCResponseTimeout = 20 * time.Second
	tr, err := oslo.Open(transportURL, o, Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return &Agent{T: tr}
}

// Call calls a server topic as an agent does (admin context, no namespace).
func (a *Agent) Call(t testing.TB, topic, version, method string, args map[string]any) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := a.T.Call(ctx, oslo.AdminContext(), oslo.Target{Topic: topic, Version: version}, method, args)
	if err != nil {
		t.Fatalf("%s %s: %v", topic, method, err)
	}
	return res
}

// Received are the requests a Listen consumer got.
type Received struct {
	mu   sync.Mutex
	reqs []*oslo.Request
	on   func(*oslo.Request)
}

// OnRequest calls f with every request received from now on.
func (r *Received) OnRequest(f func(*oslo.Request)) {
	r.mu.Lock()
	r.on = f
	r.mu.Unlock()
}

// All returns the requests so far.
func (r *Received) All() []*oslo.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*oslo.Request(nil), r.reqs...)
}

// Wait waits until a request satisfies ok, and returns it.
func (r *Received) Wait(t testing.TB, what string, ok func(*oslo.Request) bool) *oslo.Request {
	t.Helper()
	return r.WaitWithin(t, 15*time.Second, what, ok)
}

// WaitWithin is Wait for up to d.
func (r *Received) WaitWithin(t testing.TB, d time.Duration, what string, ok func(*oslo.Request) bool) *oslo.Request {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, q := range r.All() {
			if ok(q) {
				return q
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s received; got %d requests", what, len(r.All()))
	return nil
}

// Listen consumes a topic as an agent on host does (its queues and fanout)
// and records every request, answering null.
func (a *Agent) Listen(t testing.TB, topic, host string) *Received {
	t.Helper()
	rec := &Received{}
	var d oslo.Dispatcher
	d.Add(oslo.Endpoint{Version: "99.0", Methods: map[string]oslo.Handler{}})
	d.Fallback = func(_ context.Context, req *oslo.Request) (any, error) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, req)
		on := rec.on
		rec.mu.Unlock()
		if on != nil {
			on(req)
		}
		return nil, nil
	}
	srv := a.T.NewServer(oslo.ServerTarget{Topic: topic, Host: host}, &d, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	return rec
}

// Broker is a RabbitMQ node of one test's own, which the test may restart
// without disturbing anybody else on the machine.
type Broker struct {
	URL             string // transport_url of its vhost
	node, dir, port string
	dist, script    string
	stopped         bool
	t               testing.TB
}

// PrivateBroker starts a RabbitMQ node for the test (oslo's
// testdata/private-rabbit.sh: the rabbitmq user, free ports, its own
// directory; ~30 s) with a vhost, and stops it when the test ends; it
// skips without rabbitmq-server unless CI is set.
func PrivateBroker(t testing.TB) *Broker {
	t.Helper()
	if _, err := exec.LookPath("rabbitmq-server"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") == "" {
			t.Skip("a private RabbitMQ node needs rabbitmq-server and root")
		}
		t.Fatal("a private RabbitMQ node needs rabbitmq-server and root under CI=true")
	}
	_, self, _, _ := runtime.Caller(0)
	b := &Broker{t: t, script: filepath.Join(filepath.Dir(self), "..", "oslo", "testdata", "private-rabbit.sh"),
		node: "neutrino-" + uuid.NewString()[:8] + "@localhost", port: freePort(t), dist: freePort(t)}
	dir, err := os.MkdirTemp("", "neutrino-rabbit-")
	if err != nil {
		t.Fatal(err)
	}
	b.dir = dir
	t.Cleanup(func() {
		if !b.stopped {
			_ = exec.Command("sh", b.script, "stop", b.node).Run()
		}
		_ = os.RemoveAll(dir)
	})
	b.Start()
	out, err := exec.Command("rabbitmqctl", "-q", "-n", b.node, "add_vhost", "neutrino").CombinedOutput()
	if err == nil {
		out, err = exec.Command("rabbitmqctl", "-q", "-n", b.node, "set_permissions", "-p", "neutrino", "guest", ".*", ".*", ".*").CombinedOutput()
	}
	if err != nil {
		t.Fatalf("vhost on the private node: %v\n%s", err, out)
	}
	b.URL = "rabbit://guest:guest@127.0.0.1:" + b.port + "/neutrino"
	return b
}

// Start starts the node again after Stop, on the same port (its
// durable queues and their messages are kept).
func (b *Broker) Start() {
	b.t.Helper()
	out, err := exec.Command("sh", b.script, "start", b.dir, b.node, b.port, b.dist).CombinedOutput()
	if err != nil {
		b.t.Fatalf("starting the private RabbitMQ: %v\n%s", err, out)
	}
	b.stopped = false
}

// Stop stops the node: every connection drops, the transient queues
// vanish.
func (b *Broker) Stop() {
	b.t.Helper()
	if out, err := exec.Command("sh", b.script, "stop", b.node).CombinedOutput(); err != nil {
		b.t.Fatalf("stopping the private RabbitMQ: %v\n%s", err, out)
	}
	b.stopped = true
}

// Restart stops the node and starts it again after down.
func (b *Broker) Restart(down time.Duration) {
	b.t.Helper()
	b.Stop()
	time.Sleep(down)
	b.Start()
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
