package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ksToken issues a project-scoped token from the test Keystone.
func ksToken(t *testing.T, user, project string) (token, userID, projectID string) {
	t.Helper()
	body := fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,"domain":{"id":"default"},"password":%q}}},"scope":{"project":{"name":%q,"domain":{"id":"default"}}}}}`, user, user, project)
	resp, err := http.Post(keystoneURL+"/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token struct {
			User    struct{ ID string }
			Project struct{ ID string }
		}
	}
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&out) != nil {
		t.Fatalf("token for %s: %s", user, resp.Status)
	}
	return resp.Header.Get("X-Subject-Token"), out.Token.User.ID, out.Token.Project.ID
}

// keystoneConf is a neutron.conf with Keystone authentication.
func keystoneConf(t *testing.T, dir string, port int, extra string) string {
	return writeFile(t, dir, "neutron.conf", fmt.Sprintf(`[DEFAULT]
auth_strategy = keystone
bind_host = 127.0.0.1
bind_port = %d
%s
[database]
connection = sqlite:///%s
[oslo_policy]
policy_file = %s
[keystone_authtoken]
www_authenticate_uri = %s
auth_url = %s
auth_type = password
username = neutron
password = neutron
project_name = service
user_domain_name = Default
project_domain_name = Default
`, port, extra, filepath.Join(dir, "n.db"), filepath.Join(dir, "policy.yaml"), keystoneURL, keystoneURL))
}

// TestSIGHUPPolicy: SIGHUP reloads the policy file: a rule added to it
// applies to the next request. Every log line of a request carries its
// request id, user and project.
func TestSIGHUPPolicy(t *testing.T) {
	requireKeystone(t)
	dir := t.TempDir()
	port := freePort(t)
	conf := keystoneConf(t, dir, port, "debug = true")
	p := start(t, nil, "--config-file", conf)
	p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	p.waitUp(t, 10*time.Second)
	tok, userID, projectID := ksToken(t, "demo", "demo")
	post := func() (int, string) {
		req, _ := http.NewRequest("POST", p.url+"/v2.0/networks", strings.NewReader(`{"network":{"name":"pol"}}`))
		req.Header.Set("X-Auth-Token", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Openstack-Request-Id")
	}
	code, id := post()
	if code != 201 {
		t.Fatalf("member creating a network: %d", code)
	}
	// the request's lines: access log and policy decision, each with the
	// request id, user and project
	ctxTag := fmt.Sprintf("[None %s %s %s ", id, userID, projectID)
	waitOutput(t, p, ctxTag)
	var n int
	// the access line is written once the answer is sent: it may follow
	// the client's read of the answer by a moment on a busy machine
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		n = 0
		for _, line := range strings.Split(p.log(), "\n") {
			if strings.Contains(line, id) {
				n++
				if !strings.Contains(line, ctxTag) {
					t.Fatalf("a line of request %s lacks its user and project:\n%s", id, line)
				}
			}
		}
		if n >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if n < 2 || !strings.Contains(p.log(), "policy check passed action=create_network") {
		t.Fatalf("request %s: %d lines, want the access line and the policy decision", id, n)
	}

	writeFile(t, dir, "policy.yaml", `"create_network": "rule:admin_only"`+"\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitOutput(t, p, "reload done")
	if code, _ := post(); code != 403 {
		t.Fatalf("member creating a network after the policy reload: %d, want 403", code)
	}
	waitOutput(t, p, "policy check failed action=create_network")
	waitOutput(t, p, "create failed (client error): rule:create_network is disallowed by policy")
}

// waitOutput waits until the server's output holds want.
func waitOutput(t *testing.T, p *proc, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.log(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("server output lacks %q", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
