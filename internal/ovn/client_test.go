package ovn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

func testLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fastConfig reconnects quickly so the tests do not wait for Neutron's 180 s defaults.
func fastConfig(nb string) Config {
	c := DefaultConfig()
	c.NB = DBConfig{Connection: nb}
	c.Timeout = 5 * time.Second
	c.RetryMaxInterval = 200 * time.Millisecond
	c.ProbeInterval = 0
	return c
}

func startNB(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := NewNB(cfg, nil, testLog())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitUntil(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// events records cache events by table.
type events struct {
	mu   sync.Mutex
	adds map[string][]model.Model
	upd  map[string]int
	dels map[string]int
}

func newEvents() *events {
	return &events{adds: map[string][]model.Model{}, upd: map[string]int{}, dels: map[string]int{}}
}

func (e *events) handler() cache.EventHandler {
	return &cache.EventHandlerFuncs{
		AddFunc: func(table string, m model.Model) {
			e.mu.Lock()
			e.adds[table] = append(e.adds[table], m)
			e.mu.Unlock()
		},
		UpdateFunc: func(table string, _, _ model.Model) { e.mu.Lock(); e.upd[table]++; e.mu.Unlock() },
		DeleteFunc: func(table string, _ model.Model) { e.mu.Lock(); e.dels[table]++; e.mu.Unlock() },
	}
}

func (e *events) count(kind, table string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch kind {
	case "add":
		return len(e.adds[table])
	case "update":
		return e.upd[table]
	}
	return e.dels[table]
}

// createSwitch writes a switch with one port, referencing the port by its named UUID.
func createSwitch(t *testing.T, c *Client, name, port string) map[string]string {
	t.Helper()
	lsp := &nbdb.LogicalSwitchPort{UUID: NamedUUID(port), Name: port,
		Addresses: []string{"fa:16:3e:00:00:01 10.0.0.5"}, ExternalIDs: map[string]string{"neutron:revision_number": "1"}}
	ls := &nbdb.LogicalSwitch{UUID: NamedUUID(name), Name: name, Ports: []string{lsp.UUID},
		ExternalIDs: map[string]string{"neutron:network_name": "net1"}}
	named, err := c.Txn().Create(lsp, ls).Commit(context.Background())
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return named
}

func TestMonitorTransactAndEvents(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "nb.sock")
	memNB(t, sock)
	c := startNB(t, fastConfig("unix:"+sock))
	ev := newEvents()
	c.Subscribe(ev.handler())
	c.Start()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	named := createSwitch(t, c, "neutron-n1", "p1")
	if len(named) != 2 || named[NamedUUID("p1")] == "" || named[NamedUUID("neutron-n1")] == "" {
		t.Fatalf("named UUIDs not resolved: %v", named)
	}
	waitUntil(t, "the port in the cache", 2*time.Second, func() bool { return ev.count("add", nbdb.LogicalSwitchPortTable) == 1 })
	var switches []nbdb.LogicalSwitch
	if err := c.List(ctx, &switches); err != nil || len(switches) != 1 {
		t.Fatalf("list: %v %v", switches, err)
	}
	if s := switches[0]; s.UUID != named[NamedUUID("neutron-n1")] || len(s.Ports) != 1 || s.Ports[0] != named[NamedUUID("p1")] {
		t.Fatalf("switch row %+v, named %v", s, named)
	}

	// update by the name index, then read it back by the index
	lsp := &nbdb.LogicalSwitchPort{Name: "p1", Addresses: []string{"fa:16:3e:00:00:01 10.0.0.6"}}
	if _, err := c.Txn().Update(lsp, &lsp.Addresses).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the update event", 2*time.Second, func() bool { return ev.count("update", nbdb.LogicalSwitchPortTable) == 1 })
	got := &nbdb.LogicalSwitchPort{Name: "p1"}
	if err := c.Get(ctx, got); err != nil || got.Addresses[0] != "fa:16:3e:00:00:01 10.0.0.6" || got.ExternalIDs["neutron:revision_number"] != "1" {
		t.Fatalf("get after update: %+v %v", got, err)
	}

	// mutate a map, then delete with conditions (the port row goes with its switch's reference)
	ls := &nbdb.LogicalSwitch{UUID: switches[0].UUID}
	if _, err := c.Txn().Mutate(ls, model.Mutation{Field: &ls.ExternalIDs, Mutator: ovsdb.MutateOperationInsert,
		Value: map[string]string{"neutron:revision_number": "2"}}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the mutation", 2*time.Second, func() bool {
		s := &nbdb.LogicalSwitch{UUID: switches[0].UUID}
		return c.Get(ctx, s) == nil && s.ExternalIDs["neutron:revision_number"] == "2"
	})
	lsDel := &nbdb.LogicalSwitch{}
	lspDel := &nbdb.LogicalSwitchPort{Name: "p1"}
	if _, err := c.Txn().DeleteWhere(lsDel, model.Condition{Field: &lsDel.Name, Function: ovsdb.ConditionEqual, Value: "neutron-n1"}).
		Delete(lspDel).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the deletes", 2*time.Second, func() bool {
		return ev.count("delete", nbdb.LogicalSwitchTable) == 1 && ev.count("delete", nbdb.LogicalSwitchPortTable) == 1
	})
	if err := c.Get(ctx, &nbdb.LogicalSwitchPort{Name: "p1"}); !IsNotFound(err) {
		t.Fatalf("deleted port still found: %v", err)
	}
}

