// Package golden replays a fixed scenario of Networking API calls against a server driving OVN
// (the reference Neutron with ML2/OVN, or neutrino), checks the dataplane in the OVN lab, and
// dumps the Northbound database after every step in a normalised form: Neutron ids, MAC and IP
// addresses become the names the scenario gave them, OVSDB row UUIDs become row keys. The dumps
// recorded from the reference Neutron are the goldens in ../testdata/golden; the same run against
// neutrino must produce the same dumps.
package golden

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scenario is an ordered list of steps.
type Scenario struct {
	Steps []Step
	// Literals are the address-like words of the scenario file: an IP address written in the
	// scenario stays as it is in the normalised output instead of becoming a port's template.
	Literals map[string]bool
}

// Step is a group of API requests and lab actions; the NB database is dumped after it (unless
// NoDump) once it has settled.
type Step struct {
	Name   string      `yaml:"step"`
	Doc    string      `yaml:"doc"`
	API    []Request   `yaml:"api"`
	Lab    []LabAction `yaml:"lab"`
	NoDump bool        `yaml:"nodump"`
}

// Request is one API call. Body strings may hold templates (see Expand). Status is the expected
// HTTP status (any 2xx when 0).
type Request struct {
	Method string `yaml:"method"`
	Path   string `yaml:"path"`
	Body   any    `yaml:"body"`
	Status int    `yaml:"status"`
}

// LabAction is one thing done in the OVN lab; exactly one field is set.
type LabAction struct {
	Plug   *Plug   `yaml:"plug"`   // plug a namespace VM as a port and wait for the port to be ACTIVE
	Unplug string  `yaml:"unplug"` // unplug the VM of that name
	Ext    *Ext    `yaml:"ext"`    // an external host on the provider network
	DHCP   *DHCP   `yaml:"dhcp"`   // dhclient in a VM and the lease expected
	SLAAC  *SLAAC  `yaml:"slaac"`  // wait for an IPv6 address from router advertisements
	Ping   *Ping   `yaml:"ping"`
	TCP    *TCP    `yaml:"tcp"`
	Serve  *Serve  `yaml:"serve"`  // start a TCP echo-peer server in a namespace (until the run ends)
	Sleep  float64 `yaml:"sleep"`  // seconds
	Status *Status `yaml:"status"` // wait for a port's API status
}

// Plug plugs namespace VM as the port named Port.
type Plug struct {
	VM   string `yaml:"vm"`
	Port string `yaml:"port"`
}

// Ext is an external host: namespace Name on the provider bridge with Addr (ADDR/LEN) and Extra /32s.
type Ext struct {
	Name  string   `yaml:"name"`
	Addr  string   `yaml:"addr"`
	Extra []string `yaml:"extra"`
}

// DHCP runs dhclient in VM; every key of Expect must equal the lease's value (ip, mask, routers,
// mtu, dns, routes, ...).
type DHCP struct {
	VM     string            `yaml:"vm"`
	Expect map[string]string `yaml:"expect"`
}

// SLAAC waits until VM's eth0 has Addr.
type SLAAC struct {
	VM   string `yaml:"vm"`
	Addr string `yaml:"addr"`
}

// Ping pings To from From; Fail expects no answer.
type Ping struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
	Fail bool   `yaml:"fail"`
}

// Serve starts a server on Port in VM.
type Serve struct {
	VM   string `yaml:"vm"`
	Port int    `yaml:"port"`
}

// TCP connects from From to To:Port (a Serve server); Peer is the source address the server must
// see; Fail expects the connection to fail.
type TCP struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
	Port int    `yaml:"port"`
	Peer string `yaml:"peer"`
	Fail bool   `yaml:"fail"`
}

// Status waits until the port's status is Want.
type Status struct {
	Port string `yaml:"port"`
	Want string `yaml:"want"`
}

// Load reads a scenario file.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var steps []Step
	if err := yaml.Unmarshal(b, &steps); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i, s := range steps {
		if s.Name == "" || seen[s.Name] {
			return nil, fmt.Errorf("%s: step %d: missing or repeated name %q", path, i, s.Name)
		}
		seen[s.Name] = true
	}
	lit := map[string]bool{}
	for _, w := range strings.FieldsFunc(string(b), func(r rune) bool { return r > 127 || !isAddrChar(byte(r)) }) {
		if strings.ContainsAny(w, ".:") {
			lit[w] = true
		}
	}
	return &Scenario{Steps: steps, Literals: lit}, nil
}

var templateRE = regexp.MustCompile(`\{\{([^{}]+)\}\}`)

// Expand replaces the templates in s with values from syms: {{name}} is the id of the resource
// named name, {{name.mac}} a port's MAC address, {{name@subnet}} a port's IP address on a subnet.
func Expand(s string, syms *Symbols) (string, error) {
	var missing []string
	out := templateRE.ReplaceAllStringFunc(s, func(m string) string {
		key := strings.TrimSpace(m[2 : len(m)-2])
		if v, ok := syms.Value(key); ok {
			return v
		}
		missing = append(missing, key)
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown template %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// expandAny expands templates in every string of a decoded YAML/JSON value.
func expandAny(v any, syms *Symbols) (any, error) {
	switch t := v.(type) {
	case string:
		return Expand(t, syms)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			x, err := expandAny(e, syms)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			x, err := expandAny(e, syms)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	}
	return v, nil
}
