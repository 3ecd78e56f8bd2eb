package secgroup

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

// This file holds the rule attribute converters and the validation of
// neutron/db/securitygroups_db.py and neutron/extensions/securitygroup.py.

// protocolNumbers is neutron-lib's IP_PROTOCOL_MAP.
var protocolNumbers = map[string]int{
	"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2,
	"ip": 0, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58,
	"ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46,
	"sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}

// protocolNames is IP_PROTOCOL_NUM_TO_NAME_MAP (0 is "ip", 58 "ipv6-icmp").
var protocolNames = func() map[string]string {
	m := map[string]string{}
	for name, n := range protocolNumbers {
		if name == "icmpv6" || name == "hopopt" {
			continue
		}
		m[strconv.Itoa(n)] = name
	}
	return m
}()

const supportedProtocols = "[None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp']"

// portProtocols are SG_PORT_PROTO_NUMS.
var portProtocols = map[int]bool{33: true, 132: true, 6: true, 17: true, 136: true}

func invalidProtocol(v any) error {
	return badInput("SecurityGroupRuleInvalidProtocol", fmt.Sprintf(
		"Security group rule protocol %s not supported. Only protocol values %s and integer representations [0 to 255] are supported.",
		pyfmt.Str(v), supportedProtocols))
}

// convertProtocol is convert_protocol: a number 0-255 (kept as the string
// given) or a protocol name (lowercased).
func convertProtocol(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		if x >= 0 && x <= 255 {
			return strconv.FormatInt(x, 10), nil
		}
		return nil, invalidProtocol(v)
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			if n >= 0 && n <= 255 {
				return x, nil
			}
			return nil, invalidProtocol(v)
		}
		if _, ok := protocolNumbers[strings.ToLower(x)]; ok {
			return strings.ToLower(x), nil
		}
	}
	// Neutron fails with a 500 on floats, booleans and lists.
	return nil, invalidProtocol(v)
}

// convertEthertype is convert_ethertype_to_case_insensitive.
func convertEthertype(v any) (any, error) {
	if s, ok := v.(string); ok {
		for _, e := range []string{"IPv4", "IPv6"} {
			if strings.EqualFold(s, e) {
				return e, nil
			}
		}
	}
	return nil, badInput("SecurityGroupRuleInvalidEtherType", fmt.Sprintf(
		"Security group rule for ethertype '%s' not supported. Allowed values are ['IPv4', 'IPv6'].", pyfmt.Str(v)))
}

// convertPort is convert_validate_port_value.
func convertPort(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if _, isList := v.([]any); !isList {
		if _, isMap := v.(map[string]any); !isMap {
			if n, ok := pyfmt.Int(v); ok && n >= 0 && n <= 65535 {
				return n, nil
			}
		}
	}
	return nil, invalidPortValue(v)
}

func invalidPortValue(v any) error {
	return badInput("SecurityGroupInvalidPortValue", "Invalid value for port "+pyfmt.Str(v))
}

// convertIPPrefix is convert_ip_prefix_to_cidr.
func convertIPPrefix(v any) (any, error) {
	if isFalsy(v) {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		if n, err := netaddr.ParseNet(s); err == nil {
			return n.String(), nil
		}
	}
	return nil, nerr.Typed(http.StatusBadRequest, "InvalidCIDR", "Invalid CIDR %s given as IP prefix.", pyfmt.Str(v))
}

