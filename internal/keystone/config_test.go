package keystone

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func getter(m map[string]string) func(section, key string) (string, bool) {
	return func(section, key string) (string, bool) {
		v, ok := m[section+"."+key]
		return v, ok
	}
}

// neutronConf is what refneutron-ks-up.sh writes.
func neutronConf() map[string]string {
	return map[string]string{
		"keystone_authtoken.www_authenticate_uri":         "http://127.0.0.1:5000",
		"keystone_authtoken.auth_url":                     "http://127.0.0.1:5000",
		"keystone_authtoken.auth_type":                    "password",
		"keystone_authtoken.project_domain_name":          "Default",
		"keystone_authtoken.user_domain_name":             "Default",
		"keystone_authtoken.project_name":                 "service",
		"keystone_authtoken.username":                     "neutron",
		"keystone_authtoken.password":                     "neutron",
		"keystone_authtoken.region_name":                  "RegionOne",
		"keystone_authtoken.service_token_roles_required": "True",
		"keystone_authtoken.token_cache_time":             "300",
	}
}

func TestConfigFromINI(t *testing.T) {
	m := neutronConf()
	m["keystone_authtoken.memcached_servers"] = "127.0.0.1:11211"
	m["keystone_authtoken.service_token_roles"] = " service , admin,"
	m["keystone_authtoken.insecure"] = "yes"
	m["keystone_authtoken.http_connect_timeout"] = "7"
	c, ignored, err := ConfigFromINI(getter(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthURL != "http://127.0.0.1:5000" || c.Username != "neutron" || c.ProjectName != "service" ||
		c.UserDomainName != "Default" || c.ProjectDomainName != "Default" || c.RegionName != "RegionOne" ||
		!c.ServiceTokenRolesRequired || c.TokenCacheTime != 300 || !c.Insecure || c.HTTPConnectTimeout != 7 ||
		!slices.Equal(c.ServiceTokenRoles, []string{"service", "admin"}) || c.HTTPRequestMaxRetries != 3 ||
		c.CacheSize != DefaultCacheSize || c.WWWAuthenticateURI != "http://127.0.0.1:5000" {
		t.Fatalf("%+v", c)
	}
	if !slices.Equal(ignored, []string{"keystone_authtoken.memcached_servers"}) {
		t.Fatalf("ignored %v", ignored)
	}
	if _, err := New(c); err != nil {
		t.Fatal(err)
	}

	// Defaults; legacy auth_uri; auth_section.
	m = map[string]string{
		"keystone_authtoken.auth_uri":     "http://public:5000",
		"keystone_authtoken.auth_section": "svc",
		"svc.auth_type":                   "password",
		"svc.auth_url":                    "http://internal:5000/v3",
		"svc.username":                    "neutron",
		"svc.password":                    " p w ",
		"svc.user_domain_id":              "default",
		"svc.project_id":                  "abc",
	}
	c, _, err = ConfigFromINI(getter(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.WWWAuthenticateURI != "http://public:5000" || c.AuthURL != "http://internal:5000/v3" || c.Password != " p w " ||
		c.ProjectID != "abc" || c.TokenCacheTime != 300 || !slices.Equal(c.ServiceTokenRoles, []string{"service"}) ||
		c.ServiceTokenRolesRequired || c.DelayAuthDecision {
		t.Fatalf("%+v", c)
	}

	// www_authenticate_uri defaults to auth_url; -1 disables caching.
	m = neutronConf()
	delete(m, "keystone_authtoken.www_authenticate_uri")
	m["keystone_authtoken.token_cache_time"] = "-1"
	c, _, err = ConfigFromINI(getter(m))
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if v.WWWAuthenticate() != `Keystone uri="http://127.0.0.1:5000"` || v.cache != nil || v.neg != nil {
		t.Fatalf("%q cache=%v", v.WWWAuthenticate(), v.cache)
	}
}

func TestConfigErrorsNameOption(t *testing.T) {
	for opt, tc := range map[string]struct{ key, val string }{
		"auth_type":                    {"auth_type", "v3token"},
		"token_cache_time":             {"token_cache_time", "five"},
		"insecure":                     {"insecure", "maybe"},
		"http_connect_timeout":         {"http_connect_timeout", "1.5"},
		"service_token_roles_required": {"service_token_roles_required", "sure"},
		"auth_url":                     {"auth_url", "keystone:5000"},
		"username":                     {"username", ""},
		"password":                     {"password", ""},
		"enforce_token_bind":           {"enforce_token_bind", "kerberos"},
		"trust_id":                     {"trust_id", "t"},
		"user_domain_name":             {"user_domain_name", ""},
		"project_domain_name":          {"project_domain_name", ""},
	} {
		m := neutronConf()
		m["keystone_authtoken."+tc.key] = tc.val
		_, _, err := ConfigFromINI(getter(m))
		if err == nil || !strings.Contains(err.Error(), "] "+opt+":") {
			t.Errorf("%s=%q: error %v does not name %s", tc.key, tc.val, err, opt)
		}
	}
	m := neutronConf()
	delete(m, "keystone_authtoken.auth_type")
	if _, _, err := ConfigFromINI(getter(m)); err == nil || !strings.Contains(err.Error(), "auth_type") {
		t.Errorf("missing auth_type: %v", err)
	}
	c := DefaultConfig()
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "auth_url") {
		t.Errorf("New without auth_url: %v", err)
	}
	c.AuthURL, c.Username, c.Password, c.UserDomainID = "http://k:5000", "n", "p", "default"
	c.AuthType = "token"
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "auth_type") {
		t.Errorf("New with auth_type=token: %v", err)
	}
	c.AuthType = ""
	c.CAFile = "/nonexistent/ca.pem"
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "cafile") {
		t.Errorf("New with missing cafile: %v", err)
	}
	f, _ := os.CreateTemp(t.TempDir(), "ca")
	f.WriteString("not a cert")
	f.Close()
	c.CAFile = f.Name()
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "cafile") {
		t.Errorf("New with bad cafile: %v", err)
	}
}

