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
