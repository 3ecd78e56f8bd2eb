package policy

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// This file holds what neutron/policy.py adds to oslo.policy: the
// "tenant_id" OwnerCheck, the "field" FieldCheck and _build_match_rule.

// foreignKeys is neutron's _RESOURCE_FOREIGN_KEYS: the target attribute
// holding the id of a parent resource, keyed by the parent's collection.
var foreignKeys = map[string]string{
	"networks":        "network_id",
	"security_groups": "security_group_id",
}

// extParentResources is neutron-lib's EXT_PARENT_RESOURCE_MAPPING (Zed,
// 3.1.x), in its order: "%(ext_parent:tenant_id)s" looks for
// "ext_parent_<resource>_id" in the target for each of these.
var extParentResources = []string{"floatingip", "router", "local_ip", "policy"}

// IsExtParent reports whether a sub-resource's parent (its member name)
// is one whose owner the "%(ext_parent:...)s" checks read.
func IsExtParent(member string) bool { return slices.Contains(extParentResources, member) }

// ownerCheck is neutron's OwnerCheck, registered for the "tenant_id" kind:
// "tenant_id:%(FIELD)s" compares str(target[FIELD]) with the caller's
// project. When FIELD is missing from the target and reads "parent:attr"
// (or "parent_attr"), the parent resource's attribute is fetched through
// the Resolver and kept for the rest of the evaluation under FIELD.
type ownerCheck struct {
	field string
}

func newOwnerCheck(kind, match string) (*ownerCheck, error) {
	if len(match) < 4 || !strings.HasPrefix(match, "%(") || !strings.HasSuffix(match, ")s") {
		return nil, fmt.Errorf("%w: %s:%s: unable to identify a target field; match should be in the form %%(<field_name>)s",
			errSyntax, kind, match)
	}
	return &ownerCheck{field: match[2 : len(match)-2]}, nil
}

func (st *state) owner(oc *ownerCheck) bool {
	v, ok := st.target[oc.field]
	if !ok {
		v, ok = st.resolved[oc.field]
	}
	if !ok {
		if v, ok = st.resolveParent(oc); !ok {
			return false
		}
	}
	tenant, _ := credString(st.c, credTenantID)
	if s, isStr := v.(string); isStr {
		return s == tenant
	}
	return pyfmt.StrJSON(v) == tenant
}

func (st *state) resolveParent(oc *ownerCheck) (any, bool) {
	res, field, ok := strings.Cut(oc.field, ":")
	if !ok {
		if res, field, ok = strings.Cut(oc.field, "_"); !ok {
			return nil, st.fail(fmt.Errorf("policy: tenant_id:%%(%s)s: unable to find resource name in %s", oc.field, oc.field))
		}
	}
	fk := foreignKeys[res+"s"]
	if res == "ext_parent" {
		for _, r := range extParentResources {
			key := "ext_parent_" + r + "_id"
			if _, ok := st.target[key]; ok {
				fk, res = key, r
				break
			}
		}
	}
	if fk == "" {
		return nil, st.fail(fmt.Errorf("policy: unable to verify match %%(%s)s as the parent resource %s was not found", oc.field, res))
	}
	if _, ok := st.target[fk]; !ok {
		return nil, st.fail(fmt.Errorf("policy: %%(%s)s: target has no %s", oc.field, fk))
	}
	r := st.e.resolver.Load()
	if r == nil || *r == nil {
		return nil, st.fail(fmt.Errorf("policy: %%(%s)s: no resolver to look up %s %s", oc.field, res, field))
	}
	v, err := (*r)(st.ctx, res, field, st.target)
	if err != nil {
		return nil, st.fail(fmt.Errorf("policy: looking up %s %s of %v: %w", res, field, st.target[fk], err))
	}
	if st.resolved == nil {
		st.resolved = map[string]any{}
	}
	st.resolved[oc.field] = v
	return v, true
}

// fieldCheck is neutron's FieldCheck: "field:RESOURCE:ATTR=VALUE" is true
// when target[ATTR] equals VALUE converted with the attribute's convert_to,
// or, for "~REGEX", when target[ATTR] matches REGEX at its start.
type fieldCheck struct {
	resource, field string
	value           any
	re              *regexp.Regexp
}

