package netaddr

import (
	"net/netip"
	"testing"
)

func TestU128(t *testing.T) {
	a := netip.MustParseAddr("2001:db8::ffff:ffff:ffff:ffff")
	u := FromAddr(a)
	if got := u.Add64(1).ToAddr(6); got != netip.MustParseAddr("2001:db8:0:1::") {
		t.Fatalf("carry: %v", got)
	}
	if got := u.Sub(U128{Lo: 1 << 63}).Add(U128{Lo: 1 << 63}); got != u {
		t.Fatalf("sub/add: %v", got)
	}
	if got := FromAddr(netip.MustParseAddr("10.0.0.255")).Add64(1).ToAddr(4); got != netip.MustParseAddr("10.0.1.0") {
		t.Fatalf("v4: %v", got)
	}
	if s := (U128{Hi: 1}).String(); s != "18446744073709551616" {
		t.Fatalf("string: %s", s)
	}
	if (U128{1, 0}).Cmp(U128{0, ^uint64(0)}) != 1 || (U128{0, 1}).Cmp(U128{0, 2}) != -1 {
		t.Fatal("cmp")
	}
}

func TestFormat(t *testing.T) {
	// expectations are netaddr's (Neutron's) output
	for in, want := range map[string]string{
		"2001:DB8:0:1:1:1:1:1": "2001:db8:0:1:1:1:1:1",
		"2001:0:0:1:0:0:0:1":   "2001:0:0:1::1",
		"0:0:0:0:0:0:0:0":      "::",
		"::1":                  "::1",
		"1::":                  "1::",
		"::ffff:1.2.3.4":       "::ffff:1.2.3.4",
		"::1.2.3.4":            "::1.2.3.4",
		"64:ff9b::1.2.3.4":     "64:ff9b::102:304",
		"1:0:0:0:1:0:0:0":      "1::1:0:0:0",
		"10.0.0.1":             "10.0.0.1",
	} {
		if got := Format(netip.MustParseAddr(in)); got != want {
			t.Errorf("Format(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestParseIP(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1":       "",
		"10.0.0.01":      "'10.0.0.01' is not an accepted IP address, '10.0.0.1' is recommended",
		"10.0.0":         "'10.0.0' is not a valid IP address",
		"10.0.0.256":     "'10.0.0.256' is not a valid IP address",
		" 10.0.0.1":      "' 10.0.0.1' is not a valid IP address",
		"2001:db8::1":    "",
		"fe80::1%eth0":   "'fe80::1%eth0' is not a valid IP address",
		"::ffff:1.2.3.4": "",
		"":               "'' is not a valid IP address",
	} {
		if _, got := ParseIP(in); got != want {
			t.Errorf("ParseIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalCIDR(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.5/24":            "10.0.0.5/24",
		"10/8":                   "10.0.0.0/8",
		"10.1/16":                "10.1.0.0/16",
		"10.0.0.0/255.255.255.0": "10.0.0.0/24",
		"10.0.0.0/0.0.0.255":     "10.0.0.0/24",
		"010.000.001.000/024":    "10.0.1.0/24",
		"10.1.2":                 "10.1.2.0/32",
		"2001:DB8:0:0::/64":      "2001:db8::/64",
		"2001:db8::1":            "2001:db8::1/128",
		"::ffff:10.0.0.0/120":    "::ffff:10.0.0.0/120",
		"10.0.0.0/+8":            "10.0.0.0/8",
		"10.0.0.0/33":            "",
		"10.0.0.0/":              "",
		"/24":                    "",
		"1.2.3.4.5/24":           "",
		"abc":                    "",
		"10.0.0.0/-1":            "",
		"fe80::1%eth0/64":        "",
	} {
		got, ok := CanonicalCIDR(in)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("CanonicalCIDR(%q) = %q, want %q", in, got, want)
		}
	}
}

func pools(rs []Range) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String())
	}
	return out
}

