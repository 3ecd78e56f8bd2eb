package mechovn

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// ACL priorities of ML2/OVN.
const (
	prioDrop = 1001
	prioRule = 1002
)

// ensurePGDrop writes neutron_pg_drop and its two drop ACLs when missing (ML2/OVN's start-up).
func (d *Driver) ensurePGDrop(ctx context.Context) error {
	if d.pgByName(ctx, pgDropName) != nil {
		return nil
	}
	in := &nbdb.ACL{UUID: "udropin", Direction: nbdb.ACLDirectionFromLport, Priority: prioDrop, Action: nbdb.ACLActionDrop,
		Match: "inport == @" + pgDropName + " && ip"}
	out := &nbdb.ACL{UUID: "udropout", Direction: nbdb.ACLDirectionToLport, Priority: prioDrop, Action: nbdb.ACLActionDrop,
		Match: "outport == @" + pgDropName + " && ip"}
	pg := &nbdb.PortGroup{UUID: "upgdrop", Name: pgDropName, ACLs: []string{in.UUID, out.UUID}}
	_, err := d.nb.Txn().Create(in, out, pg).Commit(ctx)
	if err != nil && d.pgByName(ctx, pgDropName) != nil {
		return nil // another process made it
	}
	return err
}

// ensurePortGroup makes a port group a port is about to join exist.
func (d *Driver) ensurePortGroup(ctx context.Context, name string) error {
	if d.pgByName(ctx, name) != nil {
		return nil
	}
	if name == pgDropName {
		return d.ensurePGDrop(ctx)
	}
	id := strings.ReplaceAll(strings.TrimPrefix(name, "pg_"), "_", "-")
	sg, err := d.tables.sgs.Get(ctx, id, nil)
	if err != nil {
		return fmt.Errorf("security group %s: %w", id, err)
	}
	return d.syncSecurityGroup(ctx, sg)
}

// ruleACL is a rule's ACL as ML2/OVN writes it.
func ruleACL(sg, rule api.Object) *nbdb.ACL {
	pg := pgName(str(sg["id"]))
	action := nbdb.ACLActionAllowRelated
	if st, ok := sg["stateful"].(bool); ok && !st {
		action = nbdb.ACLActionAllowStateless
	}
	return &nbdb.ACL{Priority: prioRule, Action: action, Direction: aclDirection(rule), Match: ruleMatch(pg, rule),
		ExternalIDs: map[string]string{extRuleID: str(rule["id"])}}
}

func aclDirection(rule api.Object) nbdb.ACLDirection {
	if str(rule["direction"]) == "ingress" {
		return nbdb.ACLDirectionToLport
	}
	return nbdb.ACLDirectionFromLport
}

// protoNumbers are the protocol names Neutron turns into ip.proto numbers.
var protoNumbers = map[string]string{"ah": "51", "dccp": "33", "egp": "8", "esp": "50", "gre": "47", "igmp": "2",
	"ipip": "4", "ipv6-encap": "41", "ipv6-frag": "44", "ipv6-nonxt": "59", "ipv6-opts": "60", "ipv6-route": "43",
	"ospf": "89", "pgm": "113", "rsvp": "46", "udplite": "136", "vrrp": "112"}

// ruleMatch builds the ACL match of a rule (Neutron's acl.py).
func ruleMatch(pg string, rule api.Object) string {
	ingress := str(rule["direction"]) == "ingress"
	ip := "ip4"
	if str(rule["ethertype"]) == "IPv6" {
		ip = "ip6"
	}
	var b strings.Builder
	if ingress {
		b.WriteString("outport == @" + pg)
	} else {
		b.WriteString("inport == @" + pg)
	}
	b.WriteString(" && " + ip)
	side := ip + ".dst"
	if ingress {
		side = ip + ".src"
	}
	if p := str(rule["remote_ip_prefix"]); p != "" {
		if pf, err := netip.ParsePrefix(p); err == nil {
			p = pf.Masked().String()
		}
		b.WriteString(" && " + side + " == " + p)
	}
	if g := str(rule["remote_group_id"]); g != "" {
		b.WriteString(" && " + side + " == $" + pgName(g) + "_" + ip)
	}
	b.WriteString(protoMatch(rule, ip))
	return b.String()
}

