package oslo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// The queues and exchanges a server and a caller leave in the broker, with
// Neutron's defaults and with the options operators set.
func TestTopologyAsNeutronDeclaresIt(t *testing.T) {
	needBroker(t, brokerAddr)
	vh := testVhost(t, "")
	tr := openTransport(t, vhostURL(brokerAddr, vh), fastOptions())
	srv := startServer(t, tr, ServerTarget{Topic: "q-plugin", Host: "ctl1"}, echoDispatcher(newRecorder()))
	if _, err := tr.Call(context.Background(), AdminContext(), Target{Topic: "q-plugin"}, "get_host_ha_router_count", nil); err != nil {
		t.Fatal(err)
	}
	qs := listQueues(t, "", vh)
	fanout := srv.Queues()[2]
	if !strings.HasPrefix(fanout, "q-plugin_fanout_") || len(fanout) != len("q-plugin_fanout_")+32 {
		t.Errorf("fanout queue name %q", fanout)
	}
	for _, name := range []string{"q-plugin", "q-plugin.ctl1"} {
		if q, ok := qs[name]; !ok || q.Durable || q.AutoDelete || len(q.Arguments) != 0 {
			t.Errorf("%s: %+v (present %v)", name, q, ok)
		}
	}
	if q := qs[fanout]; q.Durable || q.AutoDelete || mustJSON(q.Arguments) != `{"x-expires":"signedint:1800000"}` {
		t.Errorf("%s: %+v", fanout, q)
	}
	replies := 0
	for name, q := range qs {
		if strings.HasPrefix(name, "reply_") {
			replies++
			if q.Durable || q.AutoDelete || mustJSON(q.Arguments) != `{"x-expires":"signedint:1800000"}` {
				t.Errorf("%s: %+v", name, q)
			}
		}
	}
	if replies != 1 || len(qs) != 4 {
		t.Errorf("queues: %v", qs)
	}
	// heartbeat_timeout_threshold is the negotiated heartbeat (10 s in fastOptions).
	var conns []struct {
		Vhost   string `json:"vhost"`
		Timeout int    `json:"timeout"`
	}
	out := rabbitmqctl(t, "", "list_connections", "-q", "vhost", "timeout", "--formatter", "json")
	if err := json.Unmarshal([]byte(out), &conns); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, c := range conns {
		if c.Vhost == vh {
			seen++
			if c.Timeout != 10 {
				t.Errorf("heartbeat %d s, want 10", c.Timeout)
			}
		}
	}
	if seen != 1 {
		t.Errorf("%d connections in the vhost, want 1", seen)
	}
	xs := listExchanges(t, "", vh)
	if x := xs["neutron"]; x.Type != "topic" || x.Durable || x.AutoDelete {
		t.Errorf("neutron exchange: %+v", x)
	}
	if x := xs["q-plugin_fanout"]; x.Type != "fanout" || x.Durable || !x.AutoDelete {
		t.Errorf("fanout exchange: %+v", x)
	}
}

func TestTopologyQuorumDurableTTL(t *testing.T) {
	needBroker(t, brokerAddr)
	vh := testVhost(t, "")
	// Options from the transport_url query, as oslo allows.
	tr := openTransport(t, vhostURL(brokerAddr, vh)+"?rabbit_quorum_queue=true&rabbit_transient_queues_ttl=60&rabbit_quorum_delivery_limit=3", fastOptions())
	srv := startServer(t, tr, ServerTarget{Topic: "q-reports-plugin", Host: "ctl1"}, echoDispatcher(newRecorder()))
	if _, err := tr.Call(context.Background(), AdminContext(), Target{Topic: "q-reports-plugin"}, "get_host_ha_router_count", nil); err != nil {
		t.Fatal(err)
	}
	qs := listQueues(t, "", vh)
	for _, name := range []string{"q-reports-plugin", "q-reports-plugin.ctl1"} {
		q := qs[name]
		if !q.Durable || q.AutoDelete || q.Arguments["x-queue-type"] != "longstr:quorum" || q.Arguments["x-delivery-limit"] != "signedint:3" {
			t.Errorf("%s: %+v", name, q)
		}
	}
	if q := qs[srv.Queues()[2]]; q.Durable || mustJSON(q.Arguments) != `{"x-expires":"signedint:60000"}` {
		t.Errorf("fanout with quorum on: %+v", q)
	}
	if x := listExchanges(t, "", vh)["neutron"]; !x.Durable || x.AutoDelete {
		t.Errorf("control exchange with quorum queues: %+v", x)
	}
}

func TestDurableAndAutoDeleteQueues(t *testing.T) {
	needBroker(t, brokerAddr)
	vh := testVhost(t, "")
	o := fastOptions()
	o.DurableQueues, o.AutoDelete, o.ControlExchange = true, true, "openstack"
	tr := openTransport(t, vhostURL(brokerAddr, vh), o)
	startServer(t, tr, ServerTarget{Topic: "l3_agent", Host: "vm"}, echoDispatcher(newRecorder()))
	qs := listQueues(t, "", vh)
	if q := qs["l3_agent.vm"]; !q.Durable || !q.AutoDelete || len(q.Arguments) != 0 {
		t.Errorf("l3_agent.vm: %+v", q)
	}
	if x := listExchanges(t, "", vh)["openstack"]; x.Type != "topic" || !x.Durable || !x.AutoDelete {
		t.Errorf("control exchange: %+v", x)
	}
}
