// Package bench is neutrino's load generator: the same fixed workload
// (create, show, list, update, delete of networks, ports, routers or
// floating IPs with N concurrent clients) against any Networking API endpoint — neutrino or the reference
// Neutron — reporting req/s and p50/p99 latency per phase.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a run.
type Options struct {
	Endpoint string // e.g. http://127.0.0.1:9696
	Token    string // X-Auth-Token, if the endpoint needs one
	Clients  int
	N        int    // objects per phase
	Resource string // "networks", "ports", "routers" or "floatingips"
	// Phases run in order (default: create, show, list, update, delete).
	Phases []string
	Out    io.Writer
	// ServerPIDs, when set, are the server's processes on this machine:
	// each phase then also reports their CPU time per request.
	ServerPIDs []int
}

// Result is one phase's measurement.
type Result struct {
	Phase    string
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	CPU      time.Duration // the server's CPU time in the phase (Options.ServerPIDs)
}

// CPUPerRequest is the server's CPU time per request (0 when not measured).
func (r Result) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

// ReqPerSec is the phase's throughput.
func (r Result) ReqPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

type runner struct {
	o       Options
	client  *http.Client
	run     string
	project string
	ids     []string
	netID   string
	subnet  string
}

// Run executes the workload and prints a table.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if o.N <= 0 {
		o.N = 1000
	}
	if o.Resource == "" {
		o.Resource = "networks"
	}
	if len(o.Phases) == 0 {
		o.Phases = []string{"create", "show", "list", "update", "delete"}
	}
	tr := &http.Transport{MaxIdleConns: o.Clients * 2, MaxIdleConnsPerHost: o.Clients * 2, IdleConnTimeout: time.Minute}
	r := &runner{o: o, client: &http.Client{Transport: tr, Timeout: 120 * time.Second},
		run: fmt.Sprintf("bench-%d", time.Now().UnixNano()%1e9)}
	// Work in a project of our own with unlimited quotas, as an operator
	// benchmarking would (Neutron's default quota is 100 networks).
	r.project = r.run
	st, cur, err := r.do(ctx, "GET", "/v2.0/quotas/"+r.project, nil)
	if err != nil || st != 200 {
		return nil, fmt.Errorf("reading the benchmark project's quotas: status %d %v", st, err)
	}
	unlimited := map[string]any{}
	for k := range cur["quota"].(map[string]any) {
		unlimited[k] = -1
	}
	if st, _, err := r.do(ctx, "PUT", "/v2.0/quotas/"+r.project, map[string]any{"quota": unlimited}); err != nil || st != 200 {
		return nil, fmt.Errorf("setting the benchmark project's quotas: status %d %v (the benchmark needs admin rights)", st, err)
	}
	defer r.do(ctx, "DELETE", "/v2.0/quotas/"+r.project, nil)
	if o.Resource == "ports" || o.Resource == "floatingips" {
		if err := r.setupPortNetwork(ctx, o.Resource == "floatingips"); err != nil {
			return nil, err
		}
		defer r.teardownPortNetwork(ctx)
	}
	var results []Result
	for _, ph := range o.Phases {
		res, err := r.measuredPhase(ctx, ph)
		if err != nil {
			return results, err
		}
		results = append(results, res)
		if o.Out != nil {
			cpu := ""
			if len(o.ServerPIDs) > 0 {
				cpu = fmt.Sprintf("  cpu %7.0f us/req", float64(res.CPUPerRequest().Nanoseconds())/1000)
			}
			fmt.Fprintf(o.Out, "%-8s %-10s n=%-6d err=%-4d %9.1f req/s  p50 %8.2f ms  p99 %8.2f ms%s\n",
				o.Resource, res.Phase, res.Requests, res.Errors, res.ReqPerSec(),
				float64(res.P50.Microseconds())/1000, float64(res.P99.Microseconds())/1000, cpu)
		}
	}
	return results, nil
}

// measuredPhase runs one phase, with the server's CPU time around it when
// its processes are known.
func (r *runner) measuredPhase(ctx context.Context, ph string) (Result, error) {
	if len(r.o.ServerPIDs) == 0 {
		return r.phase(ctx, ph)
	}
	before, err := serverCPU(r.o.ServerPIDs)
	if err != nil {
		return Result{}, err
	}
	res, err := r.phase(ctx, ph)
	if err != nil {
		return res, err
	}
	after, err := serverCPU(r.o.ServerPIDs)
	res.CPU = after - before
	return res, err
}

func (r *runner) url(path string) string { return strings.TrimRight(r.o.Endpoint, "/") + path }

func (r *runner) do(ctx context.Context, method, path string, body any) (int, map[string]any, error) {
	return r.doDecode(ctx, method, path, body, true)
}

// doDecode sends a request; the JSON answer is decoded only when asked
// (the load generator must not spend its CPU on bodies it does not need).
func (r *runner) doDecode(ctx context.Context, method, path string, body any, decode bool) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url(path), rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.o.Token != "" {
		req.Header.Set("X-Auth-Token", r.o.Token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	var m map[string]any
	if decode && len(data) > 0 && resp.StatusCode < 300 {
		json.Unmarshal(data, &m)
	}
	return resp.StatusCode, m, nil
}

// setupPortNetwork makes the network (external for floating IPs) and its
// /16 subnet the ports or floating IPs are made on.
func (r *runner) setupPortNetwork(ctx context.Context, external bool) error {
	st, m, err := r.do(ctx, "POST", "/v2.0/networks", map[string]any{"network": map[string]any{
		"name": r.run + "-net", "tenant_id": r.project, "router:external": external}})
	if err != nil || st != 201 {
		return fmt.Errorf("create network: %d %v", st, err)
	}
	r.netID = m["network"].(map[string]any)["id"].(string)
	st, m, err = r.do(ctx, "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{
		"network_id": r.netID, "cidr": "10.128.0.0/16", "ip_version": 4, "name": r.run + "-subnet", "tenant_id": r.project}})
	if err != nil || st != 201 {
		return fmt.Errorf("create subnet: %d %v", st, err)
	}
	r.subnet = m["subnet"].(map[string]any)["id"].(string)
	return nil
}

