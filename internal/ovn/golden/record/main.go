// Command record replays the golden scenario against a server driving the OVN lab and writes the
// normalised NB dumps (one file per step), the API calls and the dataplane checks:
//
//	go run ./internal/ovn/golden/record -endpoint http://127.0.0.1:19699 \
//	    -lab-dir /tmp/neutrino-ovn -nb-port 6641 -sb-port 6642 -out internal/ovn/testdata/golden
//
// The lab must be running (scripts/harness/ovn-lab.sh start) and the server pointed at its NB and
// SB databases; see internal/ovn/testdata/golden/README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/golden"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/ovn-kubernetes/libovsdb/model"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:19699", "Networking API endpoint")
	labDir := flag.String("lab-dir", "/tmp/neutrino-ovn", "OVN_LAB of the running lab")
	nbPort := flag.Int("nb-port", 6641, "NB TCP port of the lab")
	sbPort := flag.Int("sb-port", 6642, "SB TCP port of the lab")
	scenario := flag.String("scenario", "internal/ovn/testdata/golden/scenario.yaml", "scenario file")
	out := flag.String("out", "internal/ovn/testdata/golden", "output directory")
	flag.Parse()
	if err := run(*endpoint, *labDir, *nbPort, *sbPort, *scenario, *out); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func run(endpoint, labDir string, nbPort, sbPort int, scenarioPath, out string) error {
	sc, err := golden.Load(scenarioPath)
	if err != nil {
		return err
	}
	lab := ovnlab.Attach(labDir, nbPort, sbPort)
	cfg := ovn.DefaultConfig()
	cfg.NB.Connection = lab.NBTCP()
	cfg.Timeout = 30 * time.Second
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	nb, err := ovn.NewNB(cfg, []model.Model{&nbdb.NBGlobal{}}, quiet)
	if err != nil {
		return err
	}
	nb.Start()
	defer nb.Close()
	env := golden.Env{API: &golden.API{Base: endpoint}, NB: nb, Lab: lab,
		Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }}
	var results []golden.Result
	n := 0
	err = golden.Run(context.Background(), sc, env, func(r golden.Result) error {
		fmt.Fprintf(os.Stderr, "step %s: %d calls, %d checks\n", r.Step, len(r.Calls), len(r.Checks))
		results = append(results, r)
		if r.Dump != nil {
			n++
			name := filepath.Join(out, fmt.Sprintf("nb/%02d-%s.json", n, r.Step))
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				return err
			}
			return os.WriteFile(name, r.Dump.JSON(), 0o644)
		}
		return nil
	})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "calls.json"), append(b, '\n'), 0o644)
}
