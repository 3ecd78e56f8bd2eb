package store_test

import (
	"fmt"
	"testing"

	"github.com/neutrino-os/neutrino/internal/store"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestListChildrenOfLargeResults: child lists (here tags) of results larger
// than one id chunk are read by the semi-join (a filtered list), the
// per-range scan (the whole collection, SQLite) and by chunks (a page),
// and every object gets exactly its own children, on every engine.
func TestListChildrenOfLargeResults(t *testing.T) {
	n := store.ChunkSize + 37
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			u := s.URL + "/v2.0/networks"
			testutil.Do(t, "PUT", s.URL+"/v2.0/quotas/big", map[string]any{"quota": map[string]any{"network": -1}}).Expect(t, 200)
			var items []any
			for i := 0; i < n; i++ {
				items = append(items, map[string]any{"name": fmt.Sprintf("n%d", i), "tenant_id": "big"})
			}
			created := testutil.Do(t, "POST", u, map[string]any{"networks": items}).Expect(t, 201).List("networks")
			want := map[string]string{}
			for i, c := range created {
				if i%3 == 0 {
					continue // some networks have no tags
				}
				id := c["id"].(string)
				tag := fmt.Sprintf("t%d", i)
				testutil.Do(t, "PUT", u+"/"+id+"/tags/"+tag, nil).Expect(t, 201)
				want[id] = tag
			}
			check := func(q string, wantN int) {
				t.Helper()
				l := testutil.Do(t, "GET", u+q, nil).Expect(t, 200).List("networks")
				if len(l) != wantN {
					t.Fatalf("%s: %d networks, want %d", q, len(l), wantN)
				}
				for _, o := range l {
					tags := o["tags"].([]any)
					w, has := want[o["id"].(string)]
					if has && (len(tags) != 1 || tags[0] != w) || !has && len(tags) != 0 {
						t.Fatalf("%s: network %v has tags %v, want %q", q, o["name"], tags, w)
					}
				}
			}
			check("?tenant_id=big", n)           // semi-join
			check("", n)                         // whole collection
			check("?tenant_id=big&limit=600", n) // chunks of ids
		})
	}
}
