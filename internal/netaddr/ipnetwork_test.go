package netaddr

import (
	"strings"
	"testing"
)

// The expectations are netaddr 0.8's (str(IPNetwork(s)), str(.cidr)).
func TestParseNetLikeNetaddr(t *testing.T) {
	for _, c := range []struct{ in, str, cidr string }{
		{"10.0.0.1/24", "10.0.0.1/24", "10.0.0.0/24"},
		{"10.0.0.1", "10.0.0.1/32", "10.0.0.1/32"},
		{"10/8", "10.0.0.0/8", "10.0.0.0/8"},
		{"10.0/16", "10.0.0.0/16", "10.0.0.0/16"},
		{"10.0.0.0/255.0.0.0", "10.0.0.0/8", "10.0.0.0/8"},
		{"10.0.0.0/0.0.0.255", "10.0.0.0/24", "10.0.0.0/24"},
		{"010.0.0.1/8", "10.0.0.1/8", "10.0.0.0/8"},
		{"::1/64", "::1/64", "::/64"},
		{"::ffff:1.2.3.4/120", "::ffff:1.2.3.4/120", "::ffff:1.2.3.0/120"},
		{"1.2.3.4/ 8", "1.2.3.4/8", "1.0.0.0/8"},
		{" 1.2.3.4/8", "1.2.3.4/8", "1.0.0.0/8"},
		{"1.2.3.4/08", "1.2.3.4/8", "1.0.0.0/8"},
		{"1.2.3.4/+8", "1.2.3.4/8", "1.0.0.0/8"},
		{"FE80::1/64", "fe80::1/64", "fe80::/64"},
		{"1.2.3", "1.2.3.0/32", "1.2.3.0/32"},
		{"::/0", "::/0", "::/0"},
		{"0.0.0.0/0", "0.0.0.0/0", "0.0.0.0/0"},
	} {
		n, err := ParseNet(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if n.String() != c.str || n.CIDR().String() != c.cidr {
			t.Errorf("%q: got %s (%s), want %s (%s)", c.in, n, n.CIDR(), c.str, c.cidr)
		}
	}
	for _, bad := range []string{"1.2.3.4/33", "fe80::1%eth0/64", "1.2.3.4/-1", "1.2.3.4/255.255.0.255",
		"0x0a000001/8", "1.2.3.4/", "1.2.3.4//8", "::/129", "foo", "", "1.2.3.256", "1.2.3.4.5"} {
		if n, err := ParseNet(bad); err == nil {
			t.Errorf("%q parsed as %s", bad, n)
		}
	}
}

func nets(t *testing.T, ss ...string) []Net {
	var out []Net
	for _, s := range ss {
		n, err := ParseNet(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func strs(ns []Net) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.String())
	}
	return strings.Join(out, " ")
}

func TestSetArithmetic(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"10.10.0.0/16", "10.11.0.0/16"}, "10.10.0.0/15"},
		{[]string{"10.0.0.0/8", "9.0.0.0/8", "100.0.0.0/8"}, "9.0.0.0/8 10.0.0.0/8 100.0.0.0/8"},
		{[]string{"10.0.0.0/8", "10.1.0.0/16"}, "10.0.0.0/8"},
		{[]string{"10.0.0.0/7", "12.0.0.0/8"}, "10.0.0.0/7 12.0.0.0/8"},
		{[]string{"0.0.0.0/1", "128.0.0.0/1"}, "0.0.0.0/0"},
		{[]string{"2001:db8::/33", "2001:db8:8000::/33"}, "2001:db8::/32"},
		{[]string{"::/1", "8000::/1"}, "::/0"},
	} {
		ns := nets(t, c.in...)
		if got := strs(Compact(ns[0].Version(), ns)); got != c.want {
			t.Errorf("compact %v: got %s, want %s", c.in, got, c.want)
		}
	}
	all := NewSet(4, nets(t, "10.0.0.0/7", "12.0.0.0/8")...)
	if got := strs(all.Difference(NewSet(4, nets(t, "12.0.0.0/9")...)).CIDRs()); got != "10.0.0.0/7 12.128.0.0/9" {
		t.Errorf("difference: %s", got)
	}
	if got := strs(NewSet(4, nets(t, "10.0.0.0/24")...).Difference(NewSet(4, nets(t, "10.0.0.5/32")...)).CIDRs()); got !=
		"10.0.0.0/30 10.0.0.4/32 10.0.0.6/31 10.0.0.8/29 10.0.0.16/28 10.0.0.32/27 10.0.0.64/26 10.0.0.128/25" {
		t.Errorf("difference: %s", got)
	}
	if !NewSet(6, nets(t, "::/0")...).Difference(NewSet(6, nets(t, "::/0")...)).Empty() {
		t.Error("::/0 - ::/0 not empty")
	}
	if NewSet(4, nets(t, "10.0.0.0/8")...).Intersects(NewSet(4, nets(t, "11.0.0.0/8")...)) {
		t.Error("disjoint sets intersect")
	}
}
