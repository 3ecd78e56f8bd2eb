package oslo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Transport is one connection to the broker (kept up across broker
// restarts and failovers) and everything that uses it: RPC servers, the
// reply queue of calls, and the publisher channels.
type Transport struct {
	url  *TransportURL
	opts Options
	tls  *tls.Config
	log  *slog.Logger
	name string

	mu     sync.Mutex
	conn   *amqp.Connection
	ready  chan struct{} // closed while conn is usable
	closed bool
	done   chan struct{}
	next   int // next host to try
	wg     sync.WaitGroup

	pubs chan *pubChannel // idle publisher channels

	replyMu sync.Mutex
	reply   *replyWaiter

	obsoleteMu sync.Mutex
	obsolete   map[string]time.Time // reply queues found missing, with when
}

// Open parses transport_url, applies its query to opts, and starts
// connecting in the background; operations wait for the connection (see
// WaitConnected). It fails only on a bad URL or TLS setup.
func Open(transportURL string, opts Options, log *slog.Logger) (*Transport, error) {
	u, err := ParseTransportURL(transportURL)
	if err != nil {
		return nil, err
	}
	if opts, err = opts.withQuery(u.Query); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	t := &Transport{url: u, opts: opts, log: log.With("component", "oslo.messaging"),
		ready: make(chan struct{}), done: make(chan struct{}),
		pubs: make(chan *pubChannel, 16), obsolete: map[string]time.Time{},
		name: fmt.Sprintf("%s:%d:%s", filepath.Base(os.Args[0]), os.Getpid(), newUniqueID())}
	if opts.SSL {
		if t.tls, err = tlsConfig(opts); err != nil {
			return nil, err
		}
	}
	if opts.FailoverStrategy == "shuffle" {
		rand.Shuffle(len(u.Hosts), func(i, j int) { u.Hosts[i], u.Hosts[j] = u.Hosts[j], u.Hosts[i] })
	}
	t.wg.Add(1)
	go t.maintain()
	return t, nil
}

// Options returns the effective options (configuration + transport_url query).
func (t *Transport) Options() Options { return t.opts }

func tlsConfig(o Options) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	switch o.SSLVersion {
	case "TLSv1":
		c.MinVersion = tls.VersionTLS10
	case "TLSv1_1":
		c.MinVersion = tls.VersionTLS11
	case "TLSv1_3":
		c.MinVersion = tls.VersionTLS13
	}
	if o.SSLCAFile != "" {
		pem, err := os.ReadFile(o.SSLCAFile)
		if err != nil {
			return nil, fmt.Errorf("[%s] ssl_ca_file: %w", Group, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("[%s] ssl_ca_file %s: no certificate found", Group, o.SSLCAFile)
		}
		c.RootCAs = pool
	} else {
		// kombu/py-amqp without ca_certs does not verify the broker.
		c.InsecureSkipVerify = true
	}
	if o.SSLCertFile != "" || o.SSLKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.SSLCertFile, o.SSLKeyFile)
		if err != nil {
			return nil, fmt.Errorf("[%s] ssl_cert_file/ssl_key_file: %w", Group, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Close stops every server and consumer of the transport and closes the
// connection.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.done)
	t.mu.Unlock()
	t.wg.Wait()
	return nil
}

// WaitConnected waits until the transport has a connection.
func (t *Transport) WaitConnected(ctx context.Context) error {
	_, err := t.getConn(ctx)
	return err
}

// getConn returns the current connection, waiting for one.
func (t *Transport) getConn(ctx context.Context) (*amqp.Connection, error) {
	for {
		t.mu.Lock()
		conn, ready, closed := t.conn, t.ready, t.closed
		t.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		if conn != nil && !conn.IsClosed() {
			return conn, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.done:
			return nil, ErrClosed
		}
		if conn != nil { // ready was the stale one of a lost connection
			t.pause(ctx, 50*time.Millisecond)
		}
	}
}

// pause sleeps d unless ctx or the transport ends first.
func (t *Transport) pause(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	case <-t.done:
		return false
	}
}

// maintain keeps a connection open: connect (rotating hosts, with backoff),
// publish it, wait for it to close, wait kombu_reconnect_delay, again.
func (t *Transport) maintain() {
	defer t.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-t.done; cancel() }()
	for {
		conn := t.connect(ctx)
		if conn == nil {
			return
		}
		lost := conn.NotifyClose(make(chan *amqp.Error, 1))
		t.mu.Lock()
		t.conn = conn
		close(t.ready)
		t.mu.Unlock()
		select {
		case err := <-lost:
			t.log.Error("AMQP connection lost", "error", err)
		case <-t.done:
			_ = conn.Close()
			return
		}
		t.mu.Lock()
		t.conn = nil
		t.ready = make(chan struct{})
		t.mu.Unlock()
		if !t.pause(ctx, t.opts.ReconnectDelay) {
			return
		}
	}
}

// connect tries every host in turn; after a round of failures it sleeps
// rabbit_retry_interval, growing by rabbit_retry_backoff up to
// rabbit_interval_max. It returns nil when the transport is closed.
func (t *Transport) connect(ctx context.Context) *amqp.Connection {
	interval := max(t.opts.RetryInterval, 50*time.Millisecond)
	for {
		for range t.url.Hosts {
			i := t.next
			t.next = (t.next + 1) % len(t.url.Hosts)
			conn, err := t.dial(i)
			if err == nil {
				t.next = i // stay on a working host
				t.log.Info("connected to AMQP server", "host", t.url.Addr(i), "vhost", t.url.Vhost())
				return conn
			}
			t.log.Error("AMQP server unreachable", "host", t.url.Addr(i), "error", err, "retry_in", interval)
			if ctx.Err() != nil {
				return nil
			}
		}
		if !t.pause(ctx, interval) {
			return nil
		}
		interval = min(interval+t.opts.RetryBackoff, max(t.opts.IntervalMax, interval))
	}
}

func (t *Transport) dial(i int) (*amqp.Connection, error) {
	addr, user, pass := t.url.dialInfo(i, t.opts.SSL)
	var auth amqp.Authentication = &amqp.AMQPlainAuth{Username: user, Password: pass}
	if t.opts.LoginMethod == "PLAIN" {
		auth = &amqp.PlainAuth{Username: user, Password: pass}
	}
	hb := time.Duration(t.opts.HeartbeatThreshold) * time.Second
	if hb <= 0 {
		hb = 500 * time.Millisecond // below 1 s: use the broker's value
	}
	props := amqp.NewConnectionProperties()
	props["connection_name"] = t.name
	cfg := amqp.Config{SASL: []amqp.Authentication{auth}, Vhost: t.url.Vhost(), Heartbeat: hb,
		Properties: props, Dial: amqp.DefaultDial(10 * time.Second)}
	if t.tls != nil {
		c := t.tls.Clone()
		c.ServerName = t.url.Hosts[i].Hostname
		cfg.TLSClientConfig = c
	}
	return amqp.DialConfig(addr, cfg)
}

// isConnErr reports whether err means the connection or channel went away
// (as opposed to a broker refusal such as a precondition failure).
func isConnErr(err error) bool {
	if errors.Is(err, amqp.ErrClosed) {
		return true
	}
	var ae *amqp.Error
	if errors.As(err, &ae) {
		return ae.Recover || ae.Code == amqp.ConnectionForced || ae.Code == amqp.ChannelError
	}
	return false
}
