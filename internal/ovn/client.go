package ovn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
)

// ErrClosed is returned by a Client after Close.
var ErrClosed = errors.New("ovn: client closed")

// Client is a connection to one OVN database (Northbound or Southbound) that keeps itself
// connected: it dials the remotes in order, retries with exponential backoff (capped at
// Config.RetryMaxInterval) until one answers, monitors the configured tables into libovsdb's
// cache, probes an idle connection, and starts over whenever the connection drops. After every
// (re)connection the cache is rebuilt from scratch, so subscribed handlers see every row added
// again: that is their signal to resynchronise.
type Client struct {
	name     string // database name, for messages
	cfg      Config
	tables   []model.Model
	log      *slog.Logger
	ovsdb    client.Client
	handlers []cache.EventHandler
	columns  map[model.Model][]any // monitored columns of some tables (all when absent)

	mu        sync.Mutex
	ready     chan struct{} // closed while connected
	connects  int           // successful connections so far
	closed    chan struct{}
	closeOnce sync.Once
	disc      chan struct{} // libovsdb's disconnect notifications, forwarded (buffered)
	wg        sync.WaitGroup
}

// newClient prepares a client of dbModel for the remotes of db; nothing is dialled before Start.
func newClient(dbModel model.ClientDBModel, db DBConfig, cfg Config, tables []model.Model, log *slog.Logger) (*Client, error) {
	eps, err := db.Endpoints()
	if err != nil {
		return nil, err
	}
	tlsConf, err := db.TLSConfig()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	log = log.With("ovsdb", dbModel.Name())
	// libovsdb logs through logr; only its errors (V(0)) reach our log.
	lr := logr.FromSlogHandler(log.Handler())
	opts := []client.Option{client.WithLogger(&lr)}
	for _, ep := range eps {
		opts = append(opts, client.WithEndpoint(ep))
	}
	if tlsConf != nil {
		opts = append(opts, client.WithTLSConfig(tlsConf))
	}
	// No client.WithReconnect: its retry loop cannot be stopped (and panics when a backoff gives
	// up), so reconnection is done here, where Close ends it.
	oc, err := client.NewOVSDBClient(dbModel, opts...)
	if err != nil {
		return nil, fmt.Errorf("ovn: %s client: %w", dbModel.Name(), err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultConfig().Timeout
	}
	if cfg.RetryMaxInterval <= 0 {
		cfg.RetryMaxInterval = DefaultConfig().RetryMaxInterval
	}
	return &Client{
		name: dbModel.Name(), cfg: cfg, tables: tables, log: log, ovsdb: oc,
		ready: make(chan struct{}), closed: make(chan struct{}), disc: make(chan struct{}, 1),
	}, nil
}

// Subscribe adds a cache event handler (called for the monitored tables, in order, from one
// goroutine). It must be called before Start.
func (c *Client) Subscribe(h cache.EventHandler) {
	c.handlers = append(c.handlers, h)
}

// Columns limits the monitoring of table m (one of the tables the client was made with, the same
// pointer) to the given fields of m (pointers into it): the cache then holds only those columns.
// A big set column that is only ever written (such as a switch's ports) is best left out: every
// change of it would bring the whole set again. It must be called before Start.
func (c *Client) Columns(m model.Model, fields ...any) {
	if c.columns == nil {
		c.columns = map[model.Model][]any{}
	}
	c.columns[m] = fields
}

// Start begins connecting in the background; use WaitConnected to wait for the first connection.
func (c *Client) Start() {
	c.wg.Add(2)
	go c.forwardDisconnects()
	go c.run()
}

// Close stops reconnecting and closes the connection.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.ovsdb.Close()
	})
	c.wg.Wait()
}

// Connected reports whether the client is connected with its monitors in place.
func (c *Client) Connected() bool {
	select {
	case <-c.readyChan():
		return true
	default:
		return false
	}
}

// Connections counts the successful connections so far (1 after the first, +1 per reconnection).
func (c *Client) Connections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connects
}

// WaitConnected blocks until the client is connected, ctx ends or the client is closed.
func (c *Client) WaitConnected(ctx context.Context) error {
	select {
	case <-c.readyChan():
		return nil
	case <-c.closed:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("ovn: waiting for %s: %w", c.name, ctx.Err())
	}
}

