package oslo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// brokerAddr is the RabbitMQ every test uses (guest/guest).
const brokerAddr = "127.0.0.1:5672"

// needBroker skips when RabbitMQ is unreachable, unless CI is set.
func needBroker(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("RabbitMQ not reachable on %s: %v", addr, err)
		}
		t.Fatalf("RabbitMQ not reachable on %s: %v", addr, err)
	}
	_ = c.Close()
}

func rabbitmqctl(t *testing.T, node string, args ...string) string {
	t.Helper()
	if node != "" {
		args = append([]string{"-n", node}, args...)
	}
	out, err := exec.Command("rabbitmqctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// testVhost creates a vhost of the test's own on node ("" = the default
// broker), gives guest every permission, and deletes it at the end.
func testVhost(t *testing.T, node string) string {
	t.Helper()
	name := "neutrino-test-" + nonName.ReplaceAllString(t.Name(), "-") + "-" + newUniqueID()[:8]
	rabbitmqctl(t, node, "add_vhost", name)
	t.Cleanup(func() { rabbitmqctl(t, node, "delete_vhost", name) })
	rabbitmqctl(t, node, "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
	return name
}

func vhostURL(addr, vhost string) string {
	return "rabbit://guest:guest@" + addr + "/" + url.PathEscape(vhost)
}

// fastOptions are the defaults with quick reconnection, for tests.
func fastOptions() Options {
	o := DefaultOptions()
	o.RetryInterval = 100 * time.Millisecond
	o.RetryBackoff = 100 * time.Millisecond
	o.IntervalMax = time.Second
	o.ReconnectDelay = 100 * time.Millisecond
	o.RPCResponseTimeout = 10 * time.Second
	o.HeartbeatThreshold = 10
	return o
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// openTransport opens a transport on url and waits for its connection.
func openTransport(t *testing.T, rawURL string, o Options) *Transport {
	t.Helper()
	tr, err := Open(rawURL, o, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tr.WaitConnected(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return tr
}

func startServer(t *testing.T, tr *Transport, tg ServerTarget, d *Dispatcher) *Server {
	t.Helper()
	s := tr.NewServer(tg, d, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

type listedQueue struct {
	Name       string  `json:"name"`
	Durable    bool    `json:"durable"`
	AutoDelete bool    `json:"auto_delete"`
	RawArgs    [][]any `json:"arguments"` // [name, AMQP type, value]
	// Arguments maps each argument to "<AMQP type>:<value>".
	Arguments map[string]string `json:"-"`
}

type listedExchange struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Durable    bool   `json:"durable"`
	AutoDelete bool   `json:"auto_delete"`
}

func listQueues(t *testing.T, node, vhost string) map[string]listedQueue {
	var qs []listedQueue
	out := rabbitmqctl(t, node, "list_queues", "-q", "-p", vhost, "name", "durable", "auto_delete", "arguments", "--formatter", "json")
	if err := json.Unmarshal([]byte(out), &qs); err != nil {
		t.Fatalf("list_queues: %v\n%s", err, out)
	}
	m := map[string]listedQueue{}
	for _, q := range qs {
		q.Arguments = map[string]string{}
		for _, a := range q.RawArgs {
			if len(a) == 3 {
				v := fmt.Sprint(a[2])
				if f, ok := a[2].(float64); ok {
					v = strconv.FormatFloat(f, 'f', -1, 64)
				}
				q.Arguments[fmt.Sprint(a[0])] = fmt.Sprintf("%v:%s", a[1], v)
			}
		}
		m[q.Name] = q
	}
	return m
}

func listExchanges(t *testing.T, node, vhost string) map[string]listedExchange {
	var xs []listedExchange
	out := rabbitmqctl(t, node, "list_exchanges", "-q", "-p", vhost, "name", "type", "durable", "auto_delete", "--formatter", "json")
	if err := json.Unmarshal([]byte(out), &xs); err != nil {
		t.Fatalf("list_exchanges: %v\n%s", err, out)
	}
	m := map[string]listedExchange{}
	for _, x := range xs {
		m[x.Name] = x
	}
	return m
}

// recorder collects casts.
type recorder struct{ ch chan *Request }

func newRecorder() *recorder { return &recorder{ch: make(chan *Request, 64)} }

func (r *recorder) handler(_ context.Context, req *Request) (any, error) {
	r.ch <- req
	return nil, nil
}

func (r *recorder) wait(t *testing.T, d time.Duration) *Request {
	t.Helper()
	select {
	case req := <-r.ch:
		return req
	case <-time.After(d):
		t.Fatalf("no message within %s", d)
		return nil
	}
}

func (r *recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case req := <-r.ch:
		t.Fatalf("unexpected message %s %v", req.Method, req.Args)
	case <-time.After(d):
	}
}

func argString(t *testing.T, req *Request, name string) string {
	t.Helper()
	var s string
	if _, err := req.Args.Get(name, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return string(b)
}