func newFieldCheck(match string) (*fieldCheck, error) {
	resource, fv, ok := strings.Cut(match, ":")
	if !ok {
		return nil, fmt.Errorf("%w: field:%s: expected field:<resource>:<field>=<value>", errSyntax, match)
	}
	field, value, ok := strings.Cut(fv, "=")
	if !ok {
		return nil, fmt.Errorf("%w: field:%s: expected field:<resource>:<field>=<value>", errSyntax, match)
	}
	fc := &fieldCheck{resource: resource, field: field, value: value}
	if conv := fieldConverters[resource+":"+field]; conv != nil {
		v, err := conv(value)
		if err != nil {
			return nil, fmt.Errorf("%w: field:%s: %v", errSyntax, match, err)
		}
		fc.value = v
	}
	if pattern, isRe := strings.CutPrefix(value, "~"); isRe {
		re, err := regexp.Compile(`\A(?:` + pattern + `)`)
		if err != nil {
			return nil, fmt.Errorf("%w: field:%s: %v", errSyntax, match, err)
		}
		fc.re = re
	}
	return fc, nil
}

func (st *state) fieldMatch(fc *fieldCheck) bool {
	v, ok := st.target[fc.field]
	if !ok {
		// "networks:shared" also serves ports and subnets, which only
		// carry the network's id.
		if fc.resource != "networks" || fc.field != "shared" {
			return false
		}
		if id, _ := st.target["network_id"]; id == nil || id == "" {
			return false
		}
		r := st.e.resolver.Load()
		if r == nil || *r == nil {
			return st.fail(errors.New("policy: field:networks:shared: no resolver to look up the network"))
		}
		var err error
		if v, err = (*r)(st.ctx, "network", "shared", st.target); err != nil {
			return st.fail(fmt.Errorf("policy: looking up network shared of %v: %w", st.target["network_id"], err))
		}
	}
	if v == nil {
		return false
	}
	if fc.re != nil {
		s, ok := v.(string)
		return ok && fc.re.MatchString(s)
	}
	return pyfmt.Equal(v, fc.value)
}

// fieldConverters are the convert_to functions of the attribute map
// entries a FieldCheck may name ("collection:attribute"), from neutron-lib
// 3.1.x API definitions. Attributes not listed compare as strings.
var fieldConverters = func() map[string]func(string) (any, error) {
	m := map[string]func(string) (any, error){}
	for _, k := range strings.Fields(`
		address_groups:shared address_scopes:shared agents:admin_state_up
		bgp-speakers:advertise_floating_ip_host_routes bgp-speakers:advertise_tenant_networks
		bgpvpns:shared firewall_groups:admin_state_up firewall_groups:shared
		firewall_policies:audited firewall_policies:shared firewall_rules:enabled
		firewall_rules:shared flavors:enabled ipsec_site_connections:admin_state_up
		logging_resources:enabled logs:enabled metering_label_rules:excluded
		metering_labels:shared network_segment_ranges:default network_segment_ranges:shared
		networks:admin_state_up networks:is_default networks:port_security_enabled
		networks:project_default networks:router:external networks:shared
		networks:vlan_transparent policies:is_default policies:shared
		ports:admin_state_up ports:port_security_enabled ports:propagate_uplink_status
		routers:admin_state_up routers:distributed routers:enable_ndp_proxy routers:ha
		rule_types:all_rules rule_types:all_supported security_groups:shared
		security_groups:stateful service_profiles:enabled subnetpools:is_default
		subnetpools:shared subnets:dns_publish_fixed_ip subnets:enable_dhcp subnets:shared
		subnets:use_default_subnetpool trunks:admin_state_up vpnservices:admin_state_up`) {
		m[k] = convertToBoolean
	}
	for _, k := range strings.Fields(`
		address_scopes:ip_version alias_bandwidth_limit_rules:max_burst_kbps
		alias_bandwidth_limit_rules:max_kbps alias_dscp_marking_rules:dscp_mark
		alias_minimum_bandwidth_rules:min_kbps alias_minimum_packet_rate_rules:min_kpps
		bgpvpns:vni firewall_rules:ip_version ipsec_site_connections:mtu
		network_segment_ranges:maximum network_segment_ranges:minimum networks:mtu
		networks:provider:segmentation_id port_chains:chain_id segments:segmentation_id
		subnetpools:default_prefixlen subnetpools:default_quota subnetpools:max_prefixlen
		subnetpools:min_prefixlen subnets:ip_version subnets:prefixlen`) {
		m[k] = convertToInt
	}
	return m
}()

// convertToBoolean is neutron-lib's converters.convert_to_boolean for
// strings.
func convertToBoolean(s string) (any, error) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return nil, fmt.Errorf("'%s' cannot be converted to boolean", s)
}

// convertToInt is neutron-lib's converters.convert_to_int for strings.
func convertToInt(s string) (any, error) {
	t := strings.TrimSpace(s)
	if t == "" || strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.Contains(t, "__") {
		return nil, fmt.Errorf("'%s' is not an integer", s)
	}
	n, err := strconv.Atoi(strings.ReplaceAll(t, "_", ""))
	if err != nil {
		return nil, fmt.Errorf("'%s' is not an integer", s)
	}
	return n, nil
}

