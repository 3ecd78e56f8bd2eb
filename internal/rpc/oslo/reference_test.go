package oslo

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
)

// Against a running reference Neutron (Debian's Zed neutron-server, e.g.
// scripts/harness/agents-ref-server.sh): set NEUTRINO_REF_TRANSPORT_URL to its
// transport_url. The Go client then plays an agent: the calls the Zed agents
// make at start-up, answered by the real server.
func TestAgainstReferenceServer(t *testing.T) {
	u := os.Getenv("NEUTRINO_REF_TRANSPORT_URL")
	if u == "" {
		t.Skip("NEUTRINO_REF_TRANSPORT_URL not set (a reference Neutron with RPC)")
	}
	tr := openTransport(t, u, fastOptions())
	ctx := context.Background()
	call := func(topic, version, method string, args any) (json.RawMessage, error) {
		return tr.Call(ctx, AdminContext(), Target{Topic: topic, Version: version, Timeout: 30 * time.Second}, method, args)
	}
	if res, err := call("q-reports-plugin", "1.2", "has_alive_neutron_server", nil); err != nil || string(res) != "true" {
		t.Errorf("has_alive_neutron_server: %s %v", res, err)
	}
	host := "go-peer-" + newUniqueID()[:6]
	state := map[string]any{"agent_state": map[string]any{"agent_state": map[string]any{
		"binary": "neutron-dhcp-agent", "host": host, "topic": "dhcp_agent", "agent_type": "DHCP agent",
		"availability_zone": "nova", "configurations": map[string]any{"dhcp_driver": "x"}, "start_flag": true,
	}}, "time": time.Now().UTC().Format("2006-01-02T15:04:05.000000")}
	if res, err := call("q-reports-plugin", "1.2", "report_state", state); err != nil || string(res) != `"new"` {
		t.Errorf("report_state: %s %v", res, err)
	}
	if res, err := call("q-reports-plugin", "1.2", "report_state", state); err != nil || string(res) != `"alive"` {
		t.Errorf("second report_state: %s %v", res, err)
	}
	if res, err := call("q-plugin", "1.1", "get_active_networks_info", map[string]any{"host": host, "enable_dhcp_filter": false}); err != nil || string(res) != "[]" {
		t.Errorf("get_active_networks_info: %s %v", res, err)
	}
	if res, err := call("q-plugin", "1.1", "bulk_pull", map[string]any{"resource_type": "Network", "version": "1.1",
		"filter_kwargs": map[string]any{"id": []string{"00000000-0000-0000-0000-000000000000"}}}); err != nil || string(res) != "[]" {
		t.Errorf("bulk_pull: %s %v", res, err)
	}
	if res, err := call("q-l3-plugin", "1.11", "get_host_ha_router_count", map[string]any{"host": host}); err != nil || string(res) != "0" {
		t.Errorf("get_host_ha_router_count: %s %v", res, err)
	}
	_, err := call("q-plugin", "1.0", "no_such_method", nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Class != "NoSuchMethod" || re.Module != "oslo_messaging.rpc.dispatcher" {
		t.Errorf("no_such_method: %#v", err)
	}
	// An endpoint exception, serialized by the real server.
	_, err = call("q-l3-plugin", "1.1", "update_floatingip_statuses", nil)
	if !errors.As(err, &re) || re.Class != "TypeError" || re.Module != "builtins" || len(re.Traceback) == 0 {
		t.Errorf("update_floatingip_statuses without arguments: %#v", err)
	} else {
		t.Logf("reference failure: %s.%s: %s", re.Module, re.Class, re.Message)
	}
	// Wire facts of the real server: a fanout cast every server consumes.
	if err := tr.Cast(ctx, AdminContext(), Target{Topic: "q-server-resource-versions", Fanout: true, Version: "1.0"},
		"report_agent_resource_versions", map[string]any{"agent_type": "DHCP agent", "agent_host": host,
			"version_map": map[string]string{"Network": "1.1"}}); err != nil {
		t.Error(err)
	}
}
