package ml2_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// raceRound is one round of TestDeleteNetworkRacingPortCreates: the
// answers of the DELETE and of the racing creates.
type raceRound struct {
	del      *testutil.Response
	creates  []*testutil.Response
	userPort []bool // creates[i] is a user port (not auto-deleted)
}

// raceDeleteWithCreates deletes a fresh network (with a subnet) while n
// port creates on it run, all released at once.
func raceDeleteWithCreates(t *testing.T, base string, n int) raceRound {
	net := mkNet(t, base)
	mkSubnet(t, base, map[string]any{"network_id": net, "cidr": "10.40.0.0/24", "ip_version": 4})
	r := raceRound{creates: make([]*testutil.Response, n), userPort: make([]bool, n)}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		// mostly DHCP ports (deleted with the network), some user ports
		// (which make the delete a 409 NetworkInUse when they win)
		owner := "network:dhcp"
		if i%4 == 3 {
			owner, r.userPort[i] = "compute:nova", true
		}
		wg.Add(1)
		go func(i int, owner string) {
			defer wg.Done()
			<-start
			r.creates[i] = testutil.Do(t, "POST", base+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net, "device_owner": owner}})
		}(i, owner)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		r.del = testutil.Do(t, "DELETE", base+"/v2.0/networks/"+net, nil)
	}()
	close(start)
	wg.Wait()
	checkRaceAnswers(t, base, net, r)
	return r
}

// checkRaceAnswers: every answer is one Neutron gives (201/404
// NetworkNotFound for the creates; 204, or 409 NetworkInUse when a user
// port won), then the network goes away with everything on it.
func checkRaceAnswers(t *testing.T, base, net string, r raceRound) {
	t.Helper()
	userWon := false
	for i, c := range r.creates {
		switch {
		case c.Status == 201:
			userWon = userWon || r.userPort[i]
		case c.Status == 404 && c.ErrorType() == "NetworkNotFound":
		default:
			t.Errorf("port create racing the network's delete: %d %s", c.Status, c.Raw)
		}
	}
	switch {
	case r.del.Status == 204:
		if userWon {
			t.Errorf("network deleted although a user port was created on it")
		}
	case r.del.Status == 409 && r.del.ErrorType() == "NetworkInUse" && userWon:
		for _, p := range testutil.Do(t, "GET", base+"/v2.0/ports?network_id="+net, nil).Expect(t, 200).List("ports") {
			testutil.Do(t, "DELETE", base+"/v2.0/ports/"+p["id"].(string), nil).Expect(t, 204)
		}
		testutil.Do(t, "DELETE", base+"/v2.0/networks/"+net, nil).Expect(t, 204)
	default:
		t.Errorf("network delete racing port creates: %d %s", r.del.Status, r.del.Raw)
	}
	testutil.Do(t, "GET", base+"/v2.0/networks/"+net, nil).Expect(t, 404)
	if ps := testutil.Do(t, "GET", base+"/v2.0/ports?network_id="+net, nil).Expect(t, 200).List("ports"); len(ps) != 0 {
		t.Errorf("%d ports left on the deleted network", len(ps))
	}
}

// orphanQueries find rows whose owner is gone.
var orphanQueries = map[string]string{
	"ports":           "SELECT COUNT(*) FROM ports WHERE network_id NOT IN (SELECT id FROM networks)",
	"subnets":         "SELECT COUNT(*) FROM subnets WHERE network_id NOT IN (SELECT id FROM networks)",
	"ipallocations":   "SELECT COUNT(*) FROM ipallocations WHERE port_id NOT IN (SELECT id FROM ports) OR subnet_id NOT IN (SELECT id FROM subnets)",
	"port_macs":       "SELECT COUNT(*) FROM port_macs WHERE port_id NOT IN (SELECT id FROM ports)",
	"segments":        "SELECT COUNT(*) FROM network_segments WHERE network_id NOT IN (SELECT id FROM networks)",
	"segment allocs":  "SELECT COUNT(*) FROM segment_allocations WHERE segment_id IS NOT NULL AND segment_id NOT IN (SELECT id FROM network_segments)",
	"binding levels":  "SELECT COUNT(*) FROM ml2_port_binding_levels WHERE port_id NOT IN (SELECT id FROM ports)",
	"port sg binding": "SELECT COUNT(*) FROM securitygroupportbindings WHERE port_id NOT IN (SELECT id FROM ports)",
	"tags":            "SELECT COUNT(*) FROM tags WHERE resource_id NOT IN (SELECT id FROM networks UNION SELECT id FROM subnets UNION SELECT id FROM ports UNION SELECT id FROM securitygroups)",
}

func checkNoOrphans(t *testing.T, d *db.DB) {
	t.Helper()
	for what, q := range orphanQueries {
		var n int
		if err := d.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != 0 {
			t.Errorf("%d orphan %s rows", n, what)
		}
	}
}

// pgCount runs a PostgreSQL query of one number (statistics views).
func pgCount(t *testing.T, d *db.DB, query string) int64 {
	t.Helper()
	var n int64
	if err := d.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// pgDeadlocks is PostgreSQL's count of deadlocks in the current database.
func pgDeadlocks(t *testing.T, d *db.DB) int64 {
	return pgCount(t, d, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
}

// TestDeleteNetworkRacingPortCreates: a network DELETE racing port creates
// on the network (a DHCP agent creating its port while a user deletes a
// fresh network), 50 times on every engine: no 500, no deadlock (one lock
// order on every write path: network, then subnets, then ports), every
// answer is one Neutron gives and nothing is left behind.
func TestDeleteNetworkRacingPortCreates(t *testing.T) {
	const rounds, creates = 50, 8
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			var before int64
			if e.Name == "postgresql" {
				before = pgDeadlocks(t, s.App.DB)
			}
			codes := map[string]int{}
			for i := 0; i < rounds && !t.Failed(); i++ {
				r := raceDeleteWithCreates(t, s.URL, creates)
				codes[fmt.Sprintf("DELETE %d", r.del.Status)]++
				for _, c := range r.creates {
					codes[fmt.Sprintf("POST %d", c.Status)]++
				}
			}
			checkNoOrphans(t, s.App.DB)
			msg := fmt.Sprintf("%s: answers %v", e.Name, codes)
			if e.Name == "postgresql" {
				n := pgDeadlocks(t, s.App.DB) - before
				msg += fmt.Sprintf(", %d deadlocks", n)
				if n != 0 {
					t.Errorf("%d deadlocks detected by PostgreSQL", n)
				}
			}
			t.Log(msg)
			if strings.Contains(msg, " 500") {
				t.Errorf("500 answers")
			}
		})
	}
}
