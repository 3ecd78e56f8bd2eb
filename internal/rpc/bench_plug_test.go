package rpc_test

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestBenchPlugActive measures plug → ACTIVE with the real Open vSwitch
// agent: 100 ports bound to the agent's host are plugged into the
// integration bridge (OVS internal ports with Nova's external_ids), 10 at
// a time, and each port's time from its plug to ACTIVE in the API is
// recorded. Runs only with NEUTRINO_RPC_BENCH=1 (and the agents lab).
func TestBenchPlugActive(t *testing.T) {
	if os.Getenv("NEUTRINO_RPC_BENCH") == "" {
		t.Skip("NEUTRINO_RPC_BENCH not set")
	}
	srv, l, host := startLab(t)
	net := apiPost(t, srv, "networks", "network", map[string]any{"name": "bench"})
	apiPost(t, srv, "subnets", "subnet", map[string]any{"network_id": net["id"], "cidr": "10.76.0.0/24", "ip_version": 4, "enable_dhcp": false})
	lab := strings.TrimPrefix(l.env[2], "LAB=")
	var lat []time.Duration
	for round := 0; round < 10; round++ {
		plugged := map[string]time.Time{}
		args := []string{}
		for i := 0; i < 10; i++ {
			p := apiPost(t, srv, "ports", "port", map[string]any{"network_id": net["id"], "binding:host_id": host,
				"device_owner": "compute:nova", "device_id": fmt.Sprintf("bench-%d-%d", round, i)})
			id, mac := p["id"].(string), p["mac_address"].(string)
			name := "tb" + id[:11]
			args = append(args, "--", "add-port", "nt-int", name, "--", "set", "interface", name, "type=internal",
				"external_ids:iface-id="+id, "external_ids:attached-mac="+mac, "external_ids:iface-status=active")
			plugged[id] = time.Time{}
		}
		cmd := exec.Command("ovs-vsctl", args...)
		cmd.Env = append(os.Environ(), "OVS_RUNDIR="+lab+"/ovs")
		t0 := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ovs-vsctl: %v\n%s", err, out)
		}
		eventually(t, 120*time.Second, "10 ports ACTIVE", func() bool {
			left := 0
			for _, p := range testutil.Do(t, "GET", srv.URL+"/v2.0/ports?fields=id&fields=status&device_owner=compute:nova", nil).List("ports") {
				id := p["id"].(string)
				if at, ok := plugged[id]; ok && at.IsZero() {
					if p["status"] == "ACTIVE" {
						plugged[id] = time.Now()
						lat = append(lat, time.Since(t0))
					} else {
						left++
					}
				}
			}
			return left == 0
		})
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("plug -> ACTIVE, 100 ports (10 per ovs-vsctl transaction): p50 %s, p99 %s, max %s\n",
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}
