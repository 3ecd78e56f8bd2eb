package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/neutrino-os/neutrino/internal/bench"
)

// benchCmd runs the benchmark workload against any endpoint:
//
//	neutrino bench --endpoint http://127.0.0.1:9696 --clients 8 --n 2000 --resource networks
func benchCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", "--endpoint URL [flags]",
		"Run the benchmark workload against any Networking API endpoint (neutrino or\nNeutron) and print req/s and p50/p99 latency per phase.")
	endpoint := fs.String("endpoint", "http://127.0.0.1:9696", "Networking API endpoint")
	token := fs.String("token", os.Getenv("OS_TOKEN"), "X-Auth-Token to send (default $OS_TOKEN)")
	clients := fs.Int("clients", 8, "concurrent clients")
	n := fs.Int("n", 1000, "requests (objects) per phase")
	resource := fs.String("resource", "networks", "networks, ports, routers or floatingips (ports: on one /16 subnet of a new network; floating IPs: of a new external network with one /16 subnet)")
	phases := fs.String("phases", "create,show,list,update,delete", "phases to run, in order: create (n objects), show (each object 5 times), list (pages of 100), listall (the whole collection, 1 client), update, delete, race (n rounds of a network delete racing --clients port creates on it)")
	serverPIDs := fs.String("server-pid", "", "the server's process ids on this machine, comma-separated: also report its CPU time per request")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	pids, err := bench.ParsePIDs(*serverPIDs)
	if err != nil {
		fmt.Fprintln(stderr, "bench: --server-pid:", err)
		return 2
	}
	fmt.Fprintf(stdout, "endpoint %s, %d clients, n=%d\n", *endpoint, *clients, *n)
	_, err = bench.Run(context.Background(), bench.Options{
		Endpoint: *endpoint, Token: *token, Clients: *clients, N: *n,
		Resource: *resource, Phases: strings.Split(*phases, ","), Out: stdout, ServerPIDs: pids,
	})
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}
