package ipam

import (
	"net/netip"
	"testing"

	"github.com/neutrino-os/neutrino/internal/netaddr"
)

func TestPoolIndexAndRandom(t *testing.T) {
	s := &Subnet{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Pools: []netaddr.Range{
		{First: netip.MustParseAddr("10.0.0.2"), Last: netip.MustParseAddr("10.0.0.3")},
		{First: netip.MustParseAddr("10.0.0.10"), Last: netip.MustParseAddr("10.0.0.12")},
	}}
	want := []string{"10.0.0.2", "10.0.0.3", "10.0.0.10", "10.0.0.11", "10.0.0.12"}
	for i, w := range want {
		if got := s.poolIndex(netaddr.U128{Lo: uint64(i)}); got.String() != w {
			t.Errorf("poolIndex(%d) = %s", i, got)
		}
	}
	if s.total() != (netaddr.U128{Lo: 5}) {
		t.Fatal("total")
	}
	big := netaddr.U128{Hi: 3, Lo: 7}
	for i := 0; i < 1000; i++ {
		if randBelow(big).Cmp(big) >= 0 || randBelow(netaddr.U128{Lo: 5}).Lo >= 5 {
			t.Fatal("randBelow out of range")
		}
	}
	if o := s.storedOffset(netip.MustParseAddr("10.0.0.0")); o != int64(-1<<63) {
		t.Fatalf("storedOffset = %v", o)
	}
	s6 := &Subnet{Prefix: netip.MustParsePrefix("2001:db8::/48")}
	if s6.storedOffset(netip.MustParseAddr("2001:db8:0:1::")) != nil {
		t.Fatal("offset beyond 64 bits must be NULL")
	}
	if o := s6.storedOffset(netip.MustParseAddr("2001:db8::ffff:ffff:ffff:ffff")); o != int64(1<<63-1) {
		t.Fatalf("storedOffset = %v", o)
	}
}