func isFalsy(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case int64:
		return x == 0
	case float64:
		return x == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// nameNotDefault raises what type:name_not_default raises for "default"
// (the string checks are the Validate part).
func nameNotDefault(v any) (any, error) {
	if s, ok := v.(string); ok && len([]rune(s)) <= 255 && strings.ToLower(s) == "default" {
		return nil, nerr.Conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
	}
	return v, nil
}

// protoNumber is _get_ip_proto_number.
func protoNumber(p string) int {
	if n, ok := protocolNumbers[p]; ok {
		return n
	}
	n, _ := strconv.Atoi(strings.TrimSpace(p))
	return n
}

// protoKey is _get_ip_proto_name_and_num, as a string.
func protoKey(p any, ethertype string) string {
	s, ok := p.(string)
	if !ok || p == nil {
		return "+"
	}
	if ethertype == "IPv6" {
		if s == "icmp" || s == "icmpv6" {
			s = "ipv6-icmp"
		} else if s == "1" {
			s = "58"
		}
	}
	if n, ok := protocolNumbers[s]; ok {
		return s + "/" + strconv.Itoa(n)
	}
	if name, ok := protocolNames[s]; ok {
		return name + "/" + s
	}
	return s + "/" + s
}

// ruleKey is _rule_to_key: rules with equal keys are duplicates.
func ruleKey(r api.Object) string {
	ether := str(r["ethertype"])
	norm := func(k string) string {
		v := r[k]
		if k == "remote_ip_prefix" {
			if v == nil || v == "0.0.0.0/0" || v == "::/0" {
				return "+"
			}
		}
		if v == nil {
			return "+"
		}
		if k == "protocol" {
			return protoKey(v, ether)
		}
		return pyfmt.Str(v)
	}
	parts := []string{}
	for _, k := range []string{"direction", "ethertype", "port_range_max", "port_range_min", "protocol",
		"remote_group_id", "remote_address_group_id", "remote_ip_prefix", "security_group_id"} {
		parts = append(parts, norm(k))
	}
	return strings.Join(parts, "_")
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func portOf(v any) (int64, bool) {
	if v == nil {
		return 0, false
	}
	n, ok := pyfmt.Int(v)
	return n, ok
}

// canonicalize and validate one rule without the database (Neutron's
// _make_canonical_* and _validate_* steps, in its order).
func validateRule(r api.Object) error {
	proto, hasProto := r["protocol"].(string)
	if r["ethertype"] == "IPv6" && hasProto {
		switch proto {
		case "icmp", "icmpv6":
			r["protocol"], proto = "ipv6-icmp", "ipv6-icmp"
		case "1":
			r["protocol"], proto = "58", "58"
		}
	}
	min, hasMin := portOf(r["port_range_min"])
	max, hasMax := portOf(r["port_range_max"])
	if hasMin && hasMax && min == 1 && max == 65535 {
		r["port_range_min"], r["port_range_max"] = nil, nil
		hasMin, hasMax = false, false
	}
	if hasMin || hasMax {
		if !hasProto || proto == "" {
			return badInput("SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
		}
		n := protoNumber(proto)
		switch {
		case portProtocols[n]:
			if hasMin && min == 0 || hasMax && max == 0 {
				return badInput("SecurityGroupInvalidPortValue", "Invalid value for port 0")
			}
			if !(hasMin && hasMax && min <= max) {
				return badInput("SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max")
			}
		case n == 1 || n == 58:
			if hasMin && (min < 0 || min > 255) {
				return icmpValue("type", "port_range_min", min)
			}
			if hasMax && (max < 0 || max > 255) {
				return icmpValue("code", "port_range_max", max)
			}
			if !hasMin && hasMax {
				return badInput("SecurityGroupMissingIcmpType", fmt.Sprintf(
					"ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", max))
			}
		default:
			return badInput("SecurityGroupInvalidProtocolForPort", fmt.Sprintf(
				"Ports cannot be specified for protocol %d. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.", n))
		}
	}
	if p, ok := r["remote_ip_prefix"].(string); ok && p != "" {
		n, err := netaddr.ParseNet(p)
		if err == nil && r["ethertype"] != fmt.Sprintf("IPv%d", n.Version()) {
			return badInput("SecurityGroupRuleParameterConflict", fmt.Sprintf(
				"Conflicting value ethertype %s for CIDR %s", pyfmt.Str(r["ethertype"]), p))
		}
	}
	if hasProto && r["ethertype"] == "IPv4" {
		switch proto {
		case "ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route",
			"41", "44", "58", "59", "60", "43":
			return badInput("SecurityGroupEthertypeConflictWithProtocol", fmt.Sprintf(
				"Invalid ethertype %s for protocol %s.", r["ethertype"], proto))
		}
	}
	remotes := 0
	for _, k := range []string{"remote_ip_prefix", "remote_group_id", "remote_address_group_id"} {
		if !isFalsy(r[k]) {
			remotes++
		}
	}
	if remotes > 1 {
		return badInput("SecurityGroupMultipleRemoteEntites", "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.")
	}
	return nil
}

func badInput(typ, msg string) error {
	return nerr.Typed(http.StatusBadRequest, typ, "%s", msg)
}

func icmpValue(field, attr string, v int64) error {
	return badInput("SecurityGroupInvalidIcmpValue", fmt.Sprintf(
		"Invalid value for ICMP %s (%s) %d. It must be 0 to 255.", field, attr, v))
}

// ruleBackend validates rule requests, bulk ones included, before the
// table stores them.
type ruleBackend struct {
	*store.Table
	c *Component
}

func (b ruleBackend) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	if len(items) > 1 {
		groups, projects := map[string]bool{}, map[string]bool{}
		for _, it := range items {
			groups[pyfmt.Str(it["security_group_id"])] = true
			if len(groups) > 1 {
				return nil, badInput("SecurityGroupNotSingleGroupRules", "Only allowed to update rules for one security profile at a time")
			}
			projects[pyfmt.Str(it["project_id"])] = true
			if len(projects) > 1 {
				return nil, badInput("SecurityGroupRulesNotSingleTenant", "Multiple tenant_ids in bulk security group rule create not allowed")
			}
		}
	}
	for _, it := range items {
		if err := validateRule(it); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, it := range items {
		k := ruleKey(it)
		if seen[k] {
			return nil, nerr.Conflict("DuplicateSecurityGroupRuleInPost", "Duplicate Security Group Rule in POST.")
		}
		seen[k] = true
	}
	// one transaction: the group's revision goes up once
	return b.Table.Create(context.WithValue(ctx, bulkKey{}, true), items)
}

func (b ruleBackend) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	for _, s := range q.Sorts {
		if s.Key == "normalized_cidr" {
			return nil, nerr.BadRequest("securitygrouprules", "'normalized_cidr' is an invalid attribute for sort key")
		}
	}
	project := callerProject(ctx)
	for _, f := range q.Filters {
		if (f.Attr == "project_id" || f.Attr == "tenant_id") && len(f.Values) > 0 {
			project = pyfmt.Str(f.Values[0])
			break
		}
	}
	if project != "" {
		if _, err := b.c.ensureDefault(ctx, project); err != nil {
			return nil, err
		}
	}
	out, err := b.Table.List(ctx, q)
	if err == nil && q.Limit == 0 {
		sortByEnum(out, q.Sorts)
	}
	return out, err
}

// directionOrder is the order of Neutron's direction column, a MySQL ENUM
// ('ingress', 'egress') that sorts by position.
var directionOrder = map[any]int{"ingress": 1, "egress": 2}

// sortByEnum re-sorts a result sorted on direction as the reference does
// (pages sorted on direction keep the alphabetical order).
func sortByEnum(objs []api.Object, sorts []api.Sort) {
	has := false
	for _, s := range sorts {
		has = has || s.Key == "direction"
	}
	if !has {
		return
	}
	cmp := func(a, b any, key string) int {
		if key == "direction" {
			return directionOrder[a] - directionOrder[b]
		}
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		case b == nil:
			return 1
		}
		x, xok := a.(int64)
		y, yok := b.(int64)
		if xok && yok {
			return int(x - y)
		}
		return strings.Compare(pyfmt.Str(a), pyfmt.Str(b))
	}
	sort.SliceStable(objs, func(i, j int) bool {
		for _, s := range sorts {
			key := s.Key
			if key == "tenant_id" {
				key = "project_id"
			}
			c := cmp(objs[i][key], objs[j][key], key)
			if c == 0 {
				continue
			}
			if s.Asc {
				return c < 0
			}
			return c > 0
		}
		return false
	})
}

// checkRuleRefs checks the remote group, the remote address group and the
// rule's group exist and are visible (to the rule's project).
func (c *Component) checkRuleRefs(ctx context.Context, tx *db.Tx, r api.Object) error {
	project := pyfmt.Str(r["project_id"])
	if rg := r["remote_group_id"]; !isFalsy(rg) {
		if err := c.checkGroup(ctx, tx, rg, project); err != nil {
			return err
		}
	}
	if ag := r["remote_address_group_id"]; !isFalsy(ag) {
		if err := c.checkAddressGroup(ctx, tx, ag, project); err != nil {
			return err
		}
	}
	return c.checkGroup(ctx, tx, r["security_group_id"], project)
}

// checkGroup is _check_security_group with the rule's project as the
// context's.
func (c *Component) checkGroup(ctx context.Context, q db.Querier, id any, project string) error {
	s, ok := id.(string)
	if !ok {
		return sgNotFound(pyfmt.Str(id))
	}
	cond, args := "id = ?", []any{s}
	if rc := callerCtx(ctx); !rc.IsAdmin {
		shared, sargs := sharedWith("securitygroups.id", project)
		cond += " AND (project_id = ? OR " + shared + ")"
		args = append(append(args, project), sargs...)
	}
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM securitygroups WHERE "+cond, args...).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return sgNotFound(s)
	}
	return nil
}

