package l3_test

import (
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/l3"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

var routerConfig = map[string]string{"DEFAULT.service_plugins": "router"}

func post(t *testing.T, url, key string, obj map[string]any) *testutil.Response {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj})
}

type recorder struct {
	mu  sync.Mutex
	got []string
	pl  map[string]*events.Payload
}

func (r *recorder) sub(bus *events.Bus, res string, evs ...events.Event) {
	for _, ev := range evs {
		bus.Subscribe(res, ev, "test", events.PriorityNotifier, func(res string, ev events.Event, p *events.Payload) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if p.Tx != nil {
				panic("AFTER event with a transaction")
			}
			k := res + "/" + string(ev)
			r.got = append(r.got, k)
			r.pl[k] = p
			return nil
		})
	}
}

// TestEventsAndSync: a router with a gateway, an interface and a floating
// IP publishes the AFTER events the dataplanes subscribe to (after
// commit, none for a refused request), and SyncRouters returns the
// router as sync_routers does.
func TestEventsAndSync(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: routerConfig})
	u := s.URL + "/v2.0"
	rec := &recorder{pl: map[string]*events.Payload{}}
	bus := s.App.Env.Bus
	rec.sub(bus, events.Router, events.AfterCreate, events.AfterUpdate, events.AfterDelete)
	rec.sub(bus, events.RouterGateway, events.AfterCreate, events.AfterDelete)
	rec.sub(bus, events.RouterInterface, events.AfterCreate, events.AfterDelete)
	rec.sub(bus, events.FloatingIP, events.AfterCreate, events.AfterUpdate, events.AfterDelete)

	ext := post(t, u+"/networks", "network", map[string]any{"name": "ext", "router:external": true}).Expect(t, 201).Obj("network")["id"]
	post(t, u+"/subnets", "subnet", map[string]any{"network_id": ext, "cidr": "198.51.100.0/24", "ip_version": 4}).Expect(t, 201)
	net := post(t, u+"/networks", "network", map[string]any{"name": "int"}).Expect(t, 201).Obj("network")["id"]
	sub := post(t, u+"/subnets", "subnet", map[string]any{"network_id": net, "cidr": "10.0.0.0/24", "ip_version": 4}).Expect(t, 201).Obj("subnet")["id"]
	r := post(t, u+"/routers", "router", map[string]any{"name": "r", "external_gateway_info": map[string]any{"network_id": ext}}).Expect(t, 201).Obj("router")
	rid := r["id"].(string)
	testutil.Do(t, "PUT", u+"/routers/"+rid+"/add_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 200)
	// refused: no event
	testutil.Do(t, "PUT", u+"/routers/"+rid+"/add_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 400)
	port := post(t, u+"/ports", "port", map[string]any{"network_id": net}).Expect(t, 201).Obj("port")["id"]
	fip := post(t, u+"/floatingips", "floatingip", map[string]any{"floating_network_id": ext, "port_id": port}).Expect(t, 201).Obj("floatingip")
	if fip["router_id"] != rid {
		t.Fatalf("floating IP router_id %v, want %s", fip["router_id"], rid)
	}

	plugin := s.App.Env.Plugin("router").(*l3.Plugin)
	sync, err := plugin.SyncRouters(t.Context(), []string{rid, "00000000-0000-0000-0000-000000000000"})
	if err != nil || len(sync) != 1 {
		t.Fatalf("SyncRouters: %v %v", sync, err)
	}
	d := sync[0]
	gw, _ := d["gw_port"].(map[string]any)
	if gw == nil || gw["network_id"] != ext || len(gw["subnets"].([]any)) != 1 {
		t.Errorf("gw_port: %v", d["gw_port"])
	}
	ifs := d["_interfaces"].([]any)
	if len(ifs) != 1 || ifs[0].(map[string]any)["fixed_ips"].([]any)[0].(map[string]any)["prefixlen"] != 24 {
		t.Errorf("_interfaces: %v", ifs)
	}
	if f := d["_floatingips"].([]any); len(f) != 1 || f[0].(map[string]any)["port_id"] != port {
		t.Errorf("_floatingips: %v", f)
	}

	testutil.Do(t, "DELETE", u+"/ports/"+port.(string), nil).Expect(t, 204)
	testutil.Do(t, "PUT", u+"/routers/"+rid+"/remove_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 200)
	testutil.Do(t, "DELETE", u+"/floatingips/"+fip["id"].(string), nil).Expect(t, 204)
	testutil.Do(t, "DELETE", u+"/routers/"+rid, nil).Expect(t, 204)

	want := []string{"router_gateway/after_create", "router/after_create", "router_interface/after_create",
		"floatingip/after_create", "floatingip/after_update", "router_interface/after_delete",
		"floatingip/after_delete", "router_gateway/after_delete", "router/after_delete"}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != len(want) {
		t.Fatalf("events %v, want %v", rec.got, want)
	}
	for i := range want {
		if rec.got[i] != want[i] {
			t.Fatalf("events %v, want %v", rec.got, want)
		}
	}
	if m := rec.pl["router_interface/after_create"].Meta; m["port_id"] == nil || len(m["subnet_ids"].([]any)) != 1 {
		t.Errorf("interface meta %v", m)
	}
	if up := rec.pl["floatingip/after_update"]; up.Old["port_id"] != port || up.New["port_id"] != nil {
		t.Errorf("disassociation old %v new %v", up.Old["port_id"], up.New["port_id"])
	}
	if m := rec.pl["router_gateway/after_create"].Meta; m["network_id"] != ext || len(m["gateway_ips"].([]any)) != 1 {
		t.Errorf("gateway meta %v", m)
	}
}

// TestFloatingIPPoolsPaths: the pools are served on floatingip_pools and
// on floatingip-pools (the path neutron-tempest-plugin's client uses), as
// the reference does.
func TestFloatingIPPoolsPaths(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: routerConfig})
	ext := post(t, s.URL+"/v2.0/networks", "network", map[string]any{"name": "ext", "router:external": true}).Expect(t, 201).Obj("network")["id"]
	post(t, s.URL+"/v2.0/subnets", "subnet", map[string]any{"network_id": ext, "cidr": "198.51.100.0/24", "ip_version": 4}).Expect(t, 201)
	for _, path := range []string{"floatingip_pools", "floatingip-pools"} {
		l := testutil.Do(t, "GET", s.URL+"/v2.0/"+path, nil).Expect(t, 200).List("floatingip_pools")
		if len(l) != 1 || l[0]["network_id"] != ext || l[0]["cidr"] != "198.51.100.0/24" {
			t.Errorf("%s: %v", path, l)
		}
	}
}

