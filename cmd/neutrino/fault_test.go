package main

// Fault tests: a database restart, a database that comes up late or stays
// away, and kill -9 of a neutrino process, each under a steady write load.
// What must hold: every acknowledged (201) write exists afterwards, no row
// is half-written, and the service recovers by itself.

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type writeResult struct {
	status     int // 0: no HTTP answer (connection refused or reset)
	name, id   string
	start, end time.Time
	body       string
}

// postNetwork creates a network named name; status 0 when there is no
// answer.
func postNetwork(c *http.Client, base, name string) writeResult {
	r := writeResult{name: name, start: time.Now()}
	resp, err := c.Post(base+"/v2.0/networks", "application/json",
		strings.NewReader(`{"network": {"name": "`+name+`"}}`))
	if err == nil {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.status, r.body = resp.StatusCode, string(data)
		var m struct{ Network struct{ ID string } }
		if json.Unmarshal(data, &m) == nil {
			r.id = m.Network.ID
		}
	}
	r.end = time.Now()
	return r
}

// steadyWrites creates networks from workers goroutines, spread over urls,
// until stop is closed.
// unlimited lifts the network quota for the write loads.
var unlimited = []string{"--set", "quotas.quota_network=-1"}

func steadyWrites(urls []string, workers int, stop <-chan struct{}) []writeResult {
	var mu sync.Mutex
	var out []writeResult
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 3 * time.Minute}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := postNetwork(client, urls[(w+i)%len(urls)], fmt.Sprintf("w%d-%d", w, i))
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
				if r.status == 0 {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(w)
	}
	wg.Wait()
	return out
}

// summarize counts the results by status.
func summarize(rs []writeResult) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.status]++
	}
	return m
}

// check5xx fails on any 5xx answer, showing the first ones (start times
// relative to the fault at t0).
func check5xx(t *testing.T, rs []writeResult, t0 time.Time) {
	t.Helper()
	n := 0
	for _, r := range rs {
		if r.status >= 500 {
			if n < 3 {
				t.Errorf("%d at %v: %.200s", r.status, r.start.Sub(t0).Round(time.Millisecond), r.body)
			}
			n++
		}
	}
	if n > 0 {
		t.Errorf("%d answers were 5xx", n)
	}
}

// checkAcked asserts that every 201 of rs is listed by base with its name.
func checkAcked(t *testing.T, base string, rs []writeResult) {
	t.Helper()
	resp, err := http.Get(base + "/v2.0/networks?fields=id&fields=name")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct{ Networks []struct{ ID, Name string } }
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("list: %d %v", resp.StatusCode, err)
	}
	have := map[string]string{}
	for _, n := range m.Networks {
		have[n.ID] = n.Name
	}
	missing := 0
	for _, r := range rs {
		if r.status == 201 && have[r.id] != r.name {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d acknowledged networks missing", missing)
	}
}

// TestFaultPostgresRestart: PostgreSQL restarts under a steady write load.
// Requests caught by the restart wait for the database (connection
// retries) instead of failing: no 5xx, every 201 present, no network
// without its segment, and writes go on without restarting neutrino.
func TestFaultPostgresRestart(t *testing.T) {
	c := startPGCluster(t)
	p := start(t, nil, append([]string{"--auto-migrate", "--database-connection", c.url()}, unlimited...)...)
	p.waitUp(t, 20*time.Second)
	stop := make(chan struct{})
	done := make(chan []writeResult)
	go func() { done <- steadyWrites([]string{p.url}, 4, stop) }()
	time.Sleep(1500 * time.Millisecond)
	down := time.Now()
	c.stop(t, "fast")
	time.Sleep(2 * time.Second)
	c.start(t)
	up := time.Now()
	time.Sleep(4 * time.Second)
	close(stop)
	rs := <-done
	after := 0
	for _, r := range rs {
		if r.status == 201 && r.start.After(up) {
			after++
		}
	}
	t.Logf("restart: %d writes %v; database down for %v", len(rs), summarize(rs), up.Sub(down).Round(time.Millisecond))
	check5xx(t, rs, down)
	if after == 0 {
		t.Fatal("no write succeeded after the database came back")
	}
	checkAcked(t, p.url, rs)
	var orphans int
	c.query(t, "SELECT COUNT(*) FROM networks n WHERE NOT EXISTS (SELECT 1 FROM network_segments s WHERE s.network_id = n.id)", &orphans)
	if orphans > 0 {
		t.Errorf("%d networks without a segment", orphans)
	}
}

