package rpc_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestAgentsRecovery: neutrino and Debian's three agents on a RabbitMQ
// node of the test's own. A VM port plugged goes ACTIVE and gets its DHCP
// lease; so does a new one after the agents restart (Open vSwitch, DHCP
// and L3 agents), and another after RabbitMQ itself restarts (every
// connection dropped, the transient queues gone): neutrino, never
// restarted, reconnects, declares its queues again and serves the agents.
func TestAgentsRecovery(t *testing.T) {
	if _, err := exec.LookPath("neutron-openvswitch-agent"); err != nil && os.Getenv("CI") == "" {
		t.Skip("neutron-openvswitch-agent not installed (scripts/harness/agents-lab.sh install)")
	}
	broker := rpctest.PrivateBroker(t)
	srv, l, host := startLabOn(t, broker.URL)
	net := apiPost(t, srv, "networks", "network", map[string]any{"name": "recovery"})
	apiPost(t, srv, "subnets", "subnet", map[string]any{"network_id": net["id"], "cidr": "10.97.0.0/24", "ip_version": 4})
	waitDnsmasq(t, net["id"], "10.97.0.2")
	plugVM(t, srv, l, host, "vm1", net["id"], nil)

	start := time.Now()
	l.must("restart-agents")
	plugVM(t, srv, l, host, "vm2", net["id"], nil)
	t.Logf("agents restarted and a new port served in %s", time.Since(start).Round(time.Second))

	start = time.Now()
	broker.Restart(2 * time.Second)
	restarted := time.Now().UTC()
	// the agents report again (every 30 s) once they reconnected
	eventually(t, 180*time.Second, "the three agents report after the RabbitMQ restart", func() bool {
		n := 0
		for _, a := range testutil.Do(t, "GET", srv.URL+"/v2.0/agents?host="+host, nil).Expect(t, 200).List("agents") {
			hb, err := time.Parse("2006-01-02 15:04:05", a["heartbeat_timestamp"].(string))
			if err == nil && !hb.Before(restarted.Truncate(time.Second)) {
				n++
			}
		}
		return n == 3
	})
	// An agent call published after the restart but before neutrino, reconnecting with the same
	// oslo back-off as the agents, has declared its transient queue again is dropped by the
	// broker (the reference server reconnects no sooner): the agent's RPC loop then waits for the
	// call's timeout (60 s) and a random back-off (up to 60 s) before it calls again, and only
	// then handles a new VM. Seen once in CI: an update_device_list sent 9 s after the restart
	// timed out and vm3 was not ACTIVE within a minute.
	plugVMWithin(t, 200*time.Second, srv, l, host, "vm3", net["id"], nil)
	t.Logf("RabbitMQ restarted and a new port served in %s", time.Since(start).Round(time.Second))
}
