package qos

import (
	"slices"

	"github.com/neutrino-os/neutrino/internal/config"
)

// Rule types, in Neutron's VALID_RULE_TYPES order (the order of a
// policy's rules and of the validation of a port's rules).
const (
	BandwidthLimit    = "bandwidth_limit"
	DSCPMarking       = "dscp_marking"
	MinimumBandwidth  = "minimum_bandwidth"
	MinimumPacketRate = "minimum_packet_rate"
	PacketRateLimit   = "packet_rate_limit"
)

// ruleTypes are the valid rule types in order.
var ruleTypes = []string{BandwidthLimit, DSCPMarking, MinimumBandwidth, MinimumPacketRate, PacketRateLimit}

const dbIntMax = 2147483647

// validDSCPMarks are Neutron's VALID_DSCP_MARKS.
var validDSCPMarks = []any{int64(0), int64(8), int64(10), int64(12), int64(14), int64(16), int64(18), int64(20),
	int64(22), int64(24), int64(26), int64(28), int64(30), int64(32), int64(34), int64(36), int64(38),
	int64(40), int64(46), int64(48), int64(56)}

var (
	directions      = []any{"ingress", "egress"}
	directionsOrAny = []any{"any", "ingress", "egress"}
)

// param is one supported parameter of a rule type in a driver: a range
// (lo..hi) or a list of choices.
type param struct {
	name    string
	lo, hi  int64
	choices []any
}

func rng(name string) param              { return param{name: name, lo: 0, hi: dbIntMax} }
func choice(name string, vs []any) param { return param{name: name, choices: vs} }

// ok reports whether v is accepted (type:range / type:values).
func (pa param) ok(v any) bool {
	if pa.choices != nil {
		for _, c := range pa.choices {
			if c == v {
				return true
			}
		}
		return false
	}
	n, isInt := v.(int64)
	return isInt && n >= pa.lo && n <= pa.hi
}

// details is the parameter as GET /qos/rule-types/{type} shows it.
func (pa param) details() map[string]any {
	if pa.choices != nil {
		return map[string]any{"parameter_name": pa.name, "parameter_type": "choices", "parameter_values": pa.choices}
	}
	return map[string]any{"parameter_name": pa.name, "parameter_type": "range",
		"parameter_values": map[string]any{"start": pa.lo, "end": pa.hi}}
}

// driver is a QoS driver: what a mechanism driver's dataplane enforces
// (neutron.services.qos.drivers.*).
type driver struct {
	name       string
	vifTypes   []string
	vnicTypes  []string
	rules      map[string][]param
	physnetMin bool // minimum_bandwidth only on networks whose first segment has a physnet (openvswitch)
}

func (d *driver) supports(rule map[string]any) bool {
	params, ok := d.rules[rule["type"].(string)]
	if !ok {
		return false
	}
	for _, pa := range params {
		if !pa.ok(rule[pa.name]) {
			return false
		}
	}
	return true
}

var bwLimit = []param{rng("max_kbps"), rng("max_burst_kbps"), choice("direction", directions)}

// knownDrivers are the QoS drivers of Neutron's tree, by the mechanism
// driver that loads them.
var knownDrivers = map[string]func() *driver{
	"openvswitch": func() *driver {
		return &driver{name: "openvswitch", vifTypes: []string{"ovs", "vhostuser"}, vnicTypes: []string{"normal", "direct"},
			physnetMin: true,
			rules: map[string][]param{
				BandwidthLimit:    bwLimit,
				PacketRateLimit:   {rng("max_kpps"), rng("max_burst_kpps"), choice("direction", directions)},
				DSCPMarking:       {choice("dscp_mark", validDSCPMarks)},
				MinimumBandwidth:  {rng("min_kbps"), choice("direction", directions)},
				MinimumPacketRate: {rng("min_kpps"), choice("direction", directionsOrAny)},
			}}
	},
	"linuxbridge": func() *driver {
		return &driver{name: "linuxbridge", vifTypes: []string{"bridge", "tap"}, vnicTypes: []string{"normal"},
			rules: map[string][]param{
				BandwidthLimit: bwLimit,
				DSCPMarking:    {choice("dscp_mark", validDSCPMarks)},
			}}
	},
	"sriovnicswitch": func() *driver {
		return &driver{name: "sriovnicswitch", vifTypes: []string{"hw_veb"}, vnicTypes: []string{"direct", "macvtap"},
			rules: map[string][]param{
				BandwidthLimit:   {rng("max_kbps"), rng("max_burst_kbps"), choice("direction", []any{"egress"})},
				MinimumBandwidth: {rng("min_kbps"), choice("direction", directions)},
			}}
	},
	"ovn": func() *driver {
		return &driver{name: "OVNQosDriver", vifTypes: []string{"ovs", "vhostuser"}, vnicTypes: []string{"normal"},
			rules: map[string][]param{
				BandwidthLimit:   bwLimit,
				DSCPMarking:      {choice("dscp_mark", validDSCPMarks)},
				MinimumBandwidth: {rng("min_kbps"), choice("direction", directions)},
			}}
	},
}

// loadedDrivers are the QoS drivers of the configured mechanism drivers
// (whether or not neutrino implements the mechanism driver itself: the
// rule types a deployment offers follow its configuration). The OVN one
// is loaded only with the qos extension driver, as in Neutron.
func loadedDrivers(c *config.Config) []*driver {
	var out []*driver
	for _, name := range c.List("ml2", "mechanism_drivers") {
		mk, ok := knownDrivers[name]
		if !ok {
			continue
		}
		if name == "ovn" && !slices.Contains(c.List("ml2", "extension_drivers"), "qos") {
			continue
		}
		out = append(out, mk())
	}
	return out
}

// supportedTypes is the driver manager's supported_rule_types.
func (p *Plugin) supportedTypes(allSupported, allRules bool) []string {
	if allRules {
		return ruleTypes
	}
	if len(p.drivers) == 0 {
		return nil
	}
	var out []string
	for _, t := range ruleTypes {
		n := 0
		for _, d := range p.drivers {
			if _, ok := d.rules[t]; ok {
				n++
			}
		}
		if (allSupported && n > 0) || n == len(p.drivers) {
			out = append(out, t)
		}
	}
	return out
}
