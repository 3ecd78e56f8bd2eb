package mechovn

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// Minimum bandwidth, as ML2/OVN's QoS extension writes it (Zed): the egress minimum_bandwidth
// rule of a port's effective policy is the Logical_Switch_Port option qos_min_rate (kbps, as a
// string); the key is removed when the policy goes or has no such rule. Ingress minimum
// bandwidth rules are accepted by the API but not enforced (Zed logs a warning), and floating IPs
// and router gateways never get a minimum rate. A policy whose rules in a direction are only a
// minimum bandwidth rule gives no QoS row in that direction (Zed 21.x fails the whole NB
// transaction there, bug 2101063; later releases skip the row, as here).

const optMinRate = "qos_min_rate"

// policyMinRate is a policy's egress minimum rate ("" for none).
func (d *Driver) policyMinRate(ctx context.Context, policy string) (string, error) {
	var kbps sql.NullInt64
	err := d.env.DB.QueryRow(ctx, "SELECT min_kbps FROM qos_minimum_bandwidth_rules WHERE qos_policy_id = ? AND direction = 'egress'", policy).Scan(&kbps)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !kbps.Valid {
		return "", nil
	}
	return strconv.FormatInt(kbps.Int64, 10), err
}

// writeMinRate makes the qos_min_rate option of a port's LSP rate (removed for "").
func (d *Driver) writeMinRate(ctx context.Context, id, rate string) error {
	defer d.locked(resPort, id)()
	lsp := d.lspByName(ctx, id)
	if lsp == nil {
		return nil
	}
	old, has := lsp.Options[optMinRate]
	if has == (rate != "") && old == rate {
		return nil
	}
	txn := d.nb.Txn()
	m := &nbdb.LogicalSwitchPort{UUID: lsp.UUID}
	if has {
		txn.Mutate(m, model.Mutation{Field: &m.Options, Mutator: "delete", Value: map[string]string{optMinRate: old}})
	}
	if rate != "" {
		txn.Mutate(m, model.Mutation{Field: &m.Options, Mutator: "insert", Value: map[string]string{optMinRate: rate}})
	}
	_, err := txn.Commit(ctx)
	return err
}

// portQoSDrift says whether a port's QoS rows or qos_min_rate differ from its effective policy's.
func (d *Driver) portQoSDrift(ctx context.Context, port api.Object, lsp *nbdb.LogicalSwitchPort) string {
	want, rate, err := d.portQoS(ctx, port)
	if err != nil {
		return ""
	}
	if lsp.Options[optMinRate] != rate {
		return "qos_min_rate differs from the port's QoS policy"
	}
	ls := d.switchByName(ctx, switchName(str(port["network_id"])))
	if ls == nil {
		return ""
	}
	if _, same := d.switchQoS(ctx, ls, extPortID, str(port["id"]), want); !same {
		return "QoS rows differ from the port's QoS policy"
	}
	return ""
}
