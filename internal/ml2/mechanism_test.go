package ml2_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// recorder is the in-tree test mechanism driver: it records every call,
// checks that precommit calls run in the transaction and postcommit calls
// after the commit (another connection sees the change), binds ports on
// host "bindme" and refuses networks named "refuse".
type recorder struct {
	ml2.BaseMechanismDriver
	env   *plugin.Env
	mu    sync.Mutex
	calls []string
	errs  []string
}

func init() {
	ml2.RegisterMechanismDriver("recorder", func() ml2.MechanismDriver { return &recorder{} })
}

func (r *recorder) Initialize(env *plugin.Env, _ *ml2.Plugin) error { r.env = env; return nil }

func (r *recorder) record(call, table, id string, pre, inTx bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
	if pre != inTx {
		r.errs = append(r.errs, call+": transaction present "+fmt.Sprint(inTx))
	}
	if pre {
		return
	}
	var n int
	if err := r.env.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table+" WHERE id = ?", id).Scan(&n); err != nil {
		r.errs = append(r.errs, call+": "+err.Error())
	}
	if want := map[bool]int{true: 0, false: 1}[strings.HasPrefix(call, "delete")]; n != want {
		r.errs = append(r.errs, fmt.Sprintf("%s: %d rows outside the transaction, want %d", call, n, want))
	}
}

func id(c map[string]any) string { return c["id"].(string) }

func (r *recorder) CreateNetworkPrecommit(c *ml2.NetworkContext) error {
	r.record("create_network_precommit", "networks", id(c.Current), true, c.Tx != nil)
	if len(c.Segments) != 1 {
		return fmt.Errorf("segments %v", c.Segments)
	}
	if c.Current["name"] == "refuse" {
		return errors.New("refused by the recorder")
	}
	return nil
}
func (r *recorder) CreateNetworkPostcommit(c *ml2.NetworkContext) error {
	r.record("create_network_postcommit", "networks", id(c.Current), false, c.Tx != nil)
	return nil
}
func (r *recorder) DeleteNetworkPrecommit(c *ml2.NetworkContext) error {
	r.record("delete_network_precommit", "networks", id(c.Current), true, c.Tx != nil)
	return nil
}
func (r *recorder) DeleteNetworkPostcommit(c *ml2.NetworkContext) error {
	r.record("delete_network_postcommit", "networks", id(c.Current), false, c.Tx != nil)
	return nil
}
func (r *recorder) CreateSubnetPrecommit(c *ml2.SubnetContext) error {
	r.record("create_subnet_precommit", "subnets", id(c.Current), true, c.Tx != nil)
	return nil
}
func (r *recorder) CreateSubnetPostcommit(c *ml2.SubnetContext) error {
	r.record("create_subnet_postcommit", "subnets", id(c.Current), false, c.Tx != nil)
	return nil
}
func (r *recorder) DeleteSubnetPrecommit(c *ml2.SubnetContext) error {
	r.record("delete_subnet_precommit", "subnets", id(c.Current), true, c.Tx != nil)
	return nil
}
func (r *recorder) DeleteSubnetPostcommit(c *ml2.SubnetContext) error {
	r.record("delete_subnet_postcommit", "subnets", id(c.Current), false, c.Tx != nil)
	return nil
}
func (r *recorder) CreatePortPrecommit(c *ml2.PortContext) error {
	r.record("create_port_precommit", "ports", id(c.Current), true, c.Tx != nil)
	if c.Host == "bindme" && (len(c.BindingLevels) != 1 || c.BindingLevels[0].Driver != "recorder" || c.BoundSegment() == nil) {
		r.mu.Lock()
		r.errs = append(r.errs, fmt.Sprintf("binding levels %+v", c.BindingLevels))
		r.mu.Unlock()
	}
	if ips, _ := c.Current["fixed_ips"].([]any); len(ips) != 1 {
		return fmt.Errorf("create_port_precommit: fixed_ips %v", c.Current["fixed_ips"])
	}
	return nil
}
func (r *recorder) CreatePortPostcommit(c *ml2.PortContext) error {
	r.record("create_port_postcommit", "ports", id(c.Current), false, c.Tx != nil)
	return nil
}
func (r *recorder) UpdatePortPrecommit(c *ml2.PortContext) error {
	r.record("update_port_precommit", "ports", id(c.Current), true, c.Tx != nil)
	if c.Original["name"] == c.Current["name"] && c.Original["binding:host_id"] == c.Current["binding:host_id"] {
		return fmt.Errorf("update_port_precommit: original %v current %v", c.Original["name"], c.Current["name"])
	}
	return nil
}
func (r *recorder) UpdatePortPostcommit(c *ml2.PortContext) error {
	r.record("update_port_postcommit", "ports", id(c.Current), false, c.Tx != nil)
	return nil
}
func (r *recorder) DeletePortPrecommit(c *ml2.PortContext) error {
	r.record("delete_port_precommit", "ports", id(c.Current), true, c.Tx != nil)
	return nil
}
func (r *recorder) DeletePortPostcommit(c *ml2.PortContext) error {
	r.record("delete_port_postcommit", "ports", id(c.Current), false, c.Tx != nil)
	return nil
}
func (r *recorder) BindPort(c *ml2.PortContext) {
	r.mu.Lock()
	r.calls = append(r.calls, "bind_port:"+c.Host)
	r.mu.Unlock()
	if c.Host == "bindme" && len(c.SegmentsToBind) > 0 {
		c.SetBinding(c.SegmentsToBind[0].ID, "ovs", map[string]any{"port_filter": true, "connectivity": "l2"})
	}
}

