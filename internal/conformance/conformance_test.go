package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func compact(t *testing.T, v any) string {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadString(t *testing.T, yaml string) *Scenario {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestNormalize(t *testing.T) {
	vars := map[string]string{"0b0c5d27-56a3-4c1c-9e0b-6f2f1d7e0a01": "net", "fa:16:3e:00:00:01": "port_mac"}
	n := newNormalizer("http://127.0.0.1:9", "rghjkmnp", func(s string) (string, bool) { v, ok := vars[s]; return v, ok })
	sc := loadString(t, `
any: {network.provider:segmentation_id: int, network.mtu: int}
ignore: [network.secret]
replace: {'b, a|a, b': '<a,b>'}
steps:
  - GET /v2.0/networks/x
`)
	h := mergeHints(sc, sc.Steps[0])
	got := n.body(decode(t, `{"network": {
		"id": "0b0c5d27-56a3-4c1c-9e0b-6f2f1d7e0a01",
		"z": "9d7c4b2a-0000-4000-8000-000000000002",
		"a": "see 7f4e1c3b-1111-4111-8111-111111111111 and 9d7c4b2a-0000-4000-8000-000000000002",
		"name": "rghjkmnp-net",
		"created_at": "2024-01-02T03:04:05Z",
		"link": "http://127.0.0.1:9/v2.0/networks?marker=0b0c5d27-56a3-4c1c-9e0b-6f2f1d7e0a01",
		"req": "req-6a1e0a0c-8f0e-4c55-9c0e-1f6d2c1b9a11",
		"mac": "FA:16:3E:12:34:56", "mine": "fa:16:3e:00:00:01",
		"provider:segmentation_id": 1234, "mtu": "1500",
		"secret": 5, "set": "keys b, a",
		"tags": ["z", "a"]}}`), h)
	want := `{"network":{"a":"see <uuid:1> and <uuid:2>","created_at":"<timestamp>","id":"<net>","link":"<base>/v2.0/networks?marker=<net>",` +
		`"mac":"<mac>","mine":"<port_mac>","mtu":"1500","name":"{run}-net","provider:segmentation_id":"<int>","req":"<request-id>",` +
		`"secret":"<ignored>","set":"keys <a,b>","tags":["a","z"],"z":"<uuid:2>"}}`
	if s := compact(t, got); s != want {
		t.Errorf("normalised:\n got %s\nwant %s", s, want)
	}
	// numbering continues across answers of the same scenario
	if s := n.text("x 7f4e1c3b-1111-4111-8111-111111111111 y 3c2d1e0f-2222-4222-8222-222222222222", h); s != "x <uuid:1> y <uuid:3>" {
		t.Errorf("text: %s", s)
	}
}

func TestUnorderedNumbering(t *testing.T) {
	// UUIDs inside an unordered list are numbered after sorting, so both
	// servers number them the same whatever order they answered in.
	sc := loadString(t, "steps: [GET /v2.0/networks]\n")
	h := mergeHints(sc, sc.Steps[0])
	a := `{"id": "11111111-1111-4111-8111-111111111111", "name": "b"}`
	b := `{"id": "22222222-2222-4222-8222-222222222222", "name": "a"}`
	n1 := newNormalizer("", "", func(string) (string, bool) { return "", false })
	n2 := newNormalizer("", "", func(string) (string, bool) { return "", false })
	x := compact(t, n1.body(decode(t, `{"networks": [`+a+`,`+b+`]}`), h))
	y := compact(t, n2.body(decode(t, `{"networks": [`+b+`,`+a+`]}`), h))
	if x != y || !strings.Contains(x, `{"id":"<uuid:1>","name":"a"}`) {
		t.Errorf("%s\n%s", x, y)
	}
	// sorted lists keep their order
	sc = loadString(t, "steps:\n  - GET /v2.0/networks?sort_key=name&sort_dir=desc\n")
	h = mergeHints(sc, sc.Steps[0])
	if z := compact(t, n1.body(decode(t, `{"networks": [{"n": 2}, {"n": 1}]}`), h)); z != `{"networks":[{"n":2},{"n":1}]}` {
		t.Error(z)
	}
}

func TestCompare(t *testing.T) {
	sc := loadString(t, "steps: [GET /v2.0/networks, GET /v2.0/networks/x]\n")
	exp := &Transcript{Steps: []*Answer{
		{Request: "GET /v2.0/networks", Status: 200, Body: decode(t, `{"networks": [{"name": "a", "mtu": 1}, {"name": "b", "mtu": 2}]}`), hasBody: true},
		{Request: "GET /v2.0/networks/x", Status: 404, Body: decode(t, `{"NeutronError": {"type": "NetworkNotFound", "message": "m"}}`), hasBody: true},
	}}
	got := &Transcript{Steps: []*Answer{
		{Request: "GET /v2.0/networks", Status: 200, Body: decode(t, `{"networks": [{"name": "b", "mtu": 2}, {"name": "a", "mtu": 1}]}`), hasBody: true},
		{Request: "GET /v2.0/networks/x", Status: 404, Body: decode(t, `{"NeutronError": {"type": "NetworkNotFound", "message": "m"}}`), hasBody: true},
	}}
	if d := Compare(sc, exp, got); d != nil {
		t.Fatalf("unordered lists should match: %v", d)
	}
	got.Steps[0].Body = decode(t, `{"networks": [{"name": "b", "mtu": 2}, {"name": "a", "mtu": 3, "x": true}]}`)
	got.Steps[1].Status = 400
	got.Steps[1].Body = decode(t, `{"NeutronError": {"type": "HTTPBadRequest", "message": "m"}}`)
	d := Compare(sc, exp, got)
	r := Report(sc, d)
	for _, want := range []string{
		`networks.0.mtu: expected 1, got 3`,
		`networks.0.x: unexpected key (got true)`,
		`status: expected 404, got 400`,
		`NeutronError.type: expected "NetworkNotFound", got "HTTPBadRequest"`,
	} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
	// known differences are not compared
	sc.Steps[1].KnownDifference = "deliberate"
	if d := Compare(sc, exp, got); len(d) != 1 {
		t.Errorf("known difference compared: %v", d)
	}
	// out-of-date golden files are reported
	exp.Steps[0].Request = "GET /v2.0/ports"
	if r := Report(sc, Compare(sc, exp, got)); !strings.Contains(r, "re-record") {
		t.Error(r)
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(p, []byte("steps:\n  - request: GET /v2.0/networks\n    bodyy: {}\n"), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "bodyy") {
		t.Errorf("want an unknown-field error, got %v", err)
	}
	os.WriteFile(p, []byte("steps:\n  - FETCH /v2.0/networks\n"), 0o644)
	if _, err := Load(p); err == nil {
		t.Error("unknown method accepted")
	}
}

// TestRunner runs a scenario against a fake server: substitution, saved
// variables, raw bodies, headers, and the cleanup after everything.
func TestRunner(t *testing.T) {
	var mu sync.Mutex
	var log []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		log = append(log, fmt.Sprintf("%s %s %s %s", r.Method, r.URL.RequestURI(), r.Header.Get("If-Match"), body))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		switch {
		case r.Method == "POST":
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"network": {"id": "5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001", "mtu": 1450, "echo": %s}}`, body)
		case r.Method == "DELETE":
			w.WriteHeader(204)
		default:
			fmt.Fprintf(w, `{"networks_links": [{"href": "http://%s/v2.0/networks?marker=5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001"}]}`, r.Host)
		}
	}))
	defer srv.Close()
	sc := loadString(t, `
steps:
  - name: create
    request: POST /v2.0/networks
    body: {network: {name: "{run}-a", long: "{repeat:3:ab}"}}
    save: {net: network.id, mtu: network.mtu}
  - request: PUT /v2.0/networks/{net}?x={run}
    headers: {If-Match: "revision_number={mtu}"}
    body: {network: {mtu: "{mtu}"}}
  - request: POST /v2.0/networks
    raw_body: '{"id": "{net}", "x": {"y": 1}}'
  - GET /v2.0/networks?marker={net}
  - GET /v2.0/networks/{nope}
cleanup:
  - DELETE /v2.0/networks/{net}
  - DELETE /v2.0/networks/{nope}
`)
	r := &Runner{BaseURL: srv.URL, RunID: "rqqqqqqq"}
	tr, err := r.Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	wantLog := []string{
		`POST /v2.0/networks  {"network":{"long":"ababab","name":"rqqqqqqq-a"}}`,
		`PUT /v2.0/networks/5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001?x=rqqqqqqq revision_number=1450 {"network":{"mtu":1450}}`,
		`POST /v2.0/networks  {"id": "5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001", "x": {"y": 1}}`,
		`GET /v2.0/networks?marker=5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001  `,
		`DELETE /v2.0/networks/5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001  `,
	}
	if strings.Join(log, "\n") != strings.Join(wantLog, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(wantLog, "\n"))
	}
	data, err := EncodeGolden(tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"id": "<net>"`, `"name": "{run}-a"`, `"href": "<base>/v2.0/networks?marker=<net>"`,
		`"content_type": "application/json"`, `"error": "unset variable nope"`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("golden lacks %s:\n%s", want, data)
		}
	}
	// a golden file read back compares equal to the transcript
	p := filepath.Join(t.TempDir(), "g.json")
	if err := WriteGolden(p, tr); err != nil {
		t.Fatal(err)
	}
	g, err := ReadGolden(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(sc, g, tr); d != nil {
		t.Error(Report(sc, d))
	}
	if err := CheckRequire(sc, tr); err == nil || !strings.Contains(err.Error(), "unset variable nope") {
		t.Errorf("CheckRequire: %v", err)
	}
}
