package mechovn_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestQoSFollowsChanges: a port's QoS rows come from its network's policy, then from its own
// policy, follow rule changes (a new ingress limit, a DSCP mark), go when the policy goes; network
// device ports get none; a deleted port's rows go with it.
func TestQoSFollowsChanges(t *testing.T) {
	nbRemote, sbRemote, nb, _ := memOVN(t)
	conf := ovnConfig(nbRemote, sbRemote)
	conf["DEFAULT.service_plugins"] = "segments,qos"
	conf["ml2.extension_drivers"] = "port_security,qos"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	url := srv.URL + "/v2.0/"
	post := func(kind, path string, attrs map[string]any) map[string]any {
		t.Helper()
		return testutil.Do(t, "POST", url+path, body(kind, attrs)).Expect(t, 201).Obj(kind)
	}
	net1 := post("network", "networks", map[string]any{"name": "n"})
	post("subnet", "subnets", map[string]any{"network_id": net1["id"], "cidr": "10.0.0.0/24", "ip_version": 4})
	pol := post("policy", "qos/policies", map[string]any{"name": "p"})
	pol2 := post("policy", "qos/policies", map[string]any{"name": "p2"})
	post("bandwidth_limit_rule", "qos/policies/"+pol["id"].(string)+"/bandwidth_limit_rules", map[string]any{"max_kbps": 1000})
	post("dscp_marking_rule", "qos/policies/"+pol2["id"].(string)+"/dscp_marking_rules", map[string]any{"dscp_mark": 18})
	testutil.Do(t, "PUT", url+"networks/"+net1["id"].(string), body("network", map[string]any{"qos_policy_id": pol["id"]})).Expect(t, 200)
	port := post("port", "ports", map[string]any{"network_id": net1["id"]})
	dev := post("port", "ports", map[string]any{"network_id": net1["id"], "device_owner": "network:dhcp"})
	id := port["id"].(string)
	ctx := context.Background()
	// rows describes the QoS rows on the switch: "<direction> <match> rate=… burst=… dscp=… port=…"
	rows := func() string {
		var qs []nbdb.QoS
		_ = nb.List(ctx, &qs)
		var out []string
		for _, q := range qs {
			out = append(out, fmt.Sprintf("%s %s %d rate=%d burst=%d dscp=%d port=%v", q.Direction, q.Match, q.Priority,
				q.Bandwidth["rate"], q.Bandwidth["burst"], q.Action["dscp"], q.ExternalIDs["neutron:port_id"] == id))
		}
		sort.Strings(out)
		return strings.Join(out, "; ")
	}
	expect := func(what, want string) {
		t.Helper()
		if err := poll(5*time.Second, func() bool { return rows() == want }); err != nil {
			t.Errorf("%s: QoS rows %q, want %q", what, rows(), want)
		}
	}
	in, out := fmt.Sprintf("inport == %q", id), fmt.Sprintf("outport == %q", id)
	expect("network policy", "from-lport "+in+" 2002 rate=1000 burst=0 dscp=0 port=true")
	post("bandwidth_limit_rule", "qos/policies/"+pol["id"].(string)+"/bandwidth_limit_rules", map[string]any{"max_kbps": 2000, "max_burst_kbps": 300, "direction": "ingress"})
	expect("ingress rule", "from-lport "+in+" 2002 rate=1000 burst=0 dscp=0 port=true; to-lport "+out+" 2002 rate=2000 burst=300 dscp=0 port=true")
	testutil.Do(t, "PUT", url+"ports/"+id, body("port", map[string]any{"qos_policy_id": pol2["id"]})).Expect(t, 200)
	expect("port policy", "from-lport "+in+" 2002 rate=0 burst=0 dscp=18 port=true")
	testutil.Do(t, "PUT", url+"ports/"+id, body("port", map[string]any{"qos_policy_id": nil})).Expect(t, 200)
	testutil.Do(t, "PUT", url+"networks/"+net1["id"].(string), body("network", map[string]any{"qos_policy_id": nil})).Expect(t, 200)
	expect("no policy", "")
	testutil.Do(t, "PUT", url+"networks/"+net1["id"].(string), body("network", map[string]any{"qos_policy_id": pol2["id"]})).Expect(t, 200)
	expect("network policy again", "from-lport "+in+" 2002 rate=0 burst=0 dscp=18 port=true")
	testutil.Do(t, "DELETE", url+"ports/"+id, nil).Expect(t, 204)
	testutil.Do(t, "DELETE", url+"ports/"+dev["id"].(string), nil).Expect(t, 204)
	expect("port deleted", "")
}

// poll waits up to d for cond.
func poll(d time.Duration, cond func() bool) error {
	for end := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			return fmt.Errorf("timed out")
		}
	}
	return nil
}
