package oslo

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func echoDispatcher(rec *recorder) *Dispatcher {
	var d Dispatcher
	d.Add(Endpoint{Version: "1.1", Methods: map[string]Handler{
		"get_host_ha_router_count": func(_ context.Context, req *Request) (any, error) {
			var host string
			_, err := req.Args.Get("host", &host)
			return map[string]any{"host": host, "version": req.Version, "admin": req.Context["is_admin"]}, err
		},
		"fail": func(context.Context, *Request) (any, error) {
			return nil, Exception("neutron_lib.exceptions", "PortNotFound", "Port p1 could not be found.", map[string]any{"port_id": "p1"})
		},
		"panics": func(context.Context, *Request) (any, error) { panic("bad endpoint") },
		"note":   rec.handler,
	}}, Endpoint{Version: "2.0", Methods: map[string]Handler{
		"v2only": func(context.Context, *Request) (any, error) { return json.RawMessage(`[1,2]`), nil },
	}})
	return &d
}

func TestCallCastAndFailures(t *testing.T) {
	needBroker(t, brokerAddr)
	vh := testVhost(t, "")
	tr := openTransport(t, vhostURL(brokerAddr, vh), fastOptions())
	rec := newRecorder()
	startServer(t, tr, ServerTarget{Topic: "q-l3-plugin", Host: "ctl1"}, echoDispatcher(rec))
	ctx := context.Background()

	for _, tg := range []Target{{Topic: "q-l3-plugin", Version: "1.1"}, {Topic: "q-l3-plugin", Server: "ctl1", Version: "1.0"}} {
		res, err := tr.Call(ctx, AdminContext(), tg, "get_host_ha_router_count", map[string]any{"host": "vm"})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(res, &got); err != nil || got["host"] != "vm" || got["version"] != tg.Version || got["admin"] != true {
			t.Errorf("%+v: result %s", tg, res)
		}
	}
	if res, err := tr.Call(ctx, AdminContext(), Target{Topic: "q-l3-plugin", Version: "2.0"}, "v2only", nil); err != nil || string(res) != "[1,2]" {
		t.Errorf("v2only: %s %v", res, err)
	}

	_, err := tr.Call(ctx, AdminContext(), Target{Topic: "q-l3-plugin", Version: "1.0"}, "fail", nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Class != "PortNotFound" || re.Module != "neutron_lib.exceptions" || re.Kwargs["port_id"] != "p1" {
		t.Errorf("fail: %v", err)
	}
	_, err = tr.Call(ctx, AdminContext(), Target{Topic: "q-l3-plugin", Version: "1.0"}, "panics", nil)
	if !errors.As(err, &re) || re.Class != "Exception" {
		t.Errorf("panics: %v", err)
	}
	_, err = tr.Call(ctx, AdminContext(), Target{Topic: "q-l3-plugin", Version: "1.1"}, "nope", nil)
	if !errors.As(err, &re) || re.Class != "NoSuchMethod" {
		t.Errorf("unknown method: %v", err)
	}
	_, err = tr.Call(ctx, AdminContext(), Target{Topic: "q-l3-plugin", Version: "1.2"}, "get_host_ha_router_count", nil)
	if !errors.As(err, &re) || re.Class != "UnsupportedVersion" {
		t.Errorf("version 1.2 on a 1.1 endpoint: %v", err)
	}

	if err := tr.Cast(ctx, AdminContext(), Target{Topic: "q-l3-plugin", Server: "ctl1", Version: "1.0"}, "note", map[string]any{"x": "host"}); err != nil {
		t.Fatal(err)
	}
	if req := rec.wait(t, 5*time.Second); req.IsCall || argString(t, req, "x") != "host" {
		t.Errorf("cast: %+v", req)
	}
	if err := tr.Cast(ctx, AdminContext(), Target{Topic: "q-l3-plugin", Fanout: true, Version: "1.0"}, "note", map[string]any{"x": "fanout"}); err != nil {
		t.Fatal(err)
	}
	if req := rec.wait(t, 5*time.Second); argString(t, req, "x") != "fanout" {
		t.Errorf("fanout: %+v", req)
	}
}

func TestFanoutReachesEveryServerAndTopicOnlyOne(t *testing.T) {
	needBroker(t, brokerAddr)
	vh := testVhost(t, "")
	u := vhostURL(brokerAddr, vh)
	recs := []*recorder{newRecorder(), newRecorder()}
	for i, host := range []string{"a", "b"} {
		tr := openTransport(t, u, fastOptions())
		startServer(t, tr, ServerTarget{Topic: "dhcp_agent", Host: host}, echoDispatcher(recs[i]))
	}
	cl := openTransport(t, u, fastOptions())
	ctx := context.Background()
	if err := cl.Cast(ctx, AdminContext(), Target{Topic: "dhcp_agent", Fanout: true}, "note", map[string]any{"x": "all"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if req := r.wait(t, 5*time.Second); argString(t, req, "x") != "all" || req.Version != "1.0" {
			t.Errorf("fanout: %+v", req)
		}
	}
	if err := cl.Cast(ctx, AdminContext(), Target{Topic: "dhcp_agent", Server: "b"}, "note", map[string]any{"x": "b"}); err != nil {
		t.Fatal(err)
	}
	if req := recs[1].wait(t, 5*time.Second); argString(t, req, "x") != "b" {
		t.Errorf("host cast: %+v", req)
	}
	recs[0].none(t, 300*time.Millisecond)
}

func TestCallTimeoutAndExpiration(t *testing.T) {
	needBroker(t, brokerAddr)
	vh := testVhost(t, "")
	tr := openTransport(t, vhostURL(brokerAddr, vh), fastOptions())
	// A bare queue stands for a server that is down: the call times out,
	// and the request it left carries expiration = the timeout.
	raw := rawChannel(t, vhostURL(brokerAddr, vh))
	if _, err := raw.QueueDeclare("q-plugin", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := declareExchange(raw, tr.topicExchange("")); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueueBind("q-plugin", "q-plugin", "neutron", false, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := tr.Call(context.Background(), AdminContext(), Target{Topic: "q-plugin", Version: "1.9", Timeout: 700 * time.Millisecond}, "update_device_list", nil)
	var te *TimeoutError
	if !errors.As(err, &te) || time.Since(start) > 3*time.Second {
		t.Fatalf("want a timeout after 0.7 s, got %v after %s", err, time.Since(start))
	}
	// The request expired in the queue (nobody consumed it within 700 ms).
	time.Sleep(300 * time.Millisecond)
	if _, ok, err := raw.Get("q-plugin", true); ok || err != nil {
		t.Errorf("expired request still queued (ok=%v, err=%v)", ok, err)
	}
	// A fresh request, read at once, shows the properties and envelope.
	go func() {
		_, _ = tr.Call(context.Background(), AdminContext(), Target{Topic: "q-plugin", Version: "1.9", Timeout: 5 * time.Second}, "update_device_list", map[string]any{"host": "vm"})
	}()
	var d amqp.Delivery
	for i := 0; i < 50; i++ {
		var ok bool
		if d, ok, err = raw.Get("q-plugin", true); ok || err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d.Expiration != "5000" || d.ContentType != "application/json" || d.ContentEncoding != "utf-8" || d.DeliveryMode != 2 {
		t.Errorf("properties: expiration %q type %q encoding %q mode %d", d.Expiration, d.ContentType, d.ContentEncoding, d.DeliveryMode)
	}
	m, err := decodeMessage(d.Body)
	if err != nil || m.MsgID == "" || len(m.ReplyQ) != len("reply_")+32 || m.Version != "1.9" || m.Method != "update_device_list" {
		t.Errorf("call message: %+v %v", m, err)
	}
}

func TestReplyToMissingQueueGivesUp(t *testing.T) {
	needBroker(t, brokerAddr)
	vh := testVhost(t, "")
	o := fastOptions()
	o.MissingConsumerRetry = 600 * time.Millisecond
	tr := openTransport(t, vhostURL(brokerAddr, vh), o)
	start := time.Now()
	err := tr.sendReply("reply_nobody", "m1", "x", nil)
	if !errors.Is(err, ErrUndeliverable) || time.Since(start) < 500*time.Millisecond {
		t.Fatalf("want ErrUndeliverable after the retry window, got %v after %s", err, time.Since(start))
	}
	start = time.Now()
	if err := tr.sendReply("reply_nobody", "m2", "x", nil); err == nil || time.Since(start) > 100*time.Millisecond {
		t.Errorf("second reply to a gone queue: %v after %s (want an immediate drop)", err, time.Since(start))
	}
	// A cast to a topic nobody consumes is dropped (confirmed, unrouted)
	// unless Mandatory, which reports it.
	if err := tr.Cast(context.Background(), AdminContext(), Target{Topic: "nobody"}, "x", nil); err != nil {
		t.Errorf("plain cast: %v", err)
	}
	err = tr.Cast(context.Background(), AdminContext(), Target{Topic: "nobody", Mandatory: true, MandatoryWindow: 300 * time.Millisecond}, "x", nil)
	if !errors.Is(err, ErrUndeliverable) {
		t.Errorf("mandatory cast: %v", err)
	}
}

func rawChannel(t *testing.T, rawURL string) *amqp.Channel {
	t.Helper()
	u, err := ParseTransportURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	addr, user, pass := u.dialInfo(0, false)
	conn, err := amqp.DialConfig(addr, amqp.Config{Vhost: u.Vhost(), SASL: []amqp.Authentication{&amqp.PlainAuth{Username: user, Password: pass}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// A queue deleted under a running server (or a consumer the broker cancels)
// is declared again and consumed.
func TestServerRecoversDeletedQueue(t *testing.T) {
	needBroker(t, brokerAddr)
	vh := testVhost(t, "")
	tr := openTransport(t, vhostURL(brokerAddr, vh), fastOptions())
	rec := newRecorder()
	startServer(t, tr, ServerTarget{Topic: "q-plugin", Host: "h"}, echoDispatcher(rec))
	raw := rawChannel(t, vhostURL(brokerAddr, vh))
	if _, err := raw.QueueDelete("q-plugin", false, false, false); err != nil {
		t.Fatal(err)
	}
	err := tr.Cast(context.Background(), AdminContext(), Target{Topic: "q-plugin", Mandatory: true, MandatoryWindow: 20 * time.Second}, "note", map[string]any{"x": "again"})
	if err != nil {
		t.Fatal(err)
	}
	if argString(t, rec.wait(t, 10*time.Second), "x") != "again" {
		t.Error("cast after the queue was re-declared")
	}
}
