package rpc_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestBenchDeviceDetails measures the round-trip rate of
// get_devices_details_list for 100 devices bound to an OVS agent's host:
// against neutrino started here, or, with NEUTRINO_BENCH_API and
// NEUTRINO_BENCH_TRANSPORT_URL, against any server (the reference
// Neutron of scripts/harness/agents-ref-server.sh). Runs only with
// NEUTRINO_RPC_BENCH=1; prints one line of numbers.
func TestBenchDeviceDetails(t *testing.T) {
	if os.Getenv("NEUTRINO_RPC_BENCH") == "" {
		t.Skip("NEUTRINO_RPC_BENCH not set")
	}
	api, url := os.Getenv("NEUTRINO_BENCH_API"), os.Getenv("NEUTRINO_BENCH_TRANSPORT_URL")
	target := "reference"
	if api == "" {
		url = rpctest.Vhost(t)
		api = rpctest.Start(t, url, testutil.Options{Set: ovsConfig}).URL
		target = "neutrino"
	}
	agent := rpctest.NewAgent(t, url)
	state := ovsState(true)
	host := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	state["agent_state"].(map[string]any)["agent_state"].(map[string]any)["host"] = host
	agent.Call(t, rpc.TopicReports, "1.2", "report_state", state)
	keepAlive(t, agent, host)
	net := testutil.Do(t, "POST", api+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "bench"}}).Expect(t, 201).Obj("network")
	testutil.Do(t, "POST", api+"/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": net["id"], "cidr": "10.77.0.0/24", "ip_version": 4}}).Expect(t, 201)
	var devices []any
	for i := 0; i < 100; i++ {
		p := testutil.Do(t, "POST", api+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net["id"], "binding:host_id": host,
			"device_owner": "compute:nova"}}).Expect(t, 201).Obj("port")
		devices = append(devices, p["id"])
	}
	defer testutil.Do(t, "DELETE", api+"/v2.0/networks/"+net["id"].(string), nil)
	args := map[string]any{"devices": devices, "agent_id": "bench", "host": host}
	call := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		tg := oslo.Target{Topic: rpc.TopicPlugin, Version: "1.5", Timeout: 5 * time.Minute}
		if _, err := agent.T.Call(ctx, oslo.AdminContext(), tg, "get_devices_details_list", args); err != nil {
			t.Fatal(err)
		}
	}
	w0 := time.Now()
	call() // warm up (the first call moves the ports to BUILD)
	warm := time.Since(w0)
	var lat []time.Duration
	start := time.Now()
	for time.Since(start) < 30*time.Second && len(lat) < 200 {
		t0 := time.Now()
		call()
		lat = append(lat, time.Since(t0))
	}
	total := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("get_devices_details_list(100 devices) %s: warm-up call %s, then %d calls in %s: %.1f calls/s, %.0f devices/s, p50 %s, p99 %s\n",
		target, warm.Round(time.Millisecond), len(lat), total.Round(time.Millisecond), float64(len(lat))/total.Seconds(), float64(100*len(lat))/total.Seconds(),
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond))
}

// keepAlive reports the agent's state every 10 s until the test ends, as a
// real agent does every report_interval: a server that finds the agent
// dead (agent_down_time) refuses to bind its ports, and the reference then
// retries the binding ten times for every device of every call.
func keepAlive(t *testing.T, agent *rpctest.Agent, host string) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	t.Cleanup(func() { close(done); <-stopped })
	go func() {
		defer close(stopped)
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			st := ovsState(false)
			st["agent_state"].(map[string]any)["agent_state"].(map[string]any)["host"] = host
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			tg := oslo.Target{Topic: rpc.TopicReports, Version: "1.2", Timeout: 30 * time.Second}
			if _, err := agent.T.Call(ctx, oslo.AdminContext(), tg, "report_state", st); err != nil {
				t.Logf("report_state: %v", err)
			}
			cancel()
		}
	}()
}