func (c *Component) checkAddressGroup(ctx context.Context, q db.Querier, id any, project string) error {
	notFound := nerr.NotFound("AddressGroupNotFound", "Address group %s could not be found.", pyfmt.Str(id))
	t := c.env.Table("address_groups")
	s, ok := id.(string)
	if t == nil || !ok {
		return notFound
	}
	cond, args := "t.id = ?", []any{s}
	if rc := callerCtx(ctx); !rc.IsAdmin {
		// the group's own project, or one it is shared with (RBAC)
		shared, sargs := sharing.VisibleCond("address_group", "t.id", project, sharing.Shared)
		cond += " AND (t.project_id = ? OR " + shared + ")"
		args = append(append(args, project), sargs...)
	}
	// the row lock keeps the group from being deleted before the rule
	// naming it commits
	lock := ""
	if tx, ok := q.(*db.Tx); ok {
		lock = tx.ForUpdate()
	}
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT t.id FROM "+t.Name+" t WHERE "+cond+lock+") x", args...).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// bulkKey marks the context of a bulk rule create: only its first rule
// bumps the group's revision (bumpedKey in the transaction).
type bulkKey struct{}

type bumpedKey struct{}

func (c *Component) beforeCreateRule(op *store.Op) error {
	ctx, tx, r := op.Ctx, op.Tx, op.New
	if err := c.checkRuleRefs(ctx, tx, r); err != nil {
		return err
	}
	sgID := r["security_group_id"].(string)
	// serialize rule changes of the group, then look for an equal rule
	if ctx.Value(bulkKey{}) != nil && tx.Value(bumpedKey{}) != nil {
		// a later rule of a bulk request
	} else if _, err := tx.Exec(ctx, "UPDATE securitygroups SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?", store.Now(), sgID); err != nil {
		return err
	} else {
		tx.Set(bumpedKey{}, true)
	}
	rows, err := tx.Query(ctx, "SELECT id, direction, ethertype, port_range_max, port_range_min, protocol, remote_group_id, remote_address_group_id, remote_ip_prefix, security_group_id FROM securitygrouprules WHERE security_group_id = ?"+lockingRead(tx), sgID)
	if err != nil {
		return err
	}
	key := ruleKey(r)
	defer rows.Close()
	for rows.Next() {
		var id string
		var dir, ether, proto, rg, ag, prefix, sg *string
		var pmax, pmin *int64
		if err := rows.Scan(&id, &dir, &ether, &pmax, &pmin, &proto, &rg, &ag, &prefix, &sg); err != nil {
			return err
		}
		o := api.Object{"direction": deref(dir), "ethertype": deref(ether), "port_range_max": derefInt(pmax),
			"port_range_min": derefInt(pmin), "protocol": deref(proto), "remote_group_id": deref(rg),
			"remote_address_group_id": deref(ag), "remote_ip_prefix": deref(prefix), "security_group_id": deref(sg)}
		if ruleKey(o) == key {
			return nerr.Conflict("SecurityGroupRuleExists", "Security group rule already exists. Rule id is %s.", id)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range []string{"remote_group_id", "remote_address_group_id", "remote_ip_prefix", "protocol"} {
		if isFalsy(r[k]) {
			r[k] = nil
		}
	}
	return c.setStdAttrID(ctx, tx, r)
}

func (c *Component) setStdAttrID(ctx context.Context, tx *db.Tx, r api.Object) error {
	var n int64
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(standard_attr_id), 0) + 1 FROM securitygrouprules").Scan(&n); err != nil {
		return err
	}
	r["standard_attr_id"] = n
	return nil
}

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func derefInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// lockingRead makes a MySQL read see the latest committed rows once a row
// lock serialized the writers (InnoDB reads a snapshot otherwise).
func lockingRead(q db.Querier) string {
	if _, ok := q.(*db.Tx); ok && q.Dialect() == db.MySQL {
		return " LOCK IN SHARE MODE"
	}
	return ""
}

// normalizedCIDR is the rule's remote_ip_prefix with the host bits cleared.
func normalizedCIDR(prefix any) any {
	s, ok := prefix.(string)
	if !ok || s == "" {
		return nil
	}
	n, err := netaddr.ParseNet(s)
	if err != nil {
		return nil
	}
	return n.CIDR().String()
}
