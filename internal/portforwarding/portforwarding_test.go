package portforwarding_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

var config = testutil.ReferenceConfig()

func create(t *testing.T, url, key string, obj map[string]any) map[string]any {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj}).Expect(t, 201).Obj(key)
}

// topology is an internal subnet behind a router with a gateway on an
// external network, n ports on it and one free floating IP.
type topology struct {
	fip, router string
	ports       []string
}

func build(t *testing.T, base string, n int) topology {
	return buildRouter(t, base, n, map[string]any{})
}

// buildRouter is build with more attributes of the router.
func buildRouter(t *testing.T, base string, n int, router map[string]any) topology {
	ext := create(t, base+"/networks", "network", map[string]any{"name": "ext", "router:external": true})["id"]
	create(t, base+"/subnets", "subnet", map[string]any{"network_id": ext, "cidr": "172.24.0.0/24", "ip_version": 4})
	net := create(t, base+"/networks", "network", map[string]any{"name": "int"})["id"]
	sub := create(t, base+"/subnets", "subnet", map[string]any{"network_id": net, "cidr": "10.70.0.0/24", "ip_version": 4})["id"]
	router["name"], router["external_gateway_info"] = "r", map[string]any{"network_id": ext}
	r := create(t, base+"/routers", "router", router)["id"].(string)
	testutil.Do(t, "PUT", base+"/routers/"+r+"/add_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 200)
	top := topology{router: r}
	for i := 0; i < n; i++ {
		top.ports = append(top.ports, create(t, base+"/ports", "port", map[string]any{"network_id": net,
			"fixed_ips": []any{map[string]any{"ip_address": fmt.Sprintf("10.70.0.%d", 10+i)}}})["id"].(string))
	}
	top.fip = create(t, base+"/floatingips", "floatingip", map[string]any{"floating_network_id": ext})["id"].(string)
	return top
}

func forwarding(port string, i int, external string) map[string]any {
	return map[string]any{"port_forwarding": map[string]any{"internal_port_id": port,
		"internal_ip_address": fmt.Sprintf("10.70.0.%d", 10+i), "internal_port": 22, "external_port_range": external, "protocol": "tcp"}}
}

// TestCollisionsUnderConcurrency: overlapping external ranges of one
// floating IP created at once through two servers on every engine: exactly
// one is created, every other is the collision 400 (never a second
// overlapping forwarding, never a 500).
func TestCollisionsUnderConcurrency(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			srv := [2]string{testutil.StartServer(t, testutil.Options{DB: url, Set: config}).URL + "/v2.0",
				testutil.StartServer(t, testutil.Options{DB: url, Set: config}).URL + "/v2.0"}
			top := build(t, srv[0], 8)
			st := make([]int, 8)
			var wg sync.WaitGroup
			for i := range st {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					// 2000+i:2100+i all overlap one another
					body := forwarding(top.ports[i], i, fmt.Sprintf("%d:%d", 2000+i, 2100+i))
					body["port_forwarding"].(map[string]any)["internal_port_range"] = fmt.Sprintf("%d:%d", 2000+i, 2100+i)
					delete(body["port_forwarding"].(map[string]any), "internal_port")
					st[i] = testutil.Do(t, "POST", srv[i%2]+"/floatingips/"+top.fip+"/port_forwardings", body).Status
				}(i)
			}
			wg.Wait()
			created := 0
			for _, s := range st {
				switch s {
				case 201:
					created++
				case 400:
				default:
					t.Fatalf("statuses %v", st)
				}
			}
			pfs := testutil.Do(t, "GET", srv[0]+"/floatingips/"+top.fip+"/port_forwardings", nil).Expect(t, 200).List("port_forwardings")
			if created != 1 || len(pfs) != 1 {
				t.Fatalf("%d created, %d listed (statuses %v)", created, len(pfs), st)
			}
			fip := testutil.Do(t, "GET", srv[1]+"/floatingips/"+top.fip, nil).Expect(t, 200).Obj("floatingip")
			if fip["router_id"] != top.router || len(fip["port_forwardings"].([]any)) != 1 {
				t.Fatalf("floating IP %v", fip)
			}
		})
	}
}