// Attr describes one attribute of the resource an action works on, as far
// as Neutron's _build_match_rule looks at the API attribute map.
type Attr struct {
	Name string
	// EnforcePolicy is the attribute map's enforce_policy: setting the
	// attribute is checked with the "ACTION:NAME" rule.
	EnforcePolicy bool
	// HasDefault and Default are the attribute map's default (leave
	// HasDefault false for ATTR_NOT_SPECIFIED). On create, an attribute
	// sent with its default value does not count as explicitly set.
	HasDefault bool
	Default    any
	// DictKeys are the keys of the attribute's "type:dict*" validator
	// specification, in order, when it has a non-empty one (e.g. routers'
	// external_gateway_info: network_id, enable_snat, external_fixed_ips).
	// Each key present in the value adds an "ACTION:NAME:KEY" rule.
	DictKeys []string
}

// match is the rule _build_match_rule builds: a RuleCheck, or an AndCheck
// of matches.
type match struct {
	rule  string
	isAnd bool
	kids  []*match
}

func andMatch(kids ...*match) *match { return &match{isAnd: true, kids: kids} }

// String is what oslo prints for the check, and so what Neutron's 403
// message starts with: "rule:create_network",
// "(rule:create_network and rule:create_network:shared)".
func (m *match) String() string {
	var b strings.Builder
	m.write(&b)
	return b.String()
}

func (m *match) write(b *strings.Builder) {
	if !m.isAnd {
		b.WriteString("rule:")
		b.WriteString(m.rule)
		return
	}
	b.WriteByte('(')
	for i, k := range m.kids {
		if i > 0 {
			b.WriteString(" and ")
		}
		k.write(b)
	}
	b.WriteByte(')')
}

func (st *state) evalMatch(m *match) bool {
	if !m.isAnd {
		return st.evalRule(st.e.lookup(m.rule))
	}
	for _, k := range m.kids {
		if !st.evalMatch(k) {
			return false
		}
	}
	return true
}

// attrChecked reports whether Neutron's _build_match_rule checks
// attribute rules for action: everything but "get_*" and "delete_*".
func attrChecked(action string) (check, update bool) {
	verb, _, _ := strings.Cut(action, ":")
	verb, _, _ = strings.Cut(verb, "_")
	return verb != "get" && verb != "delete", verb == "update"
}

// buildMatch is neutron's _build_match_rule: the action's rule, and for
// each attribute explicitly set in body that has enforce_policy, the
// "ACTION:ATTR" rule, extended with "ACTION:ATTR:KEY" rules for the keys of
// a dict attribute with a dict validator spec and for every key of every
// dict in a list attribute (fixed_ips, allowed_address_pairs, ...).
//
// On update every attribute in body counts as explicitly set; otherwise
// one whose value equals the attribute's default does not.
func buildMatch(action string, body map[string]any, attrs []Attr) *match {
	m := &match{rule: action}
	check, update := attrChecked(action)
	if !check || len(body) == 0 {
		return m
	}
	for _, a := range attrs {
		v, ok := body[a.Name]
		if !ok || (!update && a.HasDefault && pyfmt.Equal(v, a.Default)) || !a.EnforcePolicy {
			continue
		}
		prefix := action + ":" + a.Name
		ar := &match{rule: prefix}
		if len(a.DictKeys) > 0 && pyIterable(v) {
			sub := &match{isAnd: true}
			for _, k := range a.DictKeys {
				if pyContains(v, k) {
					sub.kids = append(sub.kids, &match{rule: prefix + ":" + k})
				}
			}
			ar = andMatch(ar, sub)
		}
		if list, ok := pyfmt.AsList(v); ok {
			var subs []*match
			for _, el := range list {
				if d, ok := el.(map[string]any); ok {
					for _, k := range sortedKeys(d) {
						subs = append(subs, &match{rule: prefix + ":" + k})
					}
				}
			}
			if len(subs) > 0 {
				ar = andMatch(ar, andMatch(subs...))
			}
		}
		m = andMatch(m, ar)
	}
	return m
}

func pyIterable(v any) bool {
	switch v.(type) {
	case string, []any, []string, map[string]any:
		return true
	}
	return false
}

// pyContains is Python's "k in v" for the iterables pyIterable accepts.
func pyContains(v any, k string) bool {
	switch x := v.(type) {
	case map[string]any:
		_, ok := x[k]
		return ok
	case string:
		return strings.Contains(x, k)
	}
	if list, ok := pyfmt.AsList(v); ok {
		for _, e := range list {
			if pyfmt.Equal(e, k) {
				return true
			}
		}
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