func TestIdentityV3(t *testing.T) {
	for in, want := range map[string]string{
		"http://k:5000":             "http://k:5000/v3",
		"http://k:5000/":            "http://k:5000/v3",
		"http://k:5000/v3":          "http://k:5000/v3",
		"http://k:5000/v3/":         "http://k:5000/v3",
		"https://k/identity":        "https://k/identity/v3",
		"https://k/identity/v2.0/":  "https://k/identity/v3",
		" http://k:5000/v3?x=1#f  ": "http://k:5000/v3",
	} {
		got, err := identityV3(in)
		if err != nil || got != want {
			t.Errorf("identityV3(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "k:5000", "ftp://k/", "http:///v3"} {
		if _, err := identityV3(bad); err == nil {
			t.Errorf("identityV3(%q) accepted", bad)
		}
	}
}

func TestPasswordAuthBody(t *testing.T) {
	c := DefaultConfig()
	c.AuthURL, c.Username, c.Password, c.UserDomainName = "http://k", "neutron", "pw", "Default"
	c.ProjectName, c.ProjectDomainName = "service", "Default"
	v := mustNew(t, c)
	b := v.passwordAuthBody()["auth"].(map[string]any)
	user := b["identity"].(map[string]any)["password"].(map[string]any)["user"].(map[string]any)
	if user["name"] != "neutron" || user["password"] != "pw" || user["domain"].(map[string]any)["name"] != "Default" {
		t.Fatalf("%v", user)
	}
	proj := b["scope"].(map[string]any)["project"].(map[string]any)
	if proj["name"] != "service" || proj["domain"].(map[string]any)["name"] != "Default" {
		t.Fatalf("%v", proj)
	}
	c.ProjectName, c.ProjectDomainName, c.SystemScope = "", "", "all"
	c.UserID, c.Username, c.UserDomainName = "uid", "", ""
	v = mustNew(t, c)
	b = v.passwordAuthBody()["auth"].(map[string]any)
	user = b["identity"].(map[string]any)["password"].(map[string]any)["user"].(map[string]any)
	if user["id"] != "uid" || user["domain"] != nil {
		t.Fatalf("%v", user)
	}
	if b["scope"].(map[string]any)["system"].(map[string]any)["all"] != true {
		t.Fatalf("%v", b["scope"])
	}
}

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"":                               "",
		"*/*":                            "text/html",
		"application/json":               "application/json",
		"application/*":                  "application/json",
		"text/*;q=0.5, application/json": "application/json",
		"application/json, text/html":    "text/html",
		"application/json;q=0.9, text/html;q=0.8": "application/json",
		"application/xml":                         "",
		";;;":                                     "text/html",
		"text/html;q=0, */*":                      "application/json",
		"text/html;level=1":                       "",
		"*/*;q=0":                                 "",
	} {
		h := make(map[string][]string)
		if accept != "" {
			h["Accept"] = []string{accept}
		}
		if got := negotiate(h); got != want {
			t.Errorf("Accept %q: %q, want %q", accept, got, want)
		}
	}
}

func TestBodiesMatchReference(t *testing.T) {
	for file, body := range map[string]string{
		"testdata/ref-401.body.json": Body401,
		"testdata/ref-503.body.html": body503HTML,
		"testdata/ref-503.body.json": body503JSON,
		"testdata/ref-503.body.txt":  body503Text,
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != body {
			t.Errorf("%s differs:\n%q\n%q", file, b, body)
		}
	}
}
