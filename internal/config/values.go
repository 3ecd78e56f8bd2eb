package config

import (
	"fmt"
	"sort"
	"strings"
)

// implemented holds, for list options whose values name drivers (such as
// [ml2] extension_drivers), the values neutrino acts on: "group.name" →
// value → true. An option listed here reports any other value given.
var implemented = map[string]map[string]bool{}

// Implemented declares values of a list option that neutrino acts on (call
// it from init, next to the code that implements the value). Once any
// value of an option is declared (or the option is declared with none),
// every other value an operator gives is named in a start-up warning as
// ignored: never silently dropped.
func Implemented(group, name string, values ...string) {
	regMu.Lock()
	defer regMu.Unlock()
	k := key(group, name)
	if implemented[k] == nil {
		implemented[k] = map[string]bool{}
	}
	for _, v := range values {
		implemented[k][v] = true
	}
}

// UnimplementedValues lists, one line per option, the values of declared
// list options (see Implemented) that neutrino does not act on, e.g.
// "[ml2] extension_drivers = qos".
func (c *Config) UnimplementedValues() []string {
	regMu.Lock()
	keys := make([]string, 0, len(implemented))
	known := map[string]map[string]bool{}
	for k, vs := range implemented {
		keys = append(keys, k)
		known[k] = map[string]bool{}
		for v := range vs {
			known[k][v] = true
		}
	}
	regMu.Unlock()
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		group, name, _ := strings.Cut(k, ".")
		o := lookup(group, name)
		if o == nil {
			continue
		}
		var miss []string
		for _, v := range c.List(o.Group, o.Name) {
			if !known[k][v] {
				miss = append(miss, v)
			}
		}
		if len(miss) > 0 {
			out = append(out, fmt.Sprintf("[%s] %s = %s", o.Group, o.Name, strings.Join(miss, ", ")))
		}
	}
	return out
}
