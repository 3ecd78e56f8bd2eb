package subnetpool

import (
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/netaddr"
)

func TestValidateSubnet(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/8":    "",
		"10.0.0.1/8":    "",
		"2001:DB8::/32": "",
		"10.0.0.0":      "'10.0.0.0' isn't a recognized IP subnet cidr, '10.0.0.0/32' is recommended",
		"10/8":          "'10/8' isn't a recognized IP subnet cidr, '10.0.0.0/8' is recommended",
		"10.0.0.0 /8":   "'10.0.0.0 /8' is not a valid IP subnet",
		"banana":        "'banana' is not a valid IP subnet",
	} {
		if got := ValidateSubnet(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func nets(t *testing.T, ss ...string) []netaddr.Net {
	var out []netaddr.Net
	for _, s := range ss {
		n, err := netaddr.ParseNet(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// TestAllocationOrder follows the reference: with 172.16.0.0/22 and
// 172.16.8.0/24, /24 requests take 172.16.8.0 first (the smallest free
// block that fits), then 172.16.0.0, .1, .2, .3.
func TestAllocationOrder(t *testing.T) {
	prefixes := nets(t, "172.16.0.0/22", "172.16.8.0/24")
	allocated := netaddr.NewSet(4)
	var got []string
	for i := 0; i < 5; i++ {
		n, err := AllocateAny(prefixes, allocated, 4, 24)
		if err != nil {
			t.Fatal(err)
		}
		allocated.Add(n)
		got = append(got, n.String())
	}
	if want := "172.16.8.0/24 172.16.0.0/24 172.16.1.0/24 172.16.2.0/24 172.16.3.0/24"; strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	if _, err := AllocateAny(prefixes, allocated, 4, 24); err == nil || !strings.Contains(err.Error(), "Insufficient prefix space to allocate subnet size /24") {
		t.Fatalf("exhausted pool: %v", err)
	}
	if err := AllocateSpecific(nets(t, "10.0.0.0/16"), netaddr.NewSet(4, nets(t, "10.0.1.0/24")...), 4, nets(t, "10.0.0.0/23")[0]); err == nil {
		t.Fatal("overlapping specific request accepted")
	}
	if err := AllocateSpecific(nets(t, "10.0.0.0/16"), netaddr.NewSet(4, nets(t, "10.0.1.0/24")...), 4, nets(t, "10.0.2.0/23")[0]); err != nil {
		t.Fatal(err)
	}
}