// OVSDB is the underlying libovsdb client: its cache API (List, Get, WhereCache, ...) for reads and
// its operation builders; use it while connected (see WaitConnected).
func (c *Client) OVSDB() client.Client { return c.ovsdb }

// List waits for the connection (bounded by the configured timeout when ctx has no deadline) and
// lists the cached rows of result's table into result (a pointer to a slice of models).
func (c *Client) List(ctx context.Context, result any) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		return err
	}
	return c.ovsdb.List(ctx, result)
}

// Get fills m from the cache by its UUID or one of its table's indexes (client.ErrNotFound if absent).
func (c *Client) Get(ctx context.Context, m model.Model) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		return err
	}
	return c.ovsdb.Get(ctx, m)
}

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

func (c *Client) readyChan() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}

func (c *Client) setConnected(up bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if up {
		c.connects++
		close(c.ready)
	} else {
		c.ready = make(chan struct{})
	}
}

// forwardDisconnects keeps receiving libovsdb's disconnect notifications, which it sends without
// blocking and so would drop while run is busy elsewhere.
func (c *Client) forwardDisconnects() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ovsdb.DisconnectNotify():
			select {
			case c.disc <- struct{}{}:
			default:
			}
		case <-c.closed:
			return
		}
	}
}

// run is the connection loop: connect (with backoff), serve until the connection drops, repeat.
func (c *Client) run() {
	defer c.wg.Done()
	defer c.ovsdb.Close() // a Connect that raced with Close leaves a connection behind
	delay := 250 * time.Millisecond
	for {
		err := c.connectOnce()
		if err == nil {
			delay = 250 * time.Millisecond
			c.setConnected(true)
			c.log.Info("connected", "endpoint", c.ovsdb.CurrentEndpoint())
			dropped := c.serve()
			c.setConnected(false)
			if !dropped {
				return
			}
			c.log.Warn("connection lost, reconnecting")
			continue
		}
		if c.isClosed() {
			return
		}
		c.log.Warn("cannot connect", "error", err, "retry_in", delay.String())
		// jitter of up to a fifth keeps several processes from reconnecting in lockstep
		wait := delay + time.Duration(rand.Int64N(int64(delay)/5+1))
		select {
		case <-c.closed:
			return
		case <-time.After(wait):
		}
		delay = min(delay*2, c.cfg.RetryMaxInterval)
	}
}

// connectOnce dials, subscribes the handlers to the fresh cache and sets up the monitors.
func (c *Client) connectOnce() error {
	ctx, cancel := context.WithTimeout(context.Background(), min(c.cfg.Timeout, 30*time.Second))
	defer cancel()
	if err := c.ovsdb.Connect(ctx); err != nil {
		return err
	}
	for _, h := range c.handlers {
		c.ovsdb.Cache().AddEventHandler(h)
	}
	var mopts []client.MonitorOption
	for _, t := range c.tables {
		mopts = append(mopts, client.WithTable(t, c.columns[t]...))
	}
	if _, err := c.ovsdb.Monitor(ctx, c.ovsdb.NewMonitor(mopts...)); err != nil {
		c.dropAndWait()
		return fmt.Errorf("monitor: %w", err)
	}
	return nil
}

// dropAndWait closes a connection that connectOnce set up and waits until libovsdb has finished
// tearing it down (its notification), so that the next Connect starts clean.
func (c *Client) dropAndWait() {
	c.ovsdb.Disconnect()
	select {
	case <-c.disc:
	case <-c.closed:
	case <-time.After(10 * time.Second):
	}
}

// serve waits while connected, probing an idle connection; it returns true when the connection
// dropped (the teardown finished) and false when the client was closed.
func (c *Client) serve() bool {
	var probe <-chan time.Time
	if p := c.cfg.probeInterval(); p > 0 {
		t := time.NewTicker(p)
		defer t.Stop()
		probe = t.C
	}
	for {
		select {
		case <-c.disc:
			return true
		case <-c.closed:
			return false
		case <-probe:
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.probeInterval())
			err := c.ovsdb.Echo(ctx)
			cancel()
			if err != nil && !c.isClosed() {
				c.log.Warn("no answer to the echo probe, dropping the connection", "error", err)
				c.dropAndWait()
				return true
			}
		}
	}
}

func (c *Client) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}
