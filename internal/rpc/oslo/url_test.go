package oslo

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseTransportURL(t *testing.T) {
	cases := []struct {
		in    string
		hosts []Host
		vhost string
		query map[string]string
	}{
		{"rabbit://guest:guest@127.0.0.1:5672//agents",
			[]Host{{"127.0.0.1", 5672, "guest", "guest", true}}, "/agents", map[string]string{}},
		{"rabbit://u1:p%40ss@h1:5671,u2:p2@h2/neutron?ssl=1&amqp_durable_queues=true",
			[]Host{{"h1", 5671, "u1", "p@ss", true}, {"h2", 0, "u2", "p2", true}}, "neutron",
			map[string]string{"ssl": "1", "amqp_durable_queues": "true"}},
		{"rabbit://[::1]:5672,[fe80::1]/",
			[]Host{{Hostname: "::1", Port: 5672}, {Hostname: "fe80::1"}}, "", map[string]string{}},
		{"rabbit://", []Host{{Hostname: "localhost"}}, "", map[string]string{}},
		{"rabbit://h%20x/v%2Fh", []Host{{Hostname: "h%20x"}}, "v/h", map[string]string{}},
	}
	for _, c := range cases {
		u, err := ParseTransportURL(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if !reflect.DeepEqual(u.Hosts, c.hosts) || u.VirtualHost != c.vhost || !reflect.DeepEqual(u.Query, c.query) {
			t.Errorf("%s: got hosts %+v vhost %q query %v", c.in, u.Hosts, u.VirtualHost, u.Query)
		}
	}
	for _, bad := range []string{"127.0.0.1:5672", "kafka://h/", "rabbit://h:99999/", "rabbit://[::1/"} {
		if _, err := ParseTransportURL(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestDialInfoCredentialsAndVhost(t *testing.T) {
	u, _ := ParseTransportURL("rabbit://a:b@h1:1,h2:2/")
	addr, user, pass := u.dialInfo(1, true)
	if addr != "amqps://h2:2/" || user != "a" || pass != "b" {
		t.Errorf("host without credentials: %s %s %s", addr, user, pass)
	}
	if u.Vhost() != "/" {
		t.Errorf("empty vhost = %q, want /", u.Vhost())
	}
	u, _ = ParseTransportURL("rabbit://h/x")
	if _, user, pass := u.dialInfo(0, false); user != "guest" || pass != "guest" {
		t.Errorf("no credentials: %s/%s, want guest/guest", user, pass)
	}
}

func TestRedact(t *testing.T) {
	got := redact("rabbit://u:secret@h1:5672,v:other@h2/vh")
	if strings.Contains(got, "secret") || strings.Contains(got, "other") || !strings.Contains(got, "h2/vh") {
		t.Errorf("redact = %s", got)
	}
}

func TestOptionsDefaultsAndQuery(t *testing.T) {
	o := DefaultOptions()
	if o.ControlExchange != "neutron" || o.RPCResponseTimeout != 60*time.Second || o.TransientQueuesTTL != 1800 ||
		o.HeartbeatThreshold != 60 || o.RetryInterval != time.Second || o.RetryBackoff != 2*time.Second ||
		o.IntervalMax != 30*time.Second || o.LoginMethod != "AMQPLAIN" || o.MissingConsumerRetry != 60*time.Second {
		t.Errorf("defaults: %+v", o)
	}
	q, err := o.withQuery(map[string]string{"amqp_durable_queues": "True", "rabbit_transient_queues_ttl": "60"})
	if err != nil || !q.DurableQueues || q.TransientQueuesTTL != 60 {
		t.Errorf("query: %+v %v", q, err)
	}
	if _, err := o.withQuery(map[string]string{"no_such_option": "1"}); err == nil {
		t.Error("unknown query option accepted")
	}
	if _, err := o.withQuery(map[string]string{"ssl": "maybe"}); err == nil {
		t.Error("bad boolean accepted")
	}
	if _, err := Open("rabbit://h/?bogus=1", o, nil); err == nil {
		t.Error("Open accepted an unknown query option")
	}
}

func TestQueueArguments(t *testing.T) {
	tr := &Transport{opts: DefaultOptions()}
	if a := tr.topicQueue("", "q-plugin"); a.args != nil || a.durable || a.autoDelete || a.exchange.name != "neutron" ||
		a.exchange.kind != "topic" || a.exchange.durable {
		t.Errorf("default topic queue: %+v", a)
	}
	f := tr.fanoutQueue("q-plugin", "abc")
	if f.name != "q-plugin_fanout_abc" || f.args["x-expires"] != int32(1800000) || f.exchange.name != "q-plugin_fanout" ||
		f.exchange.kind != "fanout" || !f.exchange.autoDelete || f.durable || f.autoDelete {
		t.Errorf("fanout queue: %+v", f)
	}
	tr.opts.QuorumQueue, tr.opts.QuorumDeliveryLimit, tr.opts.HAQueues = true, 5, true
	q := tr.topicQueue("", "q-plugin")
	if !q.durable || q.args["x-queue-type"] != "quorum" || q.args["x-delivery-limit"] != int32(5) || !q.exchange.durable {
		t.Errorf("quorum topic queue: %+v", q)
	}
	if r := tr.replyQueue("reply_x"); r.args["x-queue-type"] != nil || r.args["x-expires"] != int32(1800000) || r.args["x-ha-policy"] != "all" {
		t.Errorf("reply queue with quorum on: %+v", r)
	}
}
