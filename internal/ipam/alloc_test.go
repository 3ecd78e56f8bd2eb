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
	// a window runs to the end of its pool at the most
	want := []string{"10.0.0.2", "10.0.0.3", "10.0.0.10", "10.0.0.11", "10.0.0.12"}
	wantN := []uint64{2, 1, 3, 2, 1}
	for i, w := range want {
		got := s.windowAt(netaddr.U128{Lo: uint64(i)}, 0)
		if got.first.String() != w || got.n != wantN[i] || !got.fits || got.lo != netaddr.Offset(s.Prefix, got.first).Lo {
			t.Errorf("windowAt(%d) = %+v", i, got)
		}
	}
	// offsets beyond 64 bits: one address, tried blindly
	huge := &Subnet{Prefix: netip.MustParsePrefix("2001:db8::/48"), Pools: []netaddr.Range{
		{First: netip.MustParseAddr("2001:db8::1"), Last: netip.MustParseAddr("2001:db8::ffff:ffff:ffff:ffff:ffff")}}}
	if w := huge.windowAt(netaddr.U128{Lo: 5}, 0); !w.fits || w.n != windowSize {
		t.Errorf("window at the start of a huge pool: %+v", w)
	}
	if w := huge.windowAt(netaddr.U128{Hi: 1}, 0); w.fits || w.n != 1 {
		t.Errorf("window beyond 64 bits: %+v", w)
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
