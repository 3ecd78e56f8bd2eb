package rpc_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestNotificationsSurviveBrokerOutage: a write that commits while
// RabbitMQ is down is answered at once, and its notifications go out once
// the broker is back: a port created during the outage reaches its DHCP
// agent's queue (durable, amqp_durable_queues) as port_create_end, and
// the agent's calls are served again, by the neutrino that never
// restarted.
func TestNotificationsSurviveBrokerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a RabbitMQ node of its own (~30 s) and restarts it")
	}
	broker := rpctest.PrivateBroker(t)
	url := broker.URL + "?amqp_durable_queues=true"
	srv := rpctest.Start(t, url, testutil.Options{Set: ovsConfig})
	agent := rpctest.NewAgent(t, url)
	casts := agent.Listen(t, rpc.TopicDHCPAgent, "net1")
	agent.Call(t, rpc.TopicReports, "1.2", "report_state", dhcpState())
	net := apiPostURL(t, srv.URL, "networks", "network", map[string]any{"name": "n"})["id"].(string)
	apiPostURL(t, srv.URL, "subnets", "subnet", map[string]any{"network_id": net, "cidr": "10.0.0.0/24", "ip_version": 4})
	casts.Wait(t, "network_create_end", method("network_create_end"))

	broker.Stop()
	start := time.Now()
	port := apiPostURL(t, srv.URL, "ports", "port", map[string]any{"network_id": net, "name": "during"})["id"].(string)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a port create took %s with the broker down", d)
	}
	broker.Start()
	casts.WaitWithin(t, 90*time.Second, "port_create_end of the port created during the outage", func(r *oslo.Request) bool {
		var p map[string]any
		raw, _ := json.Marshal(r.Args["payload"])
		_ = json.Unmarshal(raw, &struct{ Port *map[string]any }{&p})
		return r.Method == "port_create_end" && p["id"] == port
	})
	var info map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.0", "get_network_info", map[string]any{"network_id": net, "host": "net1"}), &info)
	if len(info["ports"].([]any)) != 1 {
		t.Fatalf("get_network_info after the outage: %v", info)
	}
}