func TestGeneratePools(t *testing.T) {
	for _, c := range []struct {
		cidr, gw string
		want     []string
	}{
		{"10.0.0.0/24", "10.0.0.1", []string{"10.0.0.2-10.0.0.254"}},
		{"10.0.0.0/24", "10.0.0.100", []string{"10.0.0.1-10.0.0.99", "10.0.0.101-10.0.0.254"}},
		{"10.0.0.0/24", "10.0.0.254", []string{"10.0.0.1-10.0.0.253"}},
		{"10.0.0.0/24", "", []string{"10.0.0.1-10.0.0.254"}},
		{"10.0.0.0/24", "10.6.0.1", []string{"10.0.0.1-10.0.0.254"}},
		{"10.0.0.0/31", "10.0.0.1", []string{"10.0.0.0-10.0.0.0"}},
		{"10.0.0.0/32", "10.0.0.1", []string{"10.0.0.0-10.0.0.0"}},
		{"10.0.0.0/30", "10.0.0.1", []string{"10.0.0.2-10.0.0.2"}},
		{"2001:db8::/64", "2001:db8::", []string{"2001:db8::1-2001:db8::ffff:ffff:ffff:ffff"}},
		{"2001:db8::/64", "2001:db8::1", []string{"2001:db8::2-2001:db8::ffff:ffff:ffff:ffff"}},
	} {
		var gw netip.Addr
		if c.gw != "" {
			gw = netip.MustParseAddr(c.gw)
		}
		got := pools(GeneratePools(netip.MustParsePrefix(c.cidr), gw))
		if len(got) != len(c.want) {
			t.Errorf("%s gw %s: %v, want %v", c.cidr, c.gw, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s gw %s: %v, want %v", c.cidr, c.gw, got, c.want)
			}
		}
	}
}

func TestSizes(t *testing.T) {
	if s := Size(netip.MustParsePrefix("2001:db8::/32")).String(); s != "79228162514264337593543950336" {
		t.Fatal(s)
	}
	r := Range{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::ffff:ffff:ffff:ffff")}
	if s := r.Size().String(); s != "18446744073709551615" {
		t.Fatal(s)
	}
	if s := TotalSize([]Range{r, r}).String(); s != "36893488147419103230" {
		t.Fatal(s)
	}
	p := netip.MustParsePrefix("10.0.0.0/24")
	if Last(p) != netip.MustParseAddr("10.0.0.255") || First(p) != netip.MustParseAddr("10.0.0.0") {
		t.Fatal("first/last")
	}
}

func TestChecks(t *testing.T) {
	p := netip.MustParsePrefix("10.0.0.0/24")
	for ip, ok := range map[string]bool{"10.0.0.0": false, "10.0.0.255": false, "10.0.0.1": true, "10.0.1.1": false, "::1": false} {
		if CheckSubnetIP(p, netip.MustParseAddr(ip), "") != ok {
			t.Errorf("CheckSubnetIP(%s)", ip)
		}
	}
	p6 := netip.MustParsePrefix("2001:db8::/64")
	if !CheckSubnetIP(p6, netip.MustParseAddr("2001:db8::"), "") || CheckSubnetIP(p6, netip.MustParseAddr("2001:db8::"), "compute:nova") {
		t.Error("IPv6 subnet-router address")
	}
	if !GatewayInvalid(p, netip.MustParseAddr("10.0.0.255")) || GatewayInvalid(p, netip.MustParseAddr("10.0.1.0")) {
		t.Error("GatewayInvalid")
	}
}

func TestMACAndEUI64(t *testing.T) {
	for _, s := range []string{"fa:16:3e:00:00:01", "FA-16-3E-00-00-01", "fa16.3e00.0001", "fa163e000001", "fa:16:3e:0:0:1"} {
		m, ok := ParseMAC(s)
		if !ok || FormatMAC(m) != "fa:16:3e:00:00:01" {
			t.Errorf("ParseMAC(%q) = %v %v", s, m, ok)
		}
	}
	for _, s := range []string{"zz", "fa:16:3e:00:00", "fa:16:3e:00:00:001", "", "5"} {
		if _, ok := ParseMAC(s); ok {
			t.Errorf("ParseMAC(%q) accepted", s)
		}
	}
	m, _ := ParseMAC("fa:16:3e:00:00:01")
	a := EUI64(netip.MustParsePrefix("2001:db8::/64"), m)
	if Format(a) != "2001:db8::f816:3eff:fe00:1" || !IsEUI64(a) {
		t.Fatalf("EUI64 = %s", Format(a))
	}
	if IsEUI64(netip.MustParseAddr("2001:db8::1")) {
		t.Fatal("IsEUI64")
	}
}
