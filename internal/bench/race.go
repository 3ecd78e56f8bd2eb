package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// racePhase is the "race" phase: N rounds of a network DELETE racing
// port creates on that network (a DHCP agent creating its port while a
// user deletes a fresh network), Clients creates per round, every fourth
// a user port. Requests counts every answer; Errors those Neutron would
// not give (5xx, a create's anything but 201/404, a delete's anything but
// 204/409); P50/P99 are the DELETEs' latencies. The answers are printed.
func (r *runner) racePhase(ctx context.Context) (Result, error) {
	counts := map[string]int{}
	var lat []time.Duration
	start := time.Now()
	for i := 0; i < r.o.N && ctx.Err() == nil; i++ {
		net, err := r.raceNetwork(ctx, i)
		if err != nil {
			return Result{}, err
		}
		d, del, creates := r.raceRound(ctx, net)
		lat = append(lat, d)
		counts[fmt.Sprintf("DELETE %d", del)]++
		for _, c := range creates {
			counts[fmt.Sprintf("POST %d", c)]++
		}
		if del != 204 {
			r.raceCleanup(ctx, net)
		}
	}
	res := Result{Phase: "race", Elapsed: time.Since(start)}
	var keys []string
	for k, n := range counts {
		keys = append(keys, k)
		res.Requests += n
		if !raceAnswerOK(k) {
			res.Errors += n
		}
	}
	sort.Strings(keys)
	if r.o.Out != nil {
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s: %d", k, counts[k]))
		}
		fmt.Fprintf(r.o.Out, "race answers: %s\n", strings.Join(parts, ", "))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if n := len(lat); n > 0 {
		res.P50, res.P99 = lat[n*50/100], lat[min(n-1, n*99/100)]
	}
	return res, nil
}

// raceAnswerOK: the answers Neutron gives in the race.
func raceAnswerOK(k string) bool {
	switch k {
	case "POST 201", "POST 404", "DELETE 204", "DELETE 409":
		return true
	}
	return false
}

func (r *runner) raceNetwork(ctx context.Context, i int) (string, error) {
	st, m, err := r.do(ctx, "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": fmt.Sprintf("%s-race-%d", r.run, i), "tenant_id": r.project}})
	if err != nil || st != 201 {
		return "", fmt.Errorf("create network: %d %v", st, err)
	}
	net := m["network"].(map[string]any)["id"].(string)
	st, _, err = r.do(ctx, "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{
		"network_id": net, "cidr": "10.129.0.0/24", "ip_version": 4, "tenant_id": r.project}})
	if err != nil || st != 201 {
		return "", fmt.Errorf("create subnet: %d %v", st, err)
	}
	return net, nil
}

// raceRound releases the DELETE and the creates at once and returns the
// DELETE's latency and status and the creates' statuses.
func (r *runner) raceRound(ctx context.Context, net string) (time.Duration, int, []int) {
	creates := make([]int, r.o.Clients)
	var del int
	var took time.Duration
	begin := make(chan struct{})
	var wg sync.WaitGroup
	for c := range creates {
		owner := "network:dhcp"
		if c%4 == 3 {
			owner = "compute:nova"
		}
		wg.Add(1)
		go func(c int, owner string) {
			defer wg.Done()
			<-begin
			creates[c], _, _ = r.doDecode(ctx, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{
				"network_id": net, "device_owner": owner, "tenant_id": r.project}}, false)
		}(c, owner)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-begin
		t0 := time.Now()
		del, _, _ = r.doDecode(ctx, "DELETE", "/v2.0/networks/"+net, nil, false)
		took = time.Since(t0)
	}()
	close(begin)
	wg.Wait()
	return took, del, creates
}

// raceCleanup deletes what a round left: the user ports, then the network.
func (r *runner) raceCleanup(ctx context.Context, net string) {
	_, m, _ := r.do(ctx, "GET", "/v2.0/ports?network_id="+net, nil)
	ports, _ := m["ports"].([]any)
	for _, p := range ports {
		r.do(ctx, "DELETE", "/v2.0/ports/"+p.(map[string]any)["id"].(string), nil)
	}
	r.do(ctx, "DELETE", "/v2.0/networks/"+net, nil)
}
