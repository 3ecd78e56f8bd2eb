package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDebianStockConfig: Debian's own /etc/neutron/neutron.conf and
// plugins/ml2/ml2_conf.ini (testdata/debian, as the neutron-common and
// neutron-server packages install them) start neutrino: what it does not
// implement (the agents' and Nova's options) is named once in a warning
// saying it is ignored, what it implements (the router, metering and qos
// service plugins, the qos extension driver) is not, [securitygroup] is known, and the one thing the files
// lack, the service user's password, is given with --set.
func TestDebianStockConfig(t *testing.T) {
	requireKeystone(t)
	dir := t.TempDir()
	port := freePort(t)
	debian, err := filepath.Abs("testdata/debian")
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, nil,
		"--config-file", filepath.Join(debian, "neutron.conf"), "--config-file", filepath.Join(debian, "ml2_conf.ini"),
		"--set", "keystone_authtoken.password=neutron",
		"--set", "DEFAULT.bind_host=127.0.0.1", "--set", fmt.Sprintf("DEFAULT.bind_port=%d", port),
		"--set", "database.connection=sqlite:///"+filepath.Join(dir, "neutron.db"),
		"--set", "oslo_policy.policy_dirs="+dir)
	p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	p.waitUp(t, 15*time.Second)
	log := p.log()
	for _, want := range []string{
		"options accepted but not acted on by neutrino (ignored): ",
		"[securitygroup] enable_ipset", "[DEFAULT] notify_nova_on_port_status_changes", "[nova] auth_type",
	} {
		if n := strings.Count(log, want); n != 1 {
			t.Errorf("log has %q %d times, want once", want, n)
		}
	}
	for _, implemented := range []string{`service plugin "router"`, `service plugin "metering"`, `service plugin "qos"`, "[ml2] extension_drivers = qos"} {
		if strings.Contains(log, implemented) {
			t.Errorf("log names %s as not implemented", implemented)
		}
	}
	if strings.Contains(log, "unknown option [securitygroup]") {
		t.Error("[securitygroup] options reported as unknown")
	}
	// the API answers a Keystone user with the stock configuration
	tok, _, _ := ksToken(t, "admin", "admin")
	req, _ := http.NewRequest("POST", p.url+"/v2.0/networks", strings.NewReader(`{"network":{"name":"stock"}}`))
	req.Header.Set("X-Auth-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Network map[string]any }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 201 || body.Network["provider:network_type"] != "vxlan" {
		t.Fatalf("create with the stock configuration: %d %v", resp.StatusCode, body.Network)
	}
}

// TestSetEveryOption: --set takes every option a file may hold: registered
// options, [keystone_authtoken] keys and the keys of ignored groups; an
// option no file could hold is refused, naming it.
func TestSetEveryOption(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "n.conf", `[DEFAULT]
auth_strategy = keystone
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000
auth_url = http://127.0.0.1:5000
auth_type = password
username = neutron
project_name = service
user_domain_name = Default
project_domain_name = Default
`)
	out, errOut, code := runBin(t, dir, "db", "check", "--config-file", conf, "--database-connection", "sqlite:///"+filepath.Join(dir, "x.db"),
		"--set", "keystone_authtoken.password=secret",
		"--set", "securitygroup.firewall_driver=openvswitch", "--set", "nova.password=x",
		"--set", "ml2.extension_drivers=port_security,data_plane_status")
	if !strings.Contains(out, "[keystone_authtoken] is complete") {
		t.Fatalf("--set keystone_authtoken.password not taken: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"[securitygroup] firewall_driver", "[nova] password", "extension_drivers = data_plane_status"} {
		if !strings.Contains(strings.Join(strings.Fields(strings.ReplaceAll(out, "|", " ")), " "), want) {
			t.Errorf("db check does not name %q as ignored:\n%s", want, out)
		}
	}
	_, errOut, code = runBin(t, dir, "db", "version", "--set", "DEFAULT.no_such_option=1")
	if code == 0 || !strings.Contains(errOut, "no_such_option") {
		t.Fatalf("--set of an unknown option: exit %d %q", code, errOut)
	}
}
