package mechovn_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestActiveLatency measures, over NEUTRINO_OVN_BENCH ports (e.g. 200) bound to the lab's chassis
// and plugged one after the other, the time from the port create request to the API showing the
// port ACTIVE. It runs only when NEUTRINO_OVN_BENCH is set (a measurement, not a check).
func TestActiveLatency(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("NEUTRINO_OVN_BENCH"))
	if n <= 0 {
		t.Skip("set NEUTRINO_OVN_BENCH=<ports> to measure")
	}
	lab := ovnlab.Start(t, "/tmp/neutrino-ovn-latency")
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(lab.NBTCP(), lab.SBTCP())})
	e := &e2e{t: t, url: srv.URL, lab: lab}
	net := e.post("network", "networks", map[string]any{"name": "lat"})
	e.post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.99.0.0/16", "ip_version": 4})
	var lat, afterPlug []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		p := e.post("port", "ports", map[string]any{"network_id": net["id"], "binding:host_id": lab.Chassis, "device_owner": "compute:nova"})
		name := fmt.Sprintf("l%d", i)
		if err := lab.VM(name, p["id"].(string), p["mac_address"].(string)); err != nil {
			t.Fatal(err)
		}
		plugged := time.Now()
		waitFor(t, 30*time.Second, name+" ACTIVE", func() bool { return e.port(p["id"].(string))["status"] == "ACTIVE" })
		lat, afterPlug = append(lat, time.Since(start)), append(afterPlug, time.Since(plugged))
	}
	for _, m := range []struct {
		what string
		d    []time.Duration
	}{{"port create → ACTIVE (create, plug the namespace, ACTIVE)", lat}, {"plugged → ACTIVE", afterPlug}} {
		sort.Slice(m.d, func(i, j int) bool { return m.d[i] < m.d[j] })
		pct := func(p float64) time.Duration { return m.d[int(p*float64(len(m.d)-1)+0.5)].Round(time.Millisecond) }
		t.Logf("%s over %d ports plugged one by one: p50 %v p99 %v max %v", m.what, n, pct(0.5), pct(0.99), pct(1))
	}
}