// TestPortChangesDeleteForwardings: a forwarding to an address its port
// no longer has is deleted with the port's update, the others with the
// port's deletion, each with a port_forwarding AFTER_DELETE event; the
// floating IP loses its router with its last forwarding and can then be
// associated.
func TestPortChangesDeleteForwardings(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{Set: config})
	var deleted atomic.Int32
	srv.App.Env.Bus.Subscribe(events.PortForwarding, events.AfterDelete, "test", events.PriorityDefault,
		func(_ string, _ events.Event, pl *events.Payload) error {
			if pl.Old["floatingip_id"] == nil || pl.Old["router_id"] == nil {
				t.Errorf("AFTER_DELETE payload %v", pl.Old)
			}
			deleted.Add(1)
			return nil
		})
	base := srv.URL + "/v2.0"
	top := build(t, base, 2)
	pfURL := base + "/floatingips/" + top.fip + "/port_forwardings"
	testutil.Do(t, "POST", pfURL, forwarding(top.ports[0], 0, "2222")).Expect(t, 201)
	body := forwarding(top.ports[1], 1, "2223")
	testutil.Do(t, "POST", pfURL, body).Expect(t, 201)
	testutil.Do(t, "PUT", base+"/floatingips/"+top.fip, map[string]any{"floatingip": map[string]any{"port_id": top.ports[1]}}).Expect(t, 409)
	testutil.Do(t, "PUT", base+"/ports/"+top.ports[0], map[string]any{"port": map[string]any{
		"fixed_ips": []any{map[string]any{"ip_address": "10.70.0.50"}}}}).Expect(t, 200)
	if pfs := testutil.Do(t, "GET", pfURL, nil).Expect(t, 200).List("port_forwardings"); len(pfs) != 1 || deleted.Load() != 1 {
		t.Fatalf("after the readdress: %d forwardings, %d deletions", len(pfs), deleted.Load())
	}
	testutil.Do(t, "DELETE", base+"/ports/"+top.ports[1], nil).Expect(t, 204)
	fip := testutil.Do(t, "GET", base+"/floatingips/"+top.fip, nil).Expect(t, 200).Obj("floatingip")
	if fip["router_id"] != nil || len(fip["port_forwardings"].([]any)) != 0 || deleted.Load() != 2 {
		t.Fatalf("after the port's deletion: %v, %d deletions", fip, deleted.Load())
	}
	testutil.Do(t, "PUT", base+"/floatingips/"+top.fip, map[string]any{"floatingip": map[string]any{"port_id": top.ports[0]}}).Expect(t, 200)
}

// TestRequestsNeutronFails: what Neutron answers with a 500 is a 4xx or,
// for ports given as strings of digits, the numbers (docs/compat.md).
func TestRequestsNeutronFails(t *testing.T) {
	base := testutil.StartServer(t, testutil.Options{Set: config}).URL + "/v2.0"
	top := build(t, base, 1)
	url := base + "/floatingips/" + top.fip + "/port_forwardings"
	pf := func(extra map[string]any) map[string]any {
		m := map[string]any{"internal_port_id": top.ports[0], "internal_ip_address": "10.70.0.10", "protocol": "tcp"}
		for k, v := range extra {
			m[k] = v
		}
		return map[string]any{"port_forwarding": m}
	}
	testutil.Do(t, "POST", url, pf(nil)).Expect(t, 400)
	testutil.Do(t, "POST", url, pf(map[string]any{"internal_port": 22})).Expect(t, 400)
	long := fmt.Sprintf("%0256d", 0)
	testutil.Do(t, "POST", url, pf(map[string]any{"internal_port": 22, "external_port": 2222, "description": long})).Expect(t, 400)
	got := testutil.Do(t, "POST", url, pf(map[string]any{"internal_port": "22", "external_port": "2525"})).Expect(t, 201).Obj("port_forwarding")
	if got["external_port"] != float64(2525) || got["internal_port_range"] != "22:22" {
		t.Fatalf("created %v", got)
	}
}

// TestPortHasPortForwarding: a port forwarded to through a distributed
// router cannot get a floating IP (400 PortHasPortForwarding); through a
// legacy router it can (TestPortChangesDeleteForwardings).
func TestPortHasPortForwarding(t *testing.T) {
	base := testutil.StartServer(t, testutil.Options{Set: config}).URL + "/v2.0"
	top := buildRouter(t, base, 1, map[string]any{"distributed": true})
	testutil.Do(t, "POST", base+"/floatingips/"+top.fip+"/port_forwardings", forwarding(top.ports[0], 0, "2222")).Expect(t, 201)
	r := testutil.Do(t, "POST", base+"/floatingips", map[string]any{"floatingip": map[string]any{
		"floating_network_id": testutil.Do(t, "GET", base+"/floatingips/"+top.fip, nil).Obj("floatingip")["floating_network_id"],
		"port_id":             top.ports[0]}})
	if r.Status != 400 || r.ErrorType() != "PortHasPortForwarding" {
		t.Fatalf("floating IP for a forwarded port: %d %s", r.Status, r.Raw)
	}
}