func (r *runner) teardownPortNetwork(ctx context.Context) {
	// delete leftovers (if the delete phase did not run), then the network
	for _, id := range r.ids {
		r.do(ctx, "DELETE", "/v2.0/"+r.o.Resource+"/"+id, nil)
	}
	r.do(ctx, "DELETE", "/v2.0/subnets/"+r.subnet, nil)
	r.do(ctx, "DELETE", "/v2.0/networks/"+r.netID, nil)
}

func (r *runner) singular() string { return strings.TrimSuffix(r.o.Resource, "s") }

// phase runs one phase: N requests spread over the clients.
func (r *runner) phase(ctx context.Context, name string) (Result, error) {
	if name == "race" {
		return r.racePhase(ctx)
	}
	ids := make([]string, r.o.N) // of the objects a create phase makes
	n, work, err := r.phaseWork(ctx, name, ids)
	if err != nil {
		return Result{}, err
	}
	clients := r.o.Clients
	if name == "listall" {
		clients = 1 // the latency of one client reading the whole collection
	}
	lat, errs, elapsed := measure(ctx, n, clients, work)
	if name == "create" {
		r.ids = r.ids[:0]
		for _, id := range ids {
			if id != "" {
				r.ids = append(r.ids, id)
			}
		}
	}
	if name == "delete" {
		r.ids = nil
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return Result{Phase: name, Requests: n, Errors: errs, Elapsed: elapsed,
		P50: lat[n*50/100], P99: lat[min(n-1, n*99/100)]}, nil
}

// phaseWork returns the number of requests of a phase and the request
// number i does (true: answered as expected); a create records the ids it
// gets in ids.
func (r *runner) phaseWork(ctx context.Context, name string, ids []string) (int, func(i int) (bool, error), error) {
	n := r.o.N
	coll, one := r.o.Resource, r.singular()
	if (name == "show" || name == "update" || name == "delete") && len(r.ids) == 0 {
		return 0, nil, fmt.Errorf("%s needs the create phase first", name)
	}
	switch name {
	case "create":
		return n, func(i int) (bool, error) {
			body := map[string]any{"name": fmt.Sprintf("%s-%d", r.run, i), "tenant_id": r.project}
			switch coll {
			case "ports":
				body["network_id"] = r.netID
			case "floatingips":
				body = map[string]any{"floating_network_id": r.netID, "tenant_id": r.project,
					"description": fmt.Sprintf("%s-%d", r.run, i)}
			}
			st, m, err := r.do(ctx, "POST", "/v2.0/"+coll, map[string]any{one: body})
			if err != nil || st != 201 {
				return false, err
			}
			ids[i] = m[one].(map[string]any)["id"].(string)
			return true, nil
		}, nil
	case "show":
		// every object five times: reads of a working set
		return 5 * len(r.ids), func(i int) (bool, error) {
			return r.expect(ctx, "GET", "/v2.0/"+coll+"/"+r.ids[i%len(r.ids)], nil, 200)
		}, nil
	case "list":
		// pages of 100 of this run's objects, like a dashboard
		filter := "?name=" + r.run + "-0&limit=100"
		switch coll {
		case "ports":
			filter = "?network_id=" + r.netID + "&limit=100"
		case "floatingips":
			filter = "?floating_network_id=" + r.netID + "&limit=100"
		}
		return n, func(int) (bool, error) { return r.expect(ctx, "GET", "/v2.0/"+coll+filter, nil, 200) }, nil
	case "listall":
		// the whole collection of this run in one response
		filter := ""
		switch coll {
		case "ports":
			filter = "?network_id=" + r.netID
		case "floatingips":
			filter = "?floating_network_id=" + r.netID
		}
		return max(3, n/1000), func(int) (bool, error) { return r.expect(ctx, "GET", "/v2.0/"+coll+filter, nil, 200) }, nil
	case "update":
		return n, func(i int) (bool, error) {
			return r.expect(ctx, "PUT", "/v2.0/"+coll+"/"+r.ids[i%len(r.ids)],
				map[string]any{one: map[string]any{"description": fmt.Sprintf("updated %d", i)}}, 200)
		}, nil
	case "delete":
		return len(r.ids), func(i int) (bool, error) {
			return r.expect(ctx, "DELETE", "/v2.0/"+coll+"/"+r.ids[i], nil, 204)
		}, nil
	}
	return 0, nil, fmt.Errorf("unknown phase %q (create, show, list, listall, update, delete, race)", name)
}

// expect sends a request whose answer is not read and reports whether its
// status is want.
func (r *runner) expect(ctx context.Context, method, path string, body any, want int) (bool, error) {
	st, _, err := r.doDecode(ctx, method, path, body, false)
	return err == nil && st == want, err
}

// measure runs requests 0..n-1 of work on clients concurrent clients and
// returns each one's latency, the number that failed and the time taken.
func measure(ctx context.Context, n, clients int, work func(i int) (bool, error)) ([]time.Duration, int, time.Duration) {
	lat := make([]time.Duration, n)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				ok, _ := work(i)
				lat[i] = time.Since(t0)
				if !ok {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return lat, int(errs.Load()), time.Since(start)
}