func TestTransactionErrors(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "nb.sock")
	memNB(t, sock)
	c := startNB(t, fastConfig("unix:"+sock))
	c.Start()
	defer c.Close()
	ctx := context.Background()
	createSwitch(t, c, "neutron-a", "dup")
	// a second port with the same name violates the Logical_Switch_Port name index
	dup := &nbdb.LogicalSwitchPort{UUID: NamedUUID("dup2"), Name: "dup"}
	ls := &nbdb.LogicalSwitch{UUID: NamedUUID("b"), Name: "neutron-b", Ports: []string{dup.UUID}}
	_, err := c.Txn().Create(dup, ls).Commit(ctx)
	var te *TxnError
	if !errors.As(err, &te) {
		t.Fatalf("expected a TxnError, got %v", err)
	}
	var switches []nbdb.LogicalSwitch
	if err := c.List(ctx, &switches); err != nil || len(switches) != 1 {
		t.Fatalf("the failed transaction left rows: %v %v", switches, err)
	}
	// a builder error (a model of no table) stops before anything is sent
	if _, err := c.Txn().Create(&struct{ UUID string }{}).Commit(ctx); err == nil {
		t.Fatal("expected an error for a model of no table")
	}
	if res, err := c.Transact(ctx); res != nil || err != nil {
		t.Fatalf("empty transaction: %v %v", res, err)
	}
}

func TestReconnectAfterServerLoss(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "nb.sock")
	memNB(t, sock)
	px := newProxy(t, sock, nil)
	c := startNB(t, fastConfig("tcp:"+px.addr))
	ev := newEvents()
	c.Subscribe(ev.handler())
	c.Start()
	defer c.Close()
	createSwitch(t, c, "neutron-r1", "r1")
	waitUntil(t, "first add", 2*time.Second, func() bool { return ev.count("add", nbdb.LogicalSwitchTable) == 1 })

	px.Down()
	waitUntil(t, "the client to notice", 5*time.Second, func() bool { return !c.Connected() })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := c.Txn().Create(&nbdb.LogicalSwitch{Name: "x"}).Commit(ctx)
	cancel()
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("transaction while down: %v", err)
	}

	// a write issued while the server is down waits for the reconnection and then succeeds
	done := make(chan error, 1)
	go func() {
		_, err := c.Txn().Create(&nbdb.LogicalSwitch{Name: "neutron-r2"}).Commit(context.Background())
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	px.Up()
	if err := <-done; err != nil {
		t.Fatalf("write across the reconnection: %v", err)
	}
	if n := c.Connections(); n != 2 {
		t.Fatalf("connections = %d, want 2", n)
	}
	// the rebuilt cache replays every row as added: r1 twice in all, r2 once
	waitUntil(t, "replayed adds", 2*time.Second, func() bool { return ev.count("add", nbdb.LogicalSwitchTable) == 3 })
	var switches []nbdb.LogicalSwitch
	if err := c.List(context.Background(), &switches); err != nil || len(switches) != 2 {
		t.Fatalf("after reconnection: %v %v", switches, err)
	}
}

func TestConnectsWhenServerComesLater(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "nb.sock")
	c := startNB(t, fastConfig("unix:"+sock))
	c.Start()
	defer c.Close()
	time.Sleep(400 * time.Millisecond) // a few failed attempts
	if c.Connected() {
		t.Fatal("connected to nothing")
	}
	memNB(t, sock)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCloseWhileDisconnected(t *testing.T) {
	c := startNB(t, fastConfig("unix:"+filepath.Join(t.TempDir(), "none.sock")))
	c.Start()
	time.Sleep(100 * time.Millisecond)
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close hung while reconnecting")
	}
	if err := c.WaitConnected(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitConnected after Close: %v", err)
	}
}

func TestProbeDropsHungConnection(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "nb.sock")
	memNB(t, sock)
	px := newProxy(t, sock, nil)
	cfg := fastConfig("tcp:" + px.addr)
	cfg.ProbeInterval = 300 * time.Millisecond // raised to Neutron's minimum of one second
	c := startNB(t, cfg)
	c.Start()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	px.Freeze() // the connection stays open, nothing answers
	waitUntil(t, "the probe to drop the connection", 5*time.Second, func() bool { return !c.Connected() })
	if d := time.Since(start); d < time.Second {
		t.Fatalf("dropped after %v, before the one-second minimum probe interval", d)
	}
	px.Down()
	px.Up()
	waitUntil(t, "reconnection", 5*time.Second, func() bool { return c.Connections() == 2 && c.Connected() })
}

func TestSSLConnection(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "nb.sock")
	memNB(t, sock)
	srvTLS, key, cert, ca := pki(t, dir)
	px := newProxy(t, sock, srvTLS)
	cfg := fastConfig("ssl:" + px.addr)
	cfg.NB.PrivateKey, cfg.NB.Certificate, cfg.NB.CACert = key, cert, ca
	c := startNB(t, cfg)
	c.Start()
	defer c.Close()
	createSwitch(t, c, "neutron-ssl", "s1")

	// a server certificate from another CA is refused
	other := t.TempDir()
	otherTLS, _, _, _ := pki(t, other)
	px2 := newProxy(t, sock, otherTLS)
	cfg2 := cfg
	cfg2.NB.Connection = "ssl:" + px2.addr
	c2 := startNB(t, cfg2)
	c2.Start()
	defer c2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	if err := c2.WaitConnected(ctx); err == nil {
		t.Fatal("connected to a server whose certificate is not from our CA")
	}
}
