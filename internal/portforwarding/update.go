package portforwarding

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

// beforeUpdate is update_floatingip_port_forwarding's checks, in its
// order.
func (p *Plugin) beforeUpdate(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	f, err := lockFIP(ctx, tx, fmt.Sprint(old["floatingip_id"]))
	if err != nil {
		return err
	}
	if port, _ := ch["internal_port_id"].(string); port != "" {
		if err := lockPort(ctx, tx, port); err != nil {
			return err
		}
		if err := bindingFIP(ctx, tx, port, ch["internal_ip_address"]); err != nil {
			return err
		}
		if port != old["internal_port_id"] {
			router, err := p.findRouter(ctx, tx, ch, f)
			if err != nil {
				return err
			}
			if err := routerMatch(ctx, tx, f, router, ch); err != nil {
				return err
			}
		}
	}
	if ch["internal_ip_address"] != nil || ch["internal_port"] != nil {
		for _, k := range []string{"internal_ip_address", "internal_port"} {
			if ch[k] == nil {
				ch[k] = old[k]
			}
		}
	}
	merged := api.Object{}
	for k, v := range old {
		merged[k] = v
	}
	for k, v := range ch {
		merged[k] = v
	}
	if err := p.checkUpdate(ctx, tx, merged); err != nil {
		return err
	}
	s := rangesOf(ch)
	if s != (spec{}) {
		if err := collisions(ctx, tx, s, op.ID, f.id, fmt.Sprint(merged["internal_port_id"]),
			fmt.Sprint(merged["protocol"]), fmt.Sprint(merged["internal_ip_address"])); err != nil {
			return err
		}
	}
	setRanges(ch, s)
	op.Set(opFIP{}, f.id)
	op.Set(opPort{}, merged["internal_port_id"])
	return nil
}

type opPort struct{}

// checkUpdate is _check_port_forwarding_update: the internal address is
// one of the internal port's, and no other forwarding of the floating IP
// and protocol has the same external port or internal socket.
func (p *Plugin) checkUpdate(ctx context.Context, tx *db.Tx, pf api.Object) error {
	pt, err := p.ports.GetTx(ctx, tx, fmt.Sprint(pf["internal_port_id"]), false)
	if err != nil {
		return err
	}
	all, repr := fixedIPs(pt, false)
	ip := fmt.Sprint(pf["internal_ip_address"])
	found := false
	for _, m := range all {
		if a, _ := m["ip_address"].(string); sameIP(a, ip) {
			found = true
		}
	}
	if !found {
		return bad("The internal IP does not correspond to an address on the internal port, which has fixed_ips %s", repr)
	}
	others, err := p.table.ListQ(ctx, tx, &api.Query{Filters: []api.Filter{
		{Attr: "floatingip_id", Values: []any{pf["floatingip_id"]}}, {Attr: "protocol", Values: []any{pf["protocol"]}}}})
	if err != nil {
		return err
	}
	same := func(a, b any) bool { return a != nil && b != nil && fmt.Sprint(a) == fmt.Sprint(b) }
	for _, o := range others {
		if o["id"] == pf["id"] {
			continue
		}
		if same(o["external_port"], pf["external_port"]) {
			return bad("Another port forwarding entry with the same attributes already exists, conflicting values are {'floating_ip_address': %s, 'external_port': %s}",
				pyfmt.Repr(o["floating_ip_address"]), pyfmt.Str(o["external_port"]))
		}
		if o["internal_port_id"] == pf["internal_port_id"] && sameIP(fmt.Sprint(o["internal_ip_address"]), ip) &&
			same(o["internal_port"], pf["internal_port"]) {
			return bad("Another port forwarding entry with the same attributes already exists, conflicting values are {'internal_port_id': %s, 'internal_ip_address': %s, 'internal_port': %s}",
				pyfmt.Repr(o["internal_port_id"]), pyfmt.Repr(ip), pyfmt.Str(o["internal_port"]))
		}
	}
	return nil
}

// bumped marks the rows whose revision a transaction already bumped
// (Neutron bumps a related object once per transaction).
type bumped struct{ table, id string }

// bump increments the revision of a row of t once per transaction.
func bump(ctx context.Context, tx *db.Tx, t *store.Table, id string) error {
	if id == "" || tx.Value(bumped{t.Name, id}) != nil {
		return nil
	}
	tx.Set(bumped{t.Name, id}, true)
	return t.BumpRevision(ctx, tx, id)
}

// touch is the revision bump a forwarding's change gives its floating IP
// and its internal port (revises_on_change).
func (p *Plugin) touch(op *store.Op) error {
	fipID, _ := op.Value(opFIP{}).(string)
	port, _ := op.Value(opPort{}).(string)
	if port == "" {
		port, _ = op.New["internal_port_id"].(string)
	}
	if err := bump(op.Ctx, op.Tx, p.fips, fipID); err != nil {
		return err
	}
	return bump(op.Ctx, op.Tx, p.ports, port)
}

// afterDelete frees the floating IP of its last forwarding's router
// (delete_floatingip_port_forwarding) and bumps the related revisions.
func (p *Plugin) afterDelete(op *store.Op) error {
	fipID, _ := op.Old["floatingip_id"].(string)
	var n int
	if err := op.Tx.QueryRow(op.Ctx, "SELECT COUNT(*) FROM portforwardings WHERE floatingip_id = ?", fipID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := op.Tx.Exec(op.Ctx, "UPDATE floatingips SET router_id = NULL WHERE id = ?", fipID); err != nil {
			return err
		}
	}
	if err := bump(op.Ctx, op.Tx, p.fips, fipID); err != nil {
		return err
	}
	port, _ := op.Old["internal_port_id"].(string)
	if op.Tx.Value(goingPort{port}) != nil {
		return nil
	}
	return bump(op.Ctx, op.Tx, p.ports, port)
}

// goingPort marks a port whose deletion deletes its forwardings.
type goingPort struct{ id string }
