package rbac_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real Keystone that scripts/harness/keystone-up.sh runs (or
// $KEYSTONE_URL), with admin/admin and demo/demo. Tests skip when it does
// not answer, unless CI=true.

func keystoneURL() string {
	if u := os.Getenv("KEYSTONE_URL"); u != "" {
		return strings.TrimRight(u, "/")
	}
	return "http://127.0.0.1:5000"
}

func requireKeystone(t *testing.T) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(keystoneURL() + "/v3")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			return
		}
		err = fmt.Errorf("GET /v3: %s", resp.Status)
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("Keystone unusable at %s under CI=true: %v", keystoneURL(), err)
	}
	t.Skipf("Keystone unusable at %s: %v", keystoneURL(), err)
}

// ksCall sends a Keystone API request; it returns the status, the decoded
// body and the X-Subject-Token header.
func ksCall(t *testing.T, method, path, token string, body any) (int, map[string]any, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, keystoneURL()+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("keystone %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header.Get("X-Subject-Token")
}

func ksToken(t *testing.T, user, password, project string) (token, projectID string) {
	t.Helper()
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []any{"password"}, "password": map[string]any{"user": map[string]any{
			"name": user, "domain": map[string]any{"id": "default"}, "password": password}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"id": "default"}}},
	}}
	st, out, tok := ksCall(t, "POST", "/v3/auth/tokens?nocatalog", "", body)
	if st != 201 {
		t.Fatalf("token for %s in %s: %d %v", user, project, st, out)
	}
	p, _ := out["token"].(map[string]any)["project"].(map[string]any)
	return tok, p["id"].(string)
}

// ksFind returns the id of the named entity of a Keystone collection.
func ksFind(t *testing.T, admin, coll, name string) string {
	t.Helper()
	_, out, _ := ksCall(t, "GET", "/v3/"+coll+"?name="+url.QueryEscape(name), admin, nil)
	list, _ := out[coll].([]any)
	if len(list) == 0 {
		return ""
	}
	return list[0].(map[string]any)["id"].(string)
}

// ensureMember makes project and user (password = user name) with the
// member role, if missing.
func ensureMember(t *testing.T, admin, project, user string) {
	t.Helper()
	pid := ksFind(t, admin, "projects", project)
	if pid == "" {
		ksCall(t, "POST", "/v3/projects", admin, map[string]any{"project": map[string]any{"name": project, "domain_id": "default"}})
		pid = ksFind(t, admin, "projects", project)
	}
	uid := ksFind(t, admin, "users", user)
	if uid == "" {
		ksCall(t, "POST", "/v3/users", admin, map[string]any{"user": map[string]any{"name": user, "password": user, "domain_id": "default", "default_project_id": pid}})
		uid = ksFind(t, admin, "users", user)
	}
	role := ksFind(t, admin, "roles", "member")
	if pid == "" || uid == "" || role == "" {
		t.Fatalf("could not set up %s/%s in Keystone", project, user)
	}
	if st, out, _ := ksCall(t, "PUT", "/v3/projects/"+pid+"/users/"+uid+"/roles/"+role, admin, nil); st != 204 {
		t.Fatalf("role assignment: %d %v", st, out)
	}
}

// TestMemberKeystone runs the member scenario with real Keystone tokens:
// demo owns the network; rbac-b, rbac-c and rbac-d are member projects
// (created when missing). Keystone answers slowly, so tokens are issued and
// first validated in parallel.
func TestMemberKeystone(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	type cred struct{ key, user, project string }
	creds := []cred{{"admin", "admin", "admin"}, {"A", "demo", "demo"}, {"B", "rbacb", "rbac-b"}, {"C", "rbacc", "rbac-c"}, {"D", "rbacd", "rbac-d"}}
	tok, projects := map[string]string{}, map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var missingUsers []cred
	for _, c := range creds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := c.user
			tk, pid, ok := tryToken(c.user, pw, c.project)
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				missingUsers = append(missingUsers, c)
				return
			}
			tok[c.key], projects[c.key] = tk, pid
		}()
	}
	wg.Wait()
	for _, c := range missingUsers {
		if tok["admin"] == "" || !strings.HasPrefix(c.user, "rbac") {
			t.Fatalf("Keystone lacks %s/%s (run keystone-up.sh)", c.user, c.project)
		}
		ensureMember(t, tok["admin"], c.project, c.user)
		tok[c.key], projects[c.key] = ksToken(t, c.user, c.user, c.project)
	}
	s := keystoneServer(t, keystoneURL(), "")
	cl := client{t: t, base: s.URL}
	for _, tk := range tok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl.as(tk).do("GET", "/rbac-policies?id="+missing, nil)
		}()
	}
	wg.Wait()
	memberScenario(t, cl, tok, projects)
}

// tryToken issues a project-scoped token, reporting failure.
func tryToken(user, password, project string) (token, projectID string, ok bool) {
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []any{"password"}, "password": map[string]any{"user": map[string]any{
			"name": user, "domain": map[string]any{"id": "default"}, "password": password}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"id": "default"}}},
	}})
	resp, err := http.Post(keystoneURL()+"/v3/auth/tokens?nocatalog", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", "", false
	}
	defer resp.Body.Close()
	var out struct {
		Token struct {
			Project struct{ ID string } `json:"project"`
		} `json:"token"`
	}
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&out) != nil {
		return "", "", false
	}
	return resp.Header.Get("X-Subject-Token"), out.Token.Project.ID, true
}
