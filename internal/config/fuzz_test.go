package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/keystone"
	_ "github.com/neutrino-os/neutrino/internal/plugins" // registers every option
	"github.com/neutrino-os/neutrino/internal/server"
)

// FuzzLoad (go test -fuzz=FuzzLoad ./internal/config/; seeds in
// testdata/fuzz/FuzzLoad/ plus the f.Add below): any neutron.conf and any
// --set override either is refused with an error or loads into a
// configuration every consumer reads without a panic.
func FuzzLoad(f *testing.F) {
	for _, s := range [][2]string{
		{"[DEFAULT]\nbind_port = 9696\ncore_plugin = ml2\nservice_plugins = router, segments\n[database]\nconnection = sqlite://\nmax_retries = -1\n", "DEFAULT.debug=true"},
		{"[DEFAULT]\napi_workers = x\n", ""},
		{"[ml2]\ntype_drivers = vlan\n[ml2_type_vlan]\nnetwork_vlan_ranges = physnet1:1:4094,physnet2\n", "ml2.tenant_network_types=vlan"},
		{"[keystone_authtoken]\nauth_url = http://k:5000\nusername = n\npassword = p\nproject_name = s\nuser_domain_name = D\nproject_domain_name = D\ndelay_auth_decision = maybe\n", "DEFAULT.auth_strategy=keystone"},
		{"[DEFAULT]\nstate_path = /var/lib/neutron\nlock_path = $state_path/lock\nx = $y\ny = $x\n", ""},
		{"[quotas]\nquota_network = -5\ndefault_quota = 1e3\n", "quotas.quota_port=abc"},
		{"[DEFAULT]\n  continued = a\n\tb\n[[bad]]\n= novalue\nkey\n", ""},
		{"[oslo_middleware]\nmax_request_body_size = 99999999999999999999\n[DEFAULT]\nclient_socket_timeout = -1\n", ""},
	} {
		f.Add([]byte(s[0]), s[1])
	}
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		file := filepath.Join(t.TempDir(), "neutron.conf")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		over := map[string]string{}
		if k, v, ok := strings.Cut(set, "="); ok {
			over[k] = v
		}
		c, err := config.Load([]string{file}, nil, over)
		if err != nil {
			return
		}
		c.Effective()
		if app.ApplyDefaultProfile(c) != nil {
			return
		}
		keystone.ConfigFromINI(c.Raw)
		server.LimitsFromConfig(c)
		for _, o := range config.Options() {
			switch o.Type {
			case config.Int, config.Port:
				c.Int(o.Group, o.Name)
			case config.Bool:
				c.Bool(o.Group, o.Name)
			case config.List, config.MultiStr:
				c.List(o.Group, o.Name)
			default:
				c.String(o.Group, o.Name)
			}
		}
	})
}
