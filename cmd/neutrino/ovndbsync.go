package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/mechovn"
	"github.com/neutrino-os/neutrino/internal/ml2"
)

const ovnDBSyncDesc = `Compare the OVN Northbound database with neutrino's database in both directions, as
neutron-ovn-db-sync-util does: networks, subnets (DHCP options), ports and security groups
whose rows are missing or stale in the NB, and NB rows of resources that do not exist.
--mode log prints one line per difference; --mode repair also fixes each. Exit status:
0 nothing found (or everything repaired), 1 differences left, 2 an error.
The configuration is the server's ([ml2] mechanism_drivers must name ovn).`

func ovnDBSyncCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ovn-db-sync", "[--config-file F]... [--mode log|repair]", ovnDBSyncDesc)
	var f confFlags
	f.config(fs)
	f.database(fs)
	mode := fs.String("mode", "log", "log: report the differences; repair: report and fix them")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *mode != "log" && *mode != "repair" {
		fmt.Fprintf(stderr, "neutrino ovn-db-sync: --mode must be log or repair, not %q\n", *mode)
		return 2
	}
	f.sets = append(f.sets, "ovn.background_tasks=false") // no maintenance or status writes of this process
	c, err := f.load()
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 2
	}
	a, err := app.New(c, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), false)
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 2
	}
	defer a.Close()
	p, _ := a.Env.Plugin("ml2").(*ml2.Plugin)
	var d *mechovn.Driver
	if p != nil {
		d, _ = p.MechanismDriver("ovn").(*mechovn.Driver)
	}
	if d == nil {
		fmt.Fprintln(stderr, "neutrino ovn-db-sync: [ml2] mechanism_drivers does not name ovn")
		return 2
	}
	n, err := d.DBSync(context.Background(), *mode == "repair", stdout)
	if err != nil {
		fmt.Fprintln(stderr, "neutrino ovn-db-sync:", err)
		return 2
	}
	fmt.Fprintf(stdout, "%d difference(s) found\n", n)
	if n > 0 && *mode == "log" {
		return 1
	}
	return 0
}
