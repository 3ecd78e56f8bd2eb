package golden

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Symbols names what the API created: ids by the resources' names (or names derived from what
// they belong to, for ports, rules and others without one), MAC addresses as name.mac and IP
// addresses as name@subnet. It grows as the scenario runs; names are never reused for another id.
type Symbols struct {
	ids    map[string]string // id -> name
	names  map[string]string // name -> id
	macs   map[string]string // mac -> name.mac
	ips    map[string]string // ip -> name@subnet
	values map[string]string // template key -> value
	keep   map[string]bool   // addresses left as they are (written in the scenario)
	ptrs   map[string]string // reverse DNS name of an address -> name@subnet|ptr
}

// NewSymbols returns an empty table.
func NewSymbols() *Symbols {
	return &Symbols{ids: map[string]string{}, names: map[string]string{}, macs: map[string]string{},
		ips: map[string]string{}, values: map[string]string{}, ptrs: map[string]string{}}
}

// Value is a template key's value (see Expand).
func (s *Symbols) Value(key string) (string, bool) {
	v, ok := s.values[key]
	return v, ok
}

// Name is the name given to id.
func (s *Symbols) Name(id string) (string, bool) {
	n, ok := s.ids[strings.ReplaceAll(id, "_", "-")]
	return n, ok
}

// ID is the id of the resource named name.
func (s *Symbols) ID(name string) (string, bool) {
	id, ok := s.names[name]
	return id, ok
}

// addID names id (first name wins; a name taken by another id gets a #n suffix).
func (s *Symbols) addID(id, name string) string {
	if id == "" {
		return ""
	}
	if n, ok := s.ids[id]; ok {
		return n
	}
	base := name
	for i := 2; ; i++ {
		if _, taken := s.names[name]; !taken {
			break
		}
		name = fmt.Sprintf("%s#%d", base, i)
	}
	s.ids[id], s.names[name] = name, id
	s.values[name] = id
	s.values[name+"|_"] = strings.ReplaceAll(id, "-", "_")
	return name
}

func (s *Symbols) addMAC(mac, port string) {
	if mac != "" {
		s.macs[strings.ToLower(mac)] = port + ".mac"
		s.values[port+".mac"] = mac
	}
}

// Keep leaves these addresses unchanged by Normalize.
func (s *Symbols) Keep(literals map[string]bool) { s.keep = literals }

func (s *Symbols) addIP(ip, port, subnet string) {
	key := port + "@" + subnet
	if _, ok := s.ips[ip]; !ok && !s.keep[ip] {
		s.ips[ip] = key
		if a, err := netip.ParseAddr(ip); err == nil {
			s.ptrs[reverseName(a)] = key + "|ptr"
			s.ptrs[hostName(ip)] = key + "|host"
		}
	}
	s.values[key] = ip
}

// reverseName is an address's name in in-addr.arpa or ip6.arpa (DNS PTR records).
func reverseName(a netip.Addr) string {
	var parts []string
	if a.Is4() {
		b := a.As4()
		for i := 3; i >= 0; i-- {
			parts = append(parts, strconv.Itoa(int(b[i])))
		}
		return strings.Join(parts, ".") + ".in-addr.arpa"
	}
	b := a.As16()
	for i := 15; i >= 0; i-- {
		parts = append(parts, strconv.FormatUint(uint64(b[i]&0xf), 16), strconv.FormatUint(uint64(b[i]>>4), 16))
	}
	return strings.Join(parts, ".") + ".ip6.arpa"
}

// hostName is the host name Neutron's DNS integration derives from an address (dns_assignment).
func hostName(ip string) string { return "host-" + strings.NewReplacer(".", "-", ":", "-").Replace(ip) }

var ptrRE = regexp.MustCompile(`\b(?:[0-9]{1,3}\.){4}in-addr\.arpa|\b(?:[0-9a-f]\.){32}ip6\.arpa|\bhost-[0-9a-f-]+\b`)

// Refresh lists every resource and names those not named yet.
func (s *Symbols) Refresh(api *API) error {
	lists := map[string][]map[string]any{}
	for _, c := range []string{"networks", "subnets", "security_groups", "security_group_rules", "routers",
		"floatingips", "ports", "segments", "policies", "trunks"} {
		path := "/v2.0/" + strings.ReplaceAll(c, "_", "-")
		if c == "policies" {
			path = "/v2.0/qos/policies"
		}
		var body map[string][]map[string]any
		if st, _, err := api.Do(http.MethodGet, path, nil); err == nil && st == http.StatusNotFound {
			continue // a server without that resource (neutrino without its service plugin)
		}
		if err := api.GetJSON(path, &body); err != nil {
			return err
		}
		lists[c] = body[c]
		sort.Slice(lists[c], func(i, j int) bool { return str(lists[c][i], "id") < str(lists[c][j], "id") })
	}
	for _, c := range []string{"networks", "subnets", "security_groups", "routers", "policies", "trunks"} {
		for _, r := range lists[c] {
			s.addID(str(r, "id"), nameOr(r, strings.TrimSuffix(c, "s")))
		}
	}
	for _, p := range lists["policies"] {
		for _, rule := range anyList(p["rules"]) {
			rm, _ := rule.(map[string]any)
			name := nameOr(p, "policy") + "/" + strings.TrimSuffix(str(rm, "type"), "_rule")
			if d := str(rm, "direction"); d != "" {
				name += "/" + d
			}
			s.addID(str(rm, "id"), name)
		}
	}
	for _, r := range lists["segments"] {
		s.addID(str(r, "id"), nameOr(r, s.nameOf(str(r, "network_id"))+".segment"))
	}
	for _, r := range lists["security_group_rules"] {
		s.addID(str(r, "id"), s.ruleName(r))
	}
	for _, r := range lists["floatingips"] {
		name := str(r, "description")
		if name == "" {
			name = "fip-" + str(r, "floating_ip_address")
		}
		s.addID(str(r, "id"), name)
		if err := s.refreshForwardings(api, r); err != nil {
			return err
		}
	}
	for _, r := range lists["ports"] {
		name := s.addID(str(r, "id"), s.portName(r))
		s.addMAC(str(r, "mac_address"), name)
		for _, f := range anyList(r["fixed_ips"]) {
			fm, _ := f.(map[string]any)
			s.addIP(str(fm, "ip_address"), name, s.nameOf(str(fm, "subnet_id")))
		}
	}
	for _, r := range lists["networks"] {
		if p := str(r, "project_id"); uuidRE.MatchString(p) {
			s.addID(p, "project")
		}
	}
	return nil
}

