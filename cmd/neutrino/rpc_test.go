package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
)

// TestServeRPC: serve with a transport_url starts the RPC workers after
// the API: an agent's report_state is answered "new" and the agent is
// listed; SIGTERM stops the workers and the process exits 0.
func TestServeRPC(t *testing.T) {
	url := rpctest.Vhost(t)
	dir := t.TempDir()
	port := freePort(t)
	conf := writeFile(t, dir, "neutron.conf", fmt.Sprintf("[DEFAULT]\nauth_strategy = noauth\nbind_host = 127.0.0.1\nbind_port = %d\nhost = ctl1\ntransport_url = %s\nrpc_workers = 2\n[database]\nconnection = sqlite:///%s/n.db\n", port, url, dir))
	p := start(t, nil, "--config-file", conf)
	p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	p.waitUp(t, 10*time.Second)
	// the API answers first; the workers consume a moment later
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.log(), "RPC workers serving") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	agent := rpctest.NewAgent(t, url)
	state := map[string]any{"agent_state": map[string]any{"agent_state": map[string]any{
		"binary": "neutron-dhcp-agent", "host": "net1", "topic": "dhcp_agent", "agent_type": "DHCP agent",
		"availability_zone": "nova", "configurations": map[string]any{}, "start_flag": true}},
		"time": time.Now().UTC().Format("2006-01-02T15:04:05.000000")}
	if got := string(agent.Call(t, rpc.TopicReports, "1.2", "report_state", state)); got != `"new"` {
		t.Fatalf("report_state: %s", got)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("exit: %v\n%s", p.err, p.log())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}
