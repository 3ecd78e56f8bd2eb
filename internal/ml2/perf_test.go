package ml2_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestPortPerformance measures port create, show and list on the engine
// named by NEUTRINO_PERF (sqlite, postgresql, mysql); it is skipped
// otherwise. NEUTRINO_PERF_N sets the number of ports (10000).
//
//	NEUTRINO_PERF=sqlite go test ./internal/ml2 -run TestPortPerformance -v
func TestPortPerformance(t *testing.T) {
	engine := os.Getenv("NEUTRINO_PERF")
	if engine == "" {
		t.Skip("set NEUTRINO_PERF=sqlite|postgresql|mysql")
	}
	n := 10000
	fmt.Sscan(os.Getenv("NEUTRINO_PERF_N"), &n)
	var url string
	for _, e := range testutil.Engines(t) {
		if e.Name == engine {
			url = e.URL(t)
		}
	}
	if url == "" {
		t.Skipf("engine %s unavailable", engine)
	}
	s := testutil.StartServer(t, testutil.Options{DB: url})
	net := mkNet(t, s.URL)
	mkSubnet(t, s.URL, map[string]any{"network_id": net, "cidr": "10.100.0.0/16", "ip_version": 4})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(name string, total, workers int, f func(i int) (*http.Request, int)) {
		var next atomic.Int64
		var errs atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= total {
						return
					}
					req, want := f(i)
					resp, err := client.Do(req)
					if err != nil {
						errs.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != want {
						errs.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		d := time.Since(start)
		t.Logf("%-28s %6d requests %8.1f req/s  %v per request, %d errors", name, total, float64(total)/d.Seconds(), d/time.Duration(total), errs.Load())
	}
	body := func(i int) io.Reader {
		return stringsReader(fmt.Sprintf(`{"port":{"network_id":%q,"name":"p%d"}}`, net, i))
	}
	run("create (8 clients)", n, 8, func(i int) (*http.Request, int) {
		req, _ := http.NewRequest("POST", s.URL+"/v2.0/ports", body(i))
		req.Header.Set("Content-Type", "application/json")
		return req, 201
	})
	ports := testutil.Do(t, "GET", s.URL+"/v2.0/ports?network_id="+net+"&fields=id", nil).Expect(t, 200).List("ports")
	if len(ports) != n {
		t.Fatalf("%d ports", len(ports))
	}
	run("show (8 clients)", 4*n, 8, func(i int) (*http.Request, int) {
		req, _ := http.NewRequest("GET", s.URL+"/v2.0/ports/"+ports[i%n]["id"].(string), nil)
		return req, 200
	})
	run("list 100 (8 clients)", 400, 8, func(i int) (*http.Request, int) {
		req, _ := http.NewRequest("GET", s.URL+"/v2.0/ports?network_id="+net+"&limit=100", nil)
		return req, 200
	})
	run(fmt.Sprintf("list all %d (1 client)", n), 5, 1, func(i int) (*http.Request, int) {
		req, _ := http.NewRequest("GET", s.URL+"/v2.0/ports", nil)
		return req, 200
	})
}

type sr struct {
	s string
	i int
}

func stringsReader(s string) io.Reader { return &sr{s: s} }

func (r *sr) Read(p []byte) (int, error) {
	if r.i >= len(r.s) {
		return 0, io.EOF
	}
	n := copy(p, r.s[r.i:])
	r.i += n
	return n, nil
}