func (s *Symbols) refreshForwardings(api *API, fip map[string]any) error {
	var body struct {
		PFs []map[string]any `json:"port_forwardings"`
	}
	if err := api.GetJSON("/v2.0/floatingips/"+str(fip, "id")+"/port_forwardings", &body); err != nil {
		return err
	}
	for _, pf := range body.PFs {
		s.addID(str(pf, "id"), fmt.Sprintf("pf-%s-%s-%v", s.nameOf(str(fip, "id")), str(pf, "protocol"), pf["external_port"]))
	}
	return nil
}

func (s *Symbols) nameOf(id string) string {
	if n, ok := s.ids[id]; ok {
		return n
	}
	return id
}

func (s *Symbols) portName(p map[string]any) string {
	if n := str(p, "name"); n != "" {
		return n
	}
	owner, dev, net := str(p, "device_owner"), str(p, "device_id"), s.nameOf(str(p, "network_id"))
	subnet := ""
	if f := anyList(p["fixed_ips"]); len(f) > 0 {
		fm, _ := f[0].(map[string]any)
		subnet = s.nameOf(str(fm, "subnet_id"))
	}
	switch owner {
	case "network:router_interface", "network:router_interface_distributed", "network:ha_router_replicated_interface":
		return "rif-" + s.nameOf(dev) + "-" + subnet
	case "network:router_gateway":
		return "rgw-" + s.nameOf(dev)
	case "network:floatingip":
		return "fipport-" + s.nameOf(dev)
	case "network:distributed":
		return "meta-" + net
	case "network:dhcp":
		return "dhcp-" + net
	}
	return "port-" + net
}

func (s *Symbols) ruleName(r map[string]any) string {
	proto := str(r, "protocol")
	if proto == "" {
		proto = "any"
	}
	remote := "any"
	if g := str(r, "remote_group_id"); g != "" {
		remote = "sg:" + s.nameOf(g)
	} else if p := str(r, "remote_ip_prefix"); p != "" {
		remote = p
	}
	ports := ""
	if r["port_range_min"] != nil || r["port_range_max"] != nil {
		ports = fmt.Sprintf("%v-%v", num(r["port_range_min"]), num(r["port_range_max"]))
	}
	return fmt.Sprintf("%s/%s/%s/%s/%s/%s", s.nameOf(str(r, "security_group_id")), str(r, "direction"),
		str(r, "ethertype"), proto, ports, remote)
}

var macRE = regexp.MustCompile(`^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$`)

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}`)

// Normalize replaces the known ids (dash or underscore form), MAC and IP addresses in s with
// templates: {{name}}, {{name|_}}, {{port.mac}}, {{port@subnet}}, the reverse DNS name of an
// address with {{port@subnet|ptr}} and the host name derived from it (host-10-0-0-5) with
// {{port@subnet|host}}. A MAC address of no port becomes <random MAC>.
func (s *Symbols) Normalize(v string) string {
	v = uuidRE.ReplaceAllStringFunc(v, func(m string) string {
		n, ok := s.ids[strings.ReplaceAll(m, "_", "-")]
		if !ok {
			return m
		}
		if strings.Contains(m, "_") {
			return "{{" + n + "|_}}"
		}
		return "{{" + n + "}}"
	})
	v = ptrRE.ReplaceAllStringFunc(v, func(m string) string {
		if n, ok := s.ptrs[m]; ok {
			return "{{" + n + "}}"
		}
		return m
	})
	var b strings.Builder
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && isAddrChar(v[j]) {
			j++
		}
		if j == i {
			b.WriteByte(v[i])
			i++
			continue
		}
		b.WriteString(s.normalizeRun(v[i:j]))
		i = j
	}
	return b.String()
}

func (s *Symbols) normalizeRun(run string) string {
	if n, ok := s.macs[strings.ToLower(run)]; ok {
		return "{{" + n + "}}"
	}
	if n, ok := s.ips[run]; ok {
		return "{{" + n + "}}"
	}
	if macRE.MatchString(run) {
		return "<random MAC>" // a MAC address of no port: DHCP server MACs are drawn at random
	}
	// IPv4 address with a port (load balancer VIPs and backends)
	if k := strings.LastIndexByte(run, ':'); k > 0 && strings.Count(run, ":") == 1 {
		if n, ok := s.ips[run[:k]]; ok {
			return "{{" + n + "}}" + run[k:]
		}
	}
	return run
}

func isAddrChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.'
}

func str(m map[string]any, k string) string {
	if v, ok := m[k].(string); ok {
		return v
	}
	return ""
}

func nameOr(m map[string]any, def string) string {
	if n := str(m, "name"); n != "" {
		return n
	}
	return def
}

func num(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case float64:
		return fmt.Sprintf("%d", int64(t))
	case json.Number:
		return t.String()
	}
	return fmt.Sprint(v)
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}