func protoMatch(rule api.Object, ip string) string {
	proto := strings.ToLower(str(rule["protocol"]))
	pmin, hasMin := rule["port_range_min"], rule["port_range_min"] != nil
	pmax, hasMax := rule["port_range_max"], rule["port_range_max"] != nil
	switch proto {
	case "", "any":
		return ""
	case "tcp", "6", "udp", "17", "sctp", "132":
		name := map[string]string{"6": "tcp", "17": "udp", "132": "sctp"}[proto]
		if name == "" {
			name = proto
		}
		m := " && " + name
		switch {
		case hasMin && hasMax && intOf(pmin) == intOf(pmax):
			m += fmt.Sprintf(" && %s.dst == %d", name, intOf(pmin))
		case hasMin && hasMax:
			m += fmt.Sprintf(" && %s.dst >= %d && %s.dst <= %d", name, intOf(pmin), name, intOf(pmax))
		}
		return m
	case "icmp", "1", "ipv6-icmp", "icmpv6", "58":
		icmp := "icmp4"
		if ip == "ip6" {
			icmp = "icmp6"
		}
		m := " && " + icmp
		if hasMin {
			m += fmt.Sprintf(" && %s.type == %d", icmp, intOf(pmin))
		}
		if hasMax {
			m += fmt.Sprintf(" && %s.code == %d", icmp, intOf(pmax))
		}
		return m
	}
	if n, ok := protoNumbers[proto]; ok {
		proto = n
	}
	if _, err := strconv.Atoi(proto); err == nil {
		return " && ip.proto == " + proto
	}
	return ""
}

// syncSecurityGroup makes the group's port group and ACLs what its rules say.
func (d *Driver) syncSecurityGroup(ctx context.Context, sg api.Object) error {
	defer d.locked(resSecurityGroup, str(sg["id"]))()
	return d.writeSecurityGroup(ctx, sg)
}

func (d *Driver) writeSecurityGroup(ctx context.Context, sg api.Object) error {
	id := str(sg["id"])
	name := pgName(id)
	want := map[string]*nbdb.ACL{}
	for _, r := range objList(sg["security_group_rules"]) {
		want[str(r["id"])] = ruleACL(sg, r)
	}
	txn := d.nb.Txn()
	cur := d.pgByName(ctx, name)
	var add []string
	if cur != nil {
		d.diffACLs(ctx, txn, cur, want)
	}
	for rid, a := range want {
		a.UUID = ovn.NamedUUID("acl" + rid)
		txn.Create(a)
		add = append(add, a.UUID)
	}
	if cur == nil {
		pg := &nbdb.PortGroup{UUID: ovn.NamedUUID("pg" + id), Name: name, ACLs: add,
			ExternalIDs: map[string]string{extSGID: id}}
		txn.Create(pg)
	} else if len(add) > 0 {
		m := &nbdb.PortGroup{UUID: cur.UUID}
		txn.Mutate(m, model.Mutation{Field: &m.ACLs, Mutator: "insert", Value: add})
	}
	if _, err := txn.Commit(ctx); err != nil {
		if cur == nil && d.pgByName(ctx, name) != nil {
			return d.writeSecurityGroup(ctx, sg) // created meanwhile (by another process)
		}
		return err
	}
	return d.recordRevision(ctx, resSecurityGroup, id, intOf(sg["revision_number"]))
}

// diffACLs removes from want the ACLs the group already has as they should be, and deletes the
// group's other ACLs.
func (d *Driver) diffACLs(ctx context.Context, txn *ovn.Txn, pg *nbdb.PortGroup, want map[string]*nbdb.ACL) {
	var drop []string
	for _, u := range pg.ACLs {
		a := &nbdb.ACL{UUID: u}
		if err := d.nb.OVSDB().Get(ctx, a); err != nil {
			continue
		}
		rid := a.ExternalIDs[extRuleID]
		if w, ok := want[rid]; ok && w.Match == a.Match && w.Action == a.Action && w.Direction == a.Direction && w.Priority == a.Priority {
			delete(want, rid)
			continue
		}
		drop = append(drop, u)
	}
	if len(drop) > 0 {
		m := &nbdb.PortGroup{UUID: pg.UUID}
		txn.Mutate(m, model.Mutation{Field: &m.ACLs, Mutator: "delete", Value: drop})
	}
}

// deleteSecurityGroup removes the group's port group (its ACLs go with it).
func (d *Driver) deleteSecurityGroup(ctx context.Context, id string) error {
	defer d.locked(resSecurityGroup, id)()
	txn := d.nb.Txn()
	if pg := d.pgByName(ctx, pgName(id)); pg != nil {
		txn.Delete(&nbdb.PortGroup{UUID: pg.UUID})
	}
	if _, err := txn.Commit(ctx); err != nil {
		return err
	}
	return d.forgetRevision(ctx, resSecurityGroup, id)
}