// TestMechanismDriverCalls: the mechanism manager calls a driver's
// precommit in the transaction and its postcommit after the commit, in
// Neutron's order; binding goes through BindPort; a precommit error
// aborts the request without a trace.
func TestMechanismDriverCalls(t *testing.T) {
	log := newTestLog(t)
	s := testutil.StartServer(t, testutil.Options{Set: map[string]string{"ml2.mechanism_drivers": "recorder"}, Log: log})
	rec := s.App.Env.Plugin("ml2").(*ml2.Plugin).MechanismDriver("recorder").(*recorder)
	u := s.URL + "/v2.0/"
	net := testutil.Do(t, "POST", u+"networks", map[string]any{"network": map[string]any{"name": "n"}}).Expect(t, 201).Obj("network")
	sub := testutil.Do(t, "POST", u+"subnets", map[string]any{"subnet": map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4}}).Expect(t, 201).Obj("subnet")
	bound := testutil.Do(t, "POST", u+"ports", map[string]any{"port": map[string]any{"network_id": net["id"], "binding:host_id": "bindme"}}).Expect(t, 201).Obj("port")
	if bound["binding:vif_type"] != "ovs" || bound["binding:vif_details"].(map[string]any)["port_filter"] != true {
		t.Fatalf("bound port: vif_type %v details %v", bound["binding:vif_type"], bound["binding:vif_details"])
	}
	failed := testutil.Do(t, "POST", u+"ports", map[string]any{"port": map[string]any{"network_id": net["id"], "binding:host_id": "elsewhere"}}).Expect(t, 201).Obj("port")
	if failed["binding:vif_type"] != "binding_failed" {
		t.Fatalf("unbindable port: vif_type %v", failed["binding:vif_type"])
	}
	testutil.Do(t, "PUT", u+"ports/"+id(bound), map[string]any{"port": map[string]any{"name": "renamed"}}).Expect(t, 200)
	moved := testutil.Do(t, "PUT", u+"ports/"+id(bound), map[string]any{"port": map[string]any{"binding:host_id": "elsewhere"}}).Expect(t, 200).Obj("port")
	if moved["binding:vif_type"] != "binding_failed" {
		t.Fatalf("port moved to an unbindable host: vif_type %v", moved["binding:vif_type"])
	}
	for _, p := range []map[string]any{bound, failed} {
		testutil.Do(t, "DELETE", u+"ports/"+id(p), nil).Expect(t, 204)
	}
	testutil.Do(t, "DELETE", u+"subnets/"+id(sub), nil).Expect(t, 204)
	testutil.Do(t, "DELETE", u+"networks/"+id(net), nil).Expect(t, 204)
	testutil.Do(t, "POST", u+"networks", map[string]any{"network": map[string]any{"name": "refuse"}}).Expect(t, 500)
	if l := testutil.Do(t, "GET", u+"networks?name=refuse", nil).Expect(t, 200).List("networks"); len(l) != 0 {
		t.Fatalf("a refused network exists: %v", l)
	}
	if line := log.find("refused by the recorder"); !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "request_id=req-") {
		t.Fatalf("the driver's failure is not an ERROR line with the request id: %q", line)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := strings.Join([]string{
		"create_network_precommit", "create_network_postcommit",
		"create_subnet_precommit", "create_subnet_postcommit",
		"bind_port:bindme", "create_port_precommit", "create_port_postcommit",
		"bind_port:elsewhere", "create_port_precommit", "create_port_postcommit",
		"update_port_precommit", "update_port_postcommit",
		"bind_port:elsewhere", "update_port_precommit", "update_port_postcommit",
		"delete_port_precommit", "delete_port_postcommit",
		"delete_port_precommit", "delete_port_postcommit",
		"delete_subnet_precommit", "delete_subnet_postcommit",
		"delete_network_precommit", "delete_network_postcommit",
		"create_network_precommit",
	}, "\n")
	if got := strings.Join(rec.calls, "\n"); got != want {
		t.Fatalf("calls:\n%s\nwant:\n%s", got, want)
	}
	if len(rec.errs) > 0 {
		t.Fatalf("driver saw: %v", rec.errs)
	}
}

// TestUnknownDriverNames: an unknown mechanism or extension driver fails
// start-up with the names that exist; a Neutron driver neutrino lacks is
// a warning.
func TestUnknownDriverNames(t *testing.T) {
	for opt, want := range map[string]string{"mechanism_drivers": "recorder", "extension_drivers": "port_security", "type_drivers": "vlan"} {
		_, err := testutil.NewApp(t, testutil.Options{Set: map[string]string{"ml2." + opt: "nosuchdriver"}})
		if err == nil || !strings.Contains(err.Error(), `unknown name "nosuchdriver"`) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s = nosuchdriver: %v", opt, err)
		}
	}
	if _, err := testutil.NewApp(t, testutil.Options{Set: map[string]string{"ml2.mechanism_drivers": "linuxbridge"}}); err != nil {
		t.Errorf("a Neutron driver neutrino lacks: %v", err)
	}
}

// testLog sends the server log to the test's log and keeps its lines.
type testLog struct {
	t     *testing.T
	mu    *sync.Mutex
	lines *[]string
}

func newTestLog(t *testing.T) testLog { return testLog{t, &sync.Mutex{}, &[]string{}} }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	l.mu.Lock()
	*l.lines = append(*l.lines, string(p))
	l.mu.Unlock()
	return len(p), nil
}

// find returns the first line containing s.
func (l testLog) find(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range *l.lines {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
