package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAfterEventsFollowCommit: AFTER_CREATE reaches its subscriber once,
// after the row is committed (another connection sees it), with the
// stored object; a create that a PRECOMMIT subscriber vetoes publishes no
// AFTER event and leaves no row; subscribers run in priority order.
func TestAfterEventsFollowCommit(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			bus := s.App.Env.Bus
			var order []string
			var mu sync.Mutex
			seen := map[string]int{}
			bus.Subscribe(events.Network, events.PrecommitCreate, "veto", events.PriorityDefault, func(_ string, _ events.Event, p *events.Payload) error {
				if p.Tx == nil {
					t.Error("PRECOMMIT without a transaction")
				}
				if p.New["name"] == "vetoed" {
					return errors.New("vetoed by test")
				}
				return nil
			})
			bus.Subscribe(events.Network, events.AfterCreate, "second", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
				mu.Lock()
				order = append(order, "second")
				mu.Unlock()
				return nil
			})
			bus.Subscribe(events.Network, events.AfterCreate, "first", events.PriorityDefault, func(_ string, _ events.Event, p *events.Payload) error {
				if p.Tx != nil {
					t.Error("AFTER with a transaction")
				}
				var n int
				// a fresh read outside the write transaction sees the row
				if err := s.App.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM networks WHERE id = ?", p.ID).Scan(&n); err != nil || n != 1 {
					t.Errorf("AFTER_CREATE before commit: count %d, err %v", n, err)
				}
				if p.New["status"] != "ACTIVE" || p.New["mtu"] == nil {
					t.Errorf("AFTER_CREATE payload is not the stored network: %v", p.New)
				}
				mu.Lock()
				seen[p.New["name"].(string)]++
				order = append(order, "first")
				mu.Unlock()
				return nil
			})
			u := s.URL + "/v2.0/networks"
			testutil.Do(t, "POST", u, map[string]any{"network": map[string]any{"name": "ok"}}).Expect(t, 201)
			testutil.Do(t, "POST", u, map[string]any{"network": map[string]any{"name": "vetoed"}}).Expect(t, 500)
			l := testutil.Do(t, "GET", u+"?name=vetoed", nil).Expect(t, 200).List("networks")
			if len(l) != 0 {
				t.Fatalf("a vetoed create left a row: %v", l)
			}
			mu.Lock()
			defer mu.Unlock()
			if seen["ok"] != 1 || seen["vetoed"] != 0 {
				t.Fatalf("AFTER_CREATE calls: %v", seen)
			}
			if strings.Join(order, ",") != "first,second" {
				t.Fatalf("subscriber order %v", order)
			}
		})
	}
}

// TestAfterEventOnceForARetriedTransaction: a transaction retried after a
// conflict publishes AFTER once, from the attempt that committed.
func TestAfterEventOnceForARetriedTransaction(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	var tries, after atomic.Int32
	s.App.Env.Bus.Subscribe(events.Network, events.PrecommitCreate, "conflict", 0, func(string, events.Event, *events.Payload) error {
		if tries.Add(1) < 3 {
			return db.ErrRetry
		}
		return nil
	})
	s.App.Env.Bus.Subscribe(events.Network, events.AfterCreate, "count", 0, func(string, events.Event, *events.Payload) error {
		after.Add(1)
		return nil
	})
	testutil.Do(t, "POST", s.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "n"}}).Expect(t, 201)
	if tries.Load() != 3 || after.Load() != 1 {
		t.Fatalf("tries %d, AFTER calls %d; want 3 and 1", tries.Load(), after.Load())
	}
}

// TestFailingAfterSubscriber: an AFTER subscriber's error (or panic) keeps
// the committed write, does not stop later subscribers, and is logged
// with the request id.
func TestFailingAfterSubscriber(t *testing.T) {
	var log syncBuffer
	s := testutil.StartServer(t, testutil.Options{Log: &log})
	bus := s.App.Env.Bus
	var later atomic.Int32
	bus.Subscribe(events.Network, events.AfterUpdate, "broken-driver", 1, func(string, events.Event, *events.Payload) error {
		return errors.New("dataplane unreachable")
	})
	bus.Subscribe(events.Network, events.AfterUpdate, "panicking-driver", 2, func(string, events.Event, *events.Payload) error {
		panic("boom")
	})
	bus.Subscribe(events.Network, events.AfterUpdate, "later", 3, func(_ string, _ events.Event, p *events.Payload) error {
		if p.Old["name"] != "a" || p.New["name"] != "b" {
			t.Errorf("AFTER_UPDATE old %v new %v", p.Old["name"], p.New["name"])
		}
		later.Add(1)
		return nil
	})
	u := s.URL + "/v2.0/networks"
	id := testutil.Do(t, "POST", u, map[string]any{"network": map[string]any{"name": "a"}}).Expect(t, 201).Obj("network")["id"].(string)
	r := testutil.Do(t, "PUT", u+"/"+id, map[string]any{"network": map[string]any{"name": "b"}}).Expect(t, 200)
	reqID := r.Header.Get("X-Openstack-Request-Id")
	if got := testutil.Do(t, "GET", u+"/"+id, nil).Expect(t, 200).Obj("network")["name"]; got != "b" {
		t.Fatalf("the committed update was undone: name %v", got)
	}
	if later.Load() != 1 {
		t.Fatalf("later subscriber ran %d times", later.Load())
	}
	out := log.String()
	for _, want := range []string{"broken-driver", "dataplane unreachable", "panicking-driver", reqID} {
		if reqID == "" || !strings.Contains(out, want) {
			t.Fatalf("log lacks %q (request id %q):\n%s", want, reqID, out)
		}
	}
}

// TestConcurrentPortUpdatesKeepTheirAnswers: 64 concurrent updates of one
// port, half of which Neutron answers with the revision before its last
// bump (binding:profile) and half with the stored one (name): each answer
// carries its own change, and the revisions add up to 64 distinct bumps.
func TestConcurrentPortUpdatesKeepTheirAnswers(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { concurrentPortUpdates(t, testutil.StartServer(t, testutil.Options{DB: e.URL(t)})) })
	}
}

func concurrentPortUpdates(t *testing.T, s *testutil.Server) {
	net := testutil.Do(t, "POST", s.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "n"}}).Expect(t, 201).Obj("network")
	port := testutil.Do(t, "POST", s.URL+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net["id"]}}).Expect(t, 201).Obj("port")
	u := s.URL + "/v2.0/ports/" + port["id"].(string)
	start := int64(port["revision_number"].(float64))
	const n = 64
	revs := make([]int64, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := map[string]any{"name": fmt.Sprintf("u%d", i)}
			if i%2 == 1 {
				body = map[string]any{"binding:profile": map[string]any{"k": fmt.Sprintf("u%d", i)}}
			}
			got := testutil.Do(t, "PUT", u, map[string]any{"port": body}).Expect(t, 200).Obj("port")
			rev := int64(got["revision_number"].(float64))
			if i%2 == 0 {
				if got["name"] != body["name"] {
					t.Errorf("update %d answered name %v", i, got["name"])
				}
				revs[i] = rev
			} else {
				if p, _ := got["binding:profile"].(map[string]any); p["k"] != fmt.Sprintf("u%d", i) {
					t.Errorf("update %d answered profile %v", i, got["binding:profile"])
				}
				revs[i] = rev + 1 // Neutron shows the revision before this bump
			}
		}(i)
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i, r := range revs {
		if r <= start || r > start+n || seen[r] {
			t.Fatalf("update %d: revision %d (start %d): answers carry another update's revision: %v", i, r, start, revs)
		}
		seen[r] = true
	}
}
