package rpc_test

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestBenchPlugActive measures plug → ACTIVE with the real Open vSwitch
// agent: 100 ports bound to the agent's host are plugged into the
// integration bridge (OVS internal ports with Nova's external_ids), 10 at
// a time, and each port's time from its plug to ACTIVE in the API is
// recorded. Runs only with NEUTRINO_RPC_BENCH=1: against neutrino and an
// agents lab started here, or, with NEUTRINO_BENCH_API and
// NEUTRINO_BENCH_LAB (the LAB of an `agents-lab.sh up` already attached to
// that server; NEUTRINO_BENCH_HOST its AGENT_HOST, the hostname by
// default), against any server (the reference Neutron of
// scripts/harness/agents-ref-server.sh). NEUTRINO_BENCH_PSEC=0 plugs ports
// without port security (no security group, so the agent's firewall is
// not involved); NEUTRINO_BENCH_ROUNDS sets the rounds of 10 ports (10).
func TestBenchPlugActive(t *testing.T) {
	if os.Getenv("NEUTRINO_RPC_BENCH") == "" {
		t.Skip("NEUTRINO_RPC_BENCH not set")
	}
	api, labDir, host := os.Getenv("NEUTRINO_BENCH_API"), os.Getenv("NEUTRINO_BENCH_LAB"), os.Getenv("NEUTRINO_BENCH_HOST")
	target := "server at " + api
	if host == "" {
		host, _ = os.Hostname()
	}
	if api == "" || labDir == "" {
		srv, l, h := startLab(t)
		api, labDir, host, target = srv.URL, l.dir(), h, "neutrino (started here)"
	}
	post := func(coll, key string, body map[string]any) map[string]any {
		return testutil.Do(t, "POST", api+"/v2.0/"+coll, map[string]any{key: body}).Expect(t, 201).Obj(key)
	}
	net := post("networks", "network", map[string]any{"name": "bench"})
	defer testutil.Do(t, "DELETE", api+"/v2.0/networks/"+net["id"].(string), nil)
	post("subnets", "subnet", map[string]any{"network_id": net["id"], "cidr": "10.76.0.0/24", "ip_version": 4, "enable_dhcp": false})
	var lat []time.Duration
	var names, ports []string
	defer func() {
		unplug(t, labDir, names)
		for _, id := range ports {
			testutil.Do(t, "DELETE", api+"/v2.0/ports/"+id, nil)
		}
	}()
	rounds, variant := 10, "default security group"
	if n, err := strconv.Atoi(os.Getenv("NEUTRINO_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	psec := os.Getenv("NEUTRINO_BENCH_PSEC") != "0"
	if !psec {
		variant = "no port security"
	}
	for round := 0; round < rounds; round++ {
		plugged := map[string]bool{}
		args := []string{}
		for i := 0; i < 10; i++ {
			body := map[string]any{"network_id": net["id"], "binding:host_id": host,
				"device_owner": "compute:nova", "device_id": fmt.Sprintf("bench-%d-%d", round, i)}
			if !psec {
				body["port_security_enabled"], body["security_groups"] = false, []any{}
			}
			p := post("ports", "port", body)
			id, mac := p["id"].(string), p["mac_address"].(string)
			ports = append(ports, id)
			name := "tb" + id[:11]
			names = append(names, name)
			args = append(args, "--", "add-port", "nt-int", name, "--", "set", "interface", name, "type=internal",
				"external_ids:iface-id="+id, "external_ids:attached-mac="+mac, "external_ids:iface-status=active")
			plugged[id] = false
		}
		t0 := time.Now()
		vsctl(t, labDir, args...)
		eventually(t, 120*time.Second, "10 ports ACTIVE", func() bool {
			left := 0
			for _, p := range testutil.Do(t, "GET", api+"/v2.0/ports?fields=id&fields=status&network_id="+net["id"].(string), nil).List("ports") {
				id := p["id"].(string)
				if done, ok := plugged[id]; ok && !done {
					if p["status"] == "ACTIVE" {
						plugged[id] = true
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
	fmt.Printf("plug -> ACTIVE %s (%s), %d ports (10 per ovs-vsctl transaction): p50 %s, p99 %s, max %s\n", target, variant, len(lat),
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}

// vsctl runs ovs-vsctl on the lab's Open vSwitch.
func vsctl(t *testing.T, labDir string, args ...string) {
	t.Helper()
	cmd := exec.Command("ovs-vsctl", args...)
	cmd.Env = append(os.Environ(), "OVS_RUNDIR="+labDir+"/ovs")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ovs-vsctl: %v\n%s", err, out)
	}
}

// unplug removes the bench's ports from the integration bridge.
func unplug(t *testing.T, labDir string, names []string) {
	args := []string{}
	for _, n := range names {
		args = append(args, "--", "--if-exists", "del-port", "nt-int", n)
	}
	if len(args) > 0 {
		vsctl(t, labDir, args...)
	}
}

// dir is the lab's LAB directory.
func (l *lab) dir() string {
	for _, kv := range l.env {
		if v, ok := strings.CutPrefix(kv, "LAB="); ok {
			return v
		}
	}
	return ""
}