// TestInterfacePortFixedIPs: an interface port's fixed_ips may be set to
// what it has (Tempest's test_router_interface_port_update_with_fixed_ip
// names only the subnet); another address is refused.
func TestInterfacePortFixedIPs(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: routerConfig})
	u := s.URL + "/v2.0"
	net := post(t, u+"/networks", "network", map[string]any{"name": "n"}).Expect(t, 201).Obj("network")["id"]
	sub := post(t, u+"/subnets", "subnet", map[string]any{"network_id": net, "cidr": "10.1.0.0/24", "ip_version": 4}).Expect(t, 201).Obj("subnet")["id"]
	r := post(t, u+"/routers", "router", map[string]any{"name": "r"}).Expect(t, 201).Obj("router")["id"].(string)
	testutil.Do(t, "PUT", u+"/routers/"+r+"/add_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 200)
	pid := testutil.Do(t, "GET", u+"/ports?device_id="+r, nil).Expect(t, 200).List("ports")[0]["id"].(string)
	same := map[string]any{"port": map[string]any{"fixed_ips": []any{map[string]any{"subnet_id": sub}}}}
	got := testutil.Do(t, "PUT", u+"/ports/"+pid, same).Expect(t, 200).Obj("port")
	if ips := got["fixed_ips"].([]any); len(ips) != 1 || ips[0].(map[string]any)["ip_address"] != "10.1.0.1" {
		t.Fatalf("fixed_ips after a same-subnet update: %v", ips)
	}
	other := map[string]any{"port": map[string]any{"fixed_ips": []any{map[string]any{"subnet_id": sub, "ip_address": "10.1.0.9"}}}}
	if r := testutil.Do(t, "PUT", u+"/ports/"+pid, other).Expect(t, 400); r.ErrorType() != "BadRequest" {
		t.Fatalf("address change: %s", r.ErrorType())
	}
}

// TestRouterL3Agents: GET /routers/{id}/l3-agents lists the agents the L3
// scheduler bound to the router, none without.
func TestRouterL3Agents(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: routerConfig})
	u := s.URL + "/v2.0"
	r := post(t, u+"/routers", "router", map[string]any{"name": "r"}).Expect(t, 201).Obj("router")["id"].(string)
	if l := testutil.Do(t, "GET", u+"/routers/"+r+"/l3-agents", nil).Expect(t, 200).List("agents"); len(l) != 0 {
		t.Fatalf("agents without agents: %v", l)
	}
	ctx := t.Context()
	now := "2026-01-01T00:00:00Z"
	if _, err := s.App.DB.Exec(ctx, `INSERT INTO agents (id, agent_type, agent_binary, topic, host, admin_state_up, created_at,
		started_at, heartbeat_timestamp, configurations) VALUES (?, 'L3 agent', 'neutron-l3-agent', 'l3_agent', 'h1', ?, ?, ?, ?, '{}')`,
		"11111111-1111-1111-1111-111111111111", true, now, now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.DB.Exec(ctx, "INSERT INTO routerl3agentbindings (router_id, l3_agent_id, binding_index) VALUES (?, ?, 1)",
		r, "11111111-1111-1111-1111-111111111111"); err != nil {
		t.Fatal(err)
	}
	l := testutil.Do(t, "GET", u+"/routers/"+r+"/l3-agents", nil).Expect(t, 200).List("agents")
	if len(l) != 1 || l[0]["host"] != "h1" || l[0]["agent_type"] != "L3 agent" {
		t.Fatalf("agents: %v", l)
	}
	testutil.Do(t, "GET", u+"/routers/00000000-0000-0000-0000-000000000000/l3-agents", nil).Expect(t, 404)
}
