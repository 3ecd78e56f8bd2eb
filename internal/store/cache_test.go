package store_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestReadCacheServesUntilAWrite: on SQLite a show is served from the
// cache while nothing is written, and a write anywhere (here by a second
// server on the same database file) is seen at once.
func TestReadCacheServesUntilAWrite(t *testing.T) {
	url := testutil.Engines(t)[0].URL(t) // sqlite
	a := testutil.StartServer(t, testutil.Options{DB: url})
	b := testutil.StartServer(t, testutil.Options{DB: url})
	n := testutil.Do(t, "POST", a.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "c1"}}).Expect(t, 201).Obj("network")
	u := "/v2.0/networks/" + n["id"].(string)
	tbl := a.App.Env.Table("networks")
	for i := 0; i < 5; i++ {
		testutil.Do(t, "GET", a.URL+u, nil).Expect(t, 200)
	}
	hits, _ := tbl.CacheStats()
	if hits < 4 {
		t.Fatalf("%d cache hits for 5 identical shows, want >= 4", hits)
	}
	// another process-like server renames it: the next show sees it
	testutil.Do(t, "PUT", b.URL+u, map[string]any{"network": map[string]any{"name": "c2"}}).Expect(t, 200)
	if got := testutil.Do(t, "GET", a.URL+u, nil).Expect(t, 200).Obj("network"); got["name"] != "c2" {
		t.Fatalf("stale read after another server's write: %v", got["name"])
	}
}

// TestListCacheServesUntilAWrite: the same list twice is served from the
// list cache; a write by another server is seen by the next list, and a
// caller cannot alter what the next caller gets.
func TestListCacheServesUntilAWrite(t *testing.T) {
	url := testutil.Engines(t)[0].URL(t) // sqlite
	a := testutil.StartServer(t, testutil.Options{DB: url})
	b := testutil.StartServer(t, testutil.Options{DB: url})
	for _, name := range []string{"l1", "l2"} {
		testutil.Do(t, "POST", a.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": name}}).Expect(t, 201)
	}
	tbl := a.App.Env.Table("networks")
	list := func(srv, q string) []any {
		return testutil.Do(t, "GET", srv+"/v2.0/networks"+q, nil).Expect(t, 200).Body["networks"].([]any)
	}
	if n := len(list(a.URL, "")); n != 2 {
		t.Fatalf("%d networks, want 2", n)
	}
	h0, _ := tbl.ListCacheStats()
	if n := len(list(a.URL, "")); n != 2 {
		t.Fatalf("%d networks, want 2", n)
	}
	// a different query is a different entry
	if n := len(list(a.URL, "?name=l1")); n != 1 {
		t.Fatalf("%d networks named l1, want 1", n)
	}
	if h1, _ := tbl.ListCacheStats(); h1 != h0+1 {
		t.Fatalf("list cache hits %d -> %d, want one more", h0, h1)
	}
	testutil.Do(t, "POST", b.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "l3"}}).Expect(t, 201)
	if n := len(list(a.URL, "")); n != 3 {
		t.Fatalf("%d networks after another server's create, want 3", n)
	}
	// fields= selects from the shared objects without changing them
	for _, it := range list(a.URL, "?fields=id") {
		if len(it.(map[string]any)) != 1 {
			t.Fatalf("fields=id gave %v", it)
		}
	}
	for _, it := range list(a.URL, "") {
		if _, ok := it.(map[string]any)["status"]; !ok {
			t.Fatalf("full view lost attributes after a fields= list: %v", it)
		}
	}
}
