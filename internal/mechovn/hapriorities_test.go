package mechovn

import (
	"maps"
	"slices"
	"testing"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// TestHAPriorities: as Zed 21.0.0's sync_ha_chassis_group, the group's highest priority chassis
// keeps 32767 only while it is still wanted, the others following one below the other in random
// order; once it went, all the chassis get their priorities again in random order. The shuffle here
// reverses the sorted names, so that the order is known. Before, the highest priority chassis of
// those still wanted kept 32767 (b here, where Zed lets the shuffle choose).
func TestHAPriorities(t *testing.T) {
	reverse := func(s []string) { slices.Reverse(s) }
	members := []nbdb.HAChassis{{ChassisName: "a", Priority: 32767}, {ChassisName: "b", Priority: 32766}, {ChassisName: "c", Priority: 32765}}
	set := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	for _, c := range []struct {
		what    string
		members []nbdb.HAChassis
		want    map[string]bool
		prios   map[string]int
	}{
		{"a new group", nil, set("a", "b", "c"), map[string]int{"c": 32767, "b": 32766, "a": 32765}},
		{"the top one stays", members, set("a", "b", "c", "d"), map[string]int{"a": 32767, "d": 32766, "c": 32765, "b": 32764}},
		{"another one leaves", members, set("a", "b"), map[string]int{"a": 32767, "b": 32766}},
		{"the top one leaves", members, set("b", "c", "d"), map[string]int{"d": 32767, "c": 32766, "b": 32765}},
		{"the top one leaves, a new one arrives", members[:2], set("b", "c"), map[string]int{"c": 32767, "b": 32766}},
		{"none left", members, set(), map[string]int{}},
	} {
		if got := haPriorities(c.members, c.want, reverse); !maps.Equal(got, c.prios) {
			t.Errorf("%s: %v, want %v", c.what, got, c.prios)
		}
	}
}
