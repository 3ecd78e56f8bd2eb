package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestKeystoneScenario runs a keystone scenario against a fake server:
// persona lists expand into one step each, every request carries its
// persona's token (cleanup as admin), and Keystone ids read as persona
// names in the answers.
func TestKeystoneScenario(t *testing.T) {
	var mu sync.Mutex
	var log []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		log = append(log, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Auth-Token"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Method == "DELETE" {
			w.WriteHeader(204)
			return
		}
		fmt.Fprintf(w, `{"network": {"id": "5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001", "tenant_id": "0123456789abcdef0123456789abcdef", "who": "%s"}}`, r.Header.Get("X-Auth-Token"))
	}))
	defer srv.Close()
	sc := loadString(t, `
auth: keystone
as: owner
steps:
  - name: create
    request: POST /v2.0/networks
    body: {network: {tenant_id: "{project.owner}"}}
    save: {net: network.id}
  - name: show
    request: GET /v2.0/networks/{net}
    as: [other, admin]
cleanup:
  - DELETE /v2.0/networks/{net}
`)
	if len(sc.Steps) != 3 || sc.Steps[1].Title() != "show as other" || sc.Steps[2].Persona() != "admin" || sc.Cleanup[0].Persona() != "admin" {
		t.Fatalf("steps not expanded: %+v", sc.Steps)
	}
	r := &Runner{BaseURL: srv.URL, RunID: "rqqqqqqq",
		Token: func(_ context.Context, p string) (string, error) { return "tok-" + p, nil },
		Vars:  []NamedValue{{"project.owner", "0123456789abcdef0123456789abcdef"}, {"project.reader", "0123456789abcdef0123456789abcdef"}}}
	tr, err := r.Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /v2.0/networks tok-owner",
		"GET /v2.0/networks/5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001 tok-other",
		"GET /v2.0/networks/5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001 tok-admin",
		"DELETE /v2.0/networks/5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001 tok-admin",
	}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	data, _ := EncodeGolden(tr)
	for _, s := range []string{`"tenant_id": "<project.owner>"`, `"as": "other"`, `"who": "tok-admin"`} {
		if !strings.Contains(string(data), s) {
			t.Errorf("transcript lacks %s:\n%s", s, data)
		}
	}
	// a golden file records the persona: another one is out of date
	g := *tr
	g.Steps = append([]*Answer{}, tr.Steps...)
	a := *g.Steps[1]
	a.As = "reader"
	g.Steps[1] = &a
	if d := Compare(sc, &g, tr); len(d) != 1 || !strings.Contains(d[0].Diffs[0], "re-record") {
		t.Errorf("persona change not reported: %+v", d)
	}
}

func TestLoadRejectsPersonas(t *testing.T) {
	for _, y := range []string{
		"steps:\n  - {request: GET /v2.0/networks, as: owner}\n",
		"auth: keystone\nsteps:\n  - {request: GET /v2.0/networks, as: nobody}\n",
		"auth: keystone\nsteps:\n  - {request: GET /v2.0/networks, as: [owner, other], save: {x: networks.0.id}}\n",
		"auth: ldap\nsteps:\n  - GET /v2.0/networks\n",
	} {
		p := filepath.Join(t.TempDir(), "s.yaml")
		os.WriteFile(p, []byte(y), 0o644)
		if _, err := Load(p); err == nil {
			t.Errorf("accepted:\n%s", y)
		}
	}
}

// TestTokenCache: repeated token requests and validations are answered
// once by Keystone; failures are not cached; other calls pass through.
func TestTokenCache(t *testing.T) {
	var calls atomic.Int64
	ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == "POST" && strings.Contains(string(body), "bad"):
			w.WriteHeader(401)
		case r.Method == "POST":
			w.Header().Set("X-Subject-Token", "svc")
			w.WriteHeader(201)
			fmt.Fprint(w, `{"token": {}}`)
		default:
			fmt.Fprintf(w, `{"token": {"subject": %q}}`, r.Header.Get("X-Subject-Token"))
		}
	}))
	defer ks.Close()
	px := httptest.NewServer(NewTokenCache(ks.URL))
	defer px.Close()
	do := func(method, path, subject, body string) (int, string, string) {
		req, _ := http.NewRequest(method, px.URL+path, strings.NewReader(body))
		if subject != "" {
			req.Header.Set("X-Subject-Token", subject)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("X-Subject-Token"), string(b)
	}
	for i := 0; i < 3; i++ {
		if st, tok, _ := do("POST", "/v3/auth/tokens", "", `{"user": "neutron"}`); st != 201 || tok != "svc" {
			t.Fatalf("service token: %d %q", st, tok)
		}
		if st, _, b := do("GET", "/v3/auth/tokens?nocatalog", "a", ""); st != 200 || !strings.Contains(b, `"a"`) {
			t.Fatalf("validation: %d %s", st, b)
		}
		if _, _, b := do("GET", "/v3/auth/tokens?nocatalog", "b", ""); !strings.Contains(b, `"b"`) {
			t.Fatalf("validation of b: %s", b)
		}
		do("POST", "/v3/auth/tokens", "", `{"user": "bad"}`)
	}
	do("GET", "/v3", "", "")
	if n := calls.Load(); n != 1+1+1+3+1 {
		t.Errorf("keystone saw %d calls, want 7", n)
	}
}