// TestFaultLateDatabase: serve started before its database waits for it
// ([database] max_retries, retry_interval) instead of exiting.
func TestFaultLateDatabase(t *testing.T) {
	c := startPGCluster(t)
	c.stop(t, "fast")
	p := start(t, nil, "--auto-migrate", "--database-connection", c.url(), "--set", "database.retry_interval=1")
	time.Sleep(2500 * time.Millisecond)
	select {
	case <-p.done:
		t.Fatalf("serve exited while the database was down: %v\n%s", p.err, p.log())
	default:
	}
	c.start(t)
	p.waitUp(t, 30*time.Second)
	if r := postNetwork(http.DefaultClient, p.url, "late"); r.status != 201 {
		t.Fatalf("create after a late database: %d %s", r.status, r.body)
	}
	if !strings.Contains(p.log(), "database unavailable; retrying") {
		t.Errorf("no retry warning in the log:\n%s", p.log())
	}
}

// TestFaultDatabaseGone503: a database that stays away gets 503 once the
// connection retries are spent (the health check too), and neutrino serves
// again as soon as it is back.
func TestFaultDatabaseGone503(t *testing.T) {
	c := startPGCluster(t)
	p := start(t, nil, "--auto-migrate", "--database-connection", c.url(),
		"--set", "database.db_max_retries=2", "--set", "database.db_retry_interval=1")
	p.waitUp(t, 20*time.Second)
	if r := postNetwork(http.DefaultClient, p.url, "before"); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	c.stop(t, "fast")
	t0 := time.Now()
	r := postNetwork(http.DefaultClient, p.url, "during")
	if r.status != 503 || !strings.Contains(r.body, `"ServiceUnavailable"`) {
		t.Fatalf("create with the database gone: %d %s", r.status, r.body)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("503 after %v", d)
	}
	resp, err := http.Get(p.url + "/v2.0/networks")
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("list with the database gone: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err := http.Get(p.url + "/healthcheck"); err != nil || resp.StatusCode != 503 {
		t.Fatalf("healthcheck with the database gone: %v %v", resp, err)
	}
	c.start(t)
	if r := postNetwork(http.DefaultClient, p.url, "after"); r.status != 201 {
		t.Fatalf("create after the database is back: %d %s", r.status, r.body)
	}
}

// TestFaultKillOneOfTwo: two neutrino processes share a PostgreSQL
// database under a write load spread over both; one is killed with
// SIGKILL. The other goes on without a 5xx and every 201 of either exists.
func TestFaultKillOneOfTwo(t *testing.T) {
	c := startPGCluster(t)
	p1 := start(t, nil, append([]string{"--auto-migrate", "--database-connection", c.url()}, unlimited...)...)
	p1.waitUp(t, 20*time.Second)
	p2 := start(t, nil, append([]string{"--auto-migrate", "--database-connection", c.url()}, unlimited...)...)
	p2.waitUp(t, 20*time.Second)
	stop := make(chan struct{})
	done := make(chan []writeResult)
	go func() { done <- steadyWrites([]string{p1.url, p2.url}, 6, stop) }()
	time.Sleep(1500 * time.Millisecond)
	p1.cmd.Process.Signal(syscall.SIGKILL)
	<-p1.done
	killed := time.Now()
	time.Sleep(2 * time.Second)
	close(stop)
	rs := <-done
	survivors := 0
	for _, r := range rs {
		if r.status == 201 && r.start.After(killed) {
			survivors++
		}
	}
	t.Logf("kill -9 of one of two: %d writes %v", len(rs), summarize(rs))
	check5xx(t, rs, killed)
	if survivors == 0 {
		t.Fatal("no write succeeded after the kill")
	}
	checkAcked(t, p2.url, rs)
	var orphans int
	c.query(t, "SELECT COUNT(*) FROM networks n WHERE NOT EXISTS (SELECT 1 FROM network_segments s WHERE s.network_id = n.id)", &orphans)
	if orphans > 0 {
		t.Errorf("%d networks without a segment", orphans)
	}
}

// TestFaultKillSQLite: a SQLite neutrino killed with SIGKILL under a write
// load leaves a database that passes integrity_check and holds every 201;
// a new process serves it.
func TestFaultKillSQLite(t *testing.T) {
	dbFile := filepath.Join(t.TempDir(), "kill.db")
	url := "sqlite:///" + dbFile
	p := start(t, nil, append([]string{"--database-connection", url}, unlimited...)...)
	p.waitUp(t, 20*time.Second)
	stop := make(chan struct{})
	done := make(chan []writeResult)
	go func() { done <- steadyWrites([]string{p.url}, 4, stop) }()
	time.Sleep(1500 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	close(stop)
	rs := <-done
	t.Logf("kill -9 of a SQLite server: %d writes %v", len(rs), summarize(rs))
	check5xx(t, rs, time.Now())
	db, err := sql.Open("sqlite", "file:"+dbFile)
	if err != nil {
		t.Fatal(err)
	}
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	var fk bytes.Buffer
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		fk.WriteString("violation ")
	}
	rows.Close()
	db.Close()
	if fk.Len() > 0 {
		t.Fatalf("foreign_key_check: %s", fk.String())
	}
	p2 := start(t, nil, append([]string{"--database-connection", url}, unlimited...)...)
	p2.waitUp(t, 20*time.Second)
	checkAcked(t, p2.url, rs)
}
