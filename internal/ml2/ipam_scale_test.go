package ml2_test

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// fillAllocations stores n allocations of the subnet (fake ports), the
// pool's first n addresses from first on: the worst case for an allocator
// that prefers the beginning of the pools.
func fillAllocations(t *testing.T, d *db.DB, subnet, network string, prefix netip.Prefix, first netip.Addr, n int) {
	t.Helper()
	base := prefix.Masked().Addr().As4()
	b0 := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	f := first.As4()
	start := uint32(f[0])<<24 | uint32(f[1])<<16 | uint32(f[2])<<8 | uint32(f[3])
	const batch = 500
	for i := 0; i < n; i += batch {
		var rows []string
		for j := i; j < n && j < i+batch; j++ {
			a := start + uint32(j)
			ip := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
			off := int64(uint64(a-b0) - 1<<63)
			rows = append(rows, fmt.Sprintf("('fill-%d', '%s', '%s', '%s', %d)", j, ip, subnet, network, off))
		}
		if _, err := d.Exec(context.Background(), "INSERT INTO ipallocations (port_id, ip_address, subnet_id, network_id, ip_offset) VALUES "+strings.Join(rows, ", ")); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
}

// medianCreate creates n ports one after the other and returns the lower
// quartile of the times of a create (the machine may be busy with other
// work: the quartile is the cost of a create that was not interrupted)
// and the addresses given.
func medianCreate(t *testing.T, base, net, owner string, n int) (time.Duration, []string) {
	t.Helper()
	lat := make([]time.Duration, n)
	var ips []string
	for i := range lat {
		t0 := time.Now()
		p := testutil.Do(t, "POST", base+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net, "device_owner": owner}}).Expect(t, 201).Obj("port")
		lat[i] = time.Since(t0)
		for _, f := range p["fixed_ips"].([]any) {
			ips = append(ips, f.(map[string]any)["ip_address"].(string))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[n/4], ips
}

// pgAllocationRowsRead is how many ipallocations rows PostgreSQL's scans
// have read so far (index entries and sequential reads), once the server's
// connections have reported their counters (they do within a second or
// two of going idle).
func pgAllocationRowsRead(t *testing.T, d *db.DB) int64 {
	t.Helper()
	time.Sleep(2500 * time.Millisecond)
	return pgCount(t, d, `SELECT COALESCE((SELECT SUM(idx_tup_read) FROM pg_stat_user_indexes WHERE relname = 'ipallocations'), 0)
		+ COALESCE((SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'ipallocations'), 0)`)
}

// TestAllocationCostFlatAsSubnetFills: a port create on a subnet with
// 10,000 allocated addresses (the first 10,000 of its pool) costs about
// what it costs on an empty subnet, on every engine, although the
// statements were prepared (PostgreSQL: planned generically) while the
// subnet was empty; a DHCP port still gets the first free address, and
// no address is given twice. (Not a strict timing: the bound is loose.)
func TestAllocationCostFlatAsSubnetFills(t *testing.T) {
	const filled, n = 10000, 40
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			o := testutil.Options{DB: e.URL(t)}
			if e.Name != "sqlite" {
				// few connections: each runs the statements many times
				o.Set = map[string]string{"database.max_pool_size": "2"}
			}
			s := testutil.StartServer(t, o)
			first := mkNet(t, s.URL)
			mkSubnet(t, s.URL, map[string]any{"network_id": first, "cidr": "10.49.0.0/16", "ip_version": 4})
			empty, _ := medianCreate(t, s.URL, first, "compute:nova", n)
			net := mkNet(t, s.URL)
			sub := mkSubnet(t, s.URL, map[string]any{"network_id": net, "cidr": "10.50.0.0/16", "ip_version": 4})
			fillAllocations(t, s.App.DB, sub["id"].(string), net, netip.MustParsePrefix("10.50.0.0/16"), netip.MustParseAddr("10.50.0.2"), filled)
			var read0 int64
			if e.Name == "postgresql" {
				read0 = pgAllocationRowsRead(t, s.App.DB)
			}
			full, ips := medianCreate(t, s.URL, net, "compute:nova", n)
			if e.Name == "postgresql" {
				// what the database read, not how long it took: the
				// windows of an allocation are 128 addresses at the most
				read := pgAllocationRowsRead(t, s.App.DB) - read0
				t.Logf("postgresql: %d allocation rows read by %d port creates", read, n)
				if read > 200*n {
					t.Errorf("%d port creates on a subnet with %d allocations read %d allocation rows", n, filled, read)
				}
			}
			t.Logf("%s: port create (lower quartile) %v on an empty subnet, %v with %d addresses allocated", e.Name, empty, full, filled)
			if full > 3*empty+10*time.Millisecond {
				t.Errorf("port create with %d allocated: %v, on the empty subnet: %v", filled, full, empty)
			}
			seen := map[string]bool{}
			for _, ip := range ips {
				if seen[ip] {
					t.Errorf("address %s given twice", ip)
				}
				seen[ip] = true
				if a := netip.MustParseAddr(ip); a.Less(netip.MustParseAddr("10.50.0.2")) {
					t.Errorf("address %s outside the pool", ip)
				}
			}
			// the first free address: right after the filled run, unless
			// the ports created before took it
			want := netip.MustParseAddr("10.50.39.18") // 10.50.0.2 + 10,000
			for seen[want.String()] {
				want = want.Next()
			}
			if e.Name == "postgresql" {
				read0 = pgAllocationRowsRead(t, s.App.DB)
			}
			_, dhcp := medianCreate(t, s.URL, net, "network:dhcp", 1)
			if e.Name == "postgresql" {
				// a few reads of 8 windows find the end of the run
				read := pgAllocationRowsRead(t, s.App.DB) - read0
				t.Logf("postgresql: %d allocation rows read by a DHCP port create", read)
				if read > 1000 {
					t.Errorf("a DHCP port create after %d allocations read %d allocation rows", filled, read)
				}
			}
			if dhcp[0] != want.String() {
				t.Errorf("DHCP port got %s, want the first free address %s", dhcp[0], want)
			}
		})
	}
}
