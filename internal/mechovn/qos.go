package mechovn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// QoS of ports, as ML2/OVN's QoS extension writes it: a port's effective policy (its own, else its
// network's; none for network device ports) gives at most one QoS row per direction on the port's
// switch, priority 2002, from-lport matching inport for egress and to-lport matching outport for
// ingress, with the bandwidth limit rule's rate and burst and (egress) the DSCP marking rule's mark
// as action, external_ids neutron:port_id. Rows follow the port, its network's policy and the
// policy's rules.

const (
	qosPriority = 2002
	extPortID   = "neutron:port_id"
)

// qosRules are a policy's rules OVN applies, by direction (egress, ingress).
type qosRules map[string]*nbdb.QoS

// policyRules reads a policy's bandwidth limit and DSCP marking rules as QoS rows of no port yet.
func (d *Driver) policyRules(ctx context.Context, policy string) (qosRules, error) {
	out := qosRules{}
	row := func(dir string) *nbdb.QoS {
		if out[dir] == nil {
			out[dir] = &nbdb.QoS{Priority: qosPriority}
		}
		return out[dir]
	}
	rows, err := d.env.DB.Query(ctx, "SELECT max_kbps, max_burst_kbps, direction FROM qos_bandwidth_limit_rules WHERE qos_policy_id = ?", policy)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var rate, burst sql.NullInt64
		var dir string
		if err := rows.Scan(&rate, &burst, &dir); err != nil {
			return nil, err
		}
		r := row(dir)
		r.Bandwidth = map[string]int{"rate": int(rate.Int64)}
		if burst.Int64 > 0 {
			r.Bandwidth["burst"] = int(burst.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var mark sql.NullInt64
	err = d.env.DB.QueryRow(ctx, "SELECT dscp_mark FROM qos_dscp_marking_rules WHERE qos_policy_id = ?", policy).Scan(&mark)
	if err == nil {
		row("egress").Action = map[string]int{"dscp": int(mark.Int64)}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}

// portPolicy is a port's effective QoS policy: its own, else its network's; none ("") for network
// device ports.
func (d *Driver) portPolicy(ctx context.Context, port map[string]any) (string, error) {
	owner := str(port["device_owner"])
	if strings.HasPrefix(owner, "network:") || strings.HasPrefix(owner, "neutron:") {
		return "", nil
	}
	var policy sql.NullString
	err := d.env.DB.QueryRow(ctx, "SELECT policy_id FROM qos_port_policy_bindings WHERE port_id = ?", str(port["id"])).Scan(&policy)
	if errors.Is(err, sql.ErrNoRows) {
		err = d.env.DB.QueryRow(ctx, "SELECT qos_policy_id FROM networks WHERE id = ?", str(port["network_id"])).Scan(&policy)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return policy.String, err
}

// portQoS are the QoS rows a port should have and its qos_min_rate ("" for none).
func (d *Driver) portQoS(ctx context.Context, port map[string]any) ([]*nbdb.QoS, string, error) {
	policy, err := d.portPolicy(ctx, port)
	if err != nil || policy == "" {
		return nil, "", err
	}
	id := str(port["id"])
	rows, err := d.qosRows(ctx, policy, id, "", "", map[string]string{extPortID: id})
	if err != nil {
		return nil, "", err
	}
	rate, err := d.policyMinRate(ctx, policy)
	return rows, rate, err
}

// qosRows are the QoS rows of a policy for traffic through port (with ip and resident: of the
// address ip on the chassis where resident is, for floating IPs), with external_ids ext.
func (d *Driver) qosRows(ctx context.Context, policy, port, ip, resident string, ext map[string]string) ([]*nbdb.QoS, error) {
	rules, err := d.policyRules(ctx, policy)
	if err != nil {
		return nil, err
	}
	var out []*nbdb.QoS
	for _, dir := range []string{"egress", "ingress"} {
		r := rules[dir]
		if r == nil {
			continue
		}
		r.Direction, r.Match = nbdb.QoSDirectionFromLport, fmt.Sprintf("inport == %q", port)
		if ip != "" {
			r.Match += fmt.Sprintf(" && ip4.src == %s && is_chassis_resident(%q)", ip, resident)
		}
		if dir == "ingress" {
			r.Direction, r.Match = nbdb.QoSDirectionToLport, fmt.Sprintf("outport == %q", port)
			if ip != "" {
				r.Match += fmt.Sprintf(" && ip4.dst == %s && is_chassis_resident(%q)", ip, resident)
			}
		}
		r.ExternalIDs = ext
		out = append(out, r)
	}
	return out, nil
}

// syncPortQoS makes the QoS rows of a port on its switch, and its LSP's qos_min_rate, those of its
// effective policy.
func (d *Driver) syncPortQoS(ctx context.Context, port map[string]any) error {
	if str(port["id"]) == "" {
		return nil
	}
	want, rate, err := d.portQoS(ctx, port)
	if err != nil {
		return err
	}
	if err := d.writePortQoS(ctx, str(port["id"]), str(port["network_id"]), want); err != nil {
		return err
	}
	return d.writeMinRate(ctx, str(port["id"]), rate)
}

// writePortQoS replaces a port's QoS rows on its network's switch with want (unless they are the same).
func (d *Driver) writePortQoS(ctx context.Context, id, netID string, want []*nbdb.QoS) error {
	return d.writeQoS(ctx, netID, extPortID, id, want)
}

// writeQoS replaces the QoS rows of a network's switch whose external_ids key is id with want
// (unless they are the same).
func (d *Driver) writeQoS(ctx context.Context, netID, key, id string, want []*nbdb.QoS) error {
	ls := d.switchByName(ctx, switchName(netID))
	if ls == nil {
		return nil
	}
	have, same := d.switchQoS(ctx, ls, key, id, want)
	if same {
		return nil
	}
	txn := d.nb.Txn()
	m := &nbdb.LogicalSwitch{UUID: ls.UUID}
	if len(have) > 0 {
		txn.Mutate(m, model.Mutation{Field: &m.QOSRules, Mutator: "delete", Value: have})
	}
	var add []string
	for i, q := range want {
		q.UUID = ovn.NamedUUID(fmt.Sprintf("qos%d", i))
		txn.Create(q)
		add = append(add, q.UUID)
	}
	if len(add) > 0 {
		txn.Mutate(m, model.Mutation{Field: &m.QOSRules, Mutator: "insert", Value: add})
	}
	_, err := txn.Commit(ctx)
	return err
}

// switchQoS are the QoS rows of a switch whose external_ids key is id, and whether they are exactly want.
func (d *Driver) switchQoS(ctx context.Context, ls *nbdb.LogicalSwitch, key, id string, want []*nbdb.QoS) ([]string, bool) {
	byDir := map[nbdb.QoSDirection]*nbdb.QoS{}
	for _, q := range want {
		byDir[q.Direction] = q
	}
	var have []string
	same := true
	for _, u := range ls.QOSRules {
		q := &nbdb.QoS{UUID: u}
		if d.nb.OVSDB().Get(ctx, q) != nil || q.ExternalIDs[key] != id {
			continue
		}
		have = append(have, u)
		if w := byDir[q.Direction]; w == nil || !sameQoS(q, w) {
			same = false
		}
	}
	return have, same && len(have) == len(want)
}

func sameQoS(a, b *nbdb.QoS) bool {
	return a.Direction == b.Direction && a.Match == b.Match && a.Priority == b.Priority &&
		len(a.Action) == len(b.Action) && (len(a.Action) == 0 || reflect.DeepEqual(a.Action, b.Action)) &&
		len(a.Bandwidth) == len(b.Bandwidth) && (len(a.Bandwidth) == 0 || reflect.DeepEqual(a.Bandwidth, b.Bandwidth)) &&
		reflect.DeepEqual(a.ExternalIDs, b.ExternalIDs)
}

// syncPortQoSByID rewrites the QoS rows of a port (if it still exists).
func (d *Driver) syncPortQoSByID(ctx context.Context, id string) error {
	p, err := d.tables.ports.Get(ctx, id, nil)
	if gone(err) {
		return nil
	} else if err != nil {
		return err
	}
	return d.syncPortQoS(ctx, p)
}

// eachID runs sync for every id a query selects.
func (d *Driver) eachID(ctx context.Context, sync func(context.Context, string) error, query string, args ...any) error {
	ids, err := db.Strings(ctx, d.env.DB, query, args...)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := sync(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// subscribeQoS follows the changes of QoS rules (the qos_policy_rule events of every type): the ports of the rule's policy (bound to it, or
// on a network bound to it without a policy of their own) get their rows rewritten.
func (d *Driver) subscribeQoS() {
	for _, ev := range []events.Event{events.AfterCreate, events.AfterUpdate, events.AfterDelete} {
		d.env.Bus.Subscribe("qos_policy_rule", ev, "mechovn", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
			policy := str(p.New["qos_policy_id"])
			if policy == "" {
				policy = str(p.Old["qos_policy_id"])
			}
			if policy == "" {
				return nil
			}
			return d.write(p.Ctx, func(ctx context.Context) error {
				err := d.eachID(ctx, d.syncPortQoSByID, `SELECT port_id FROM qos_port_policy_bindings WHERE policy_id = ?
					UNION SELECT p.id FROM ports p JOIN networks n ON n.id = p.network_id
					WHERE n.qos_policy_id = ? AND NOT EXISTS (SELECT 1 FROM qos_port_policy_bindings b WHERE b.port_id = p.id)`, policy, policy)
				if err != nil || d.l3 == nil {
					return err
				}
				err = d.eachID(ctx, d.syncFIPQoS, `SELECT fip_id FROM qos_fip_policy_bindings WHERE policy_id = ?
					UNION SELECT f.id FROM floatingips f JOIN networks n ON n.id = f.floating_network_id
					WHERE n.qos_policy_id = ? AND NOT EXISTS (SELECT 1 FROM qos_fip_policy_bindings b WHERE b.fip_id = f.id)`, policy, policy)
				if err != nil {
					return err
				}
				return d.eachID(ctx, d.syncRouterQoS, `SELECT router_id FROM qos_router_gw_policy_bindings WHERE policy_id = ?
					UNION SELECT r.id FROM routers r JOIN ports p ON p.id = r.gw_port_id JOIN networks n ON n.id = p.network_id
					WHERE n.qos_policy_id = ? AND NOT EXISTS (SELECT 1 FROM qos_router_gw_policy_bindings b WHERE b.router_id = r.id)`, policy, policy)
			})
		})
	}
}

// networkQoSChanged rewrites the QoS rows of a network's ports when its policy changes.
func (d *Driver) networkQoSChanged(ctx context.Context, old, cur map[string]any) error {
	if old == nil || str(old["qos_policy_id"]) == str(cur["qos_policy_id"]) {
		return nil
	}
	if err := d.eachID(ctx, d.syncPortQoSByID, "SELECT id FROM ports WHERE network_id = ?", str(cur["id"])); err != nil || d.l3 == nil {
		return err
	}
	if err := d.eachID(ctx, d.syncFIPQoS, "SELECT id FROM floatingips WHERE floating_network_id = ?", str(cur["id"])); err != nil {
		return err
	}
	return d.eachID(ctx, d.syncRouterQoS, "SELECT r.id FROM routers r JOIN ports p ON p.id = r.gw_port_id WHERE p.network_id = ?", str(cur["id"]))
}
