package qos

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
)

// vifSkipped are the vif types of ports without a binding: their vnic
// type decides which drivers apply (SKIPPED_VIF_TYPES).
var vifSkipped = []string{"unbound", "binding_failed"}

// portInfo is what rule validation reads of a port.
type portInfo struct {
	id, network, vifType, vnicType, deviceOwner string
}

// portsForValidation reads the ports matching cond (over ports t).
func portsForValidation(ctx context.Context, q db.Querier, cond string, args ...any) ([]portInfo, error) {
	rows, err := q.Query(ctx, "SELECT t.id, t.network_id, t.binding_vif_type, t.binding_vnic_type, t.device_owner FROM ports t WHERE "+cond+" ORDER BY t.id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []portInfo
	for rows.Next() {
		var pi portInfo
		if err := rows.Scan(&pi.id, &pi.network, &pi.vifType, &pi.vnicType, &pi.deviceOwner); err != nil {
			return nil, err
		}
		out = append(out, pi)
	}
	return out, rows.Err()
}

// portsUsing are the ports a policy applies to: bound to it, or on a
// network bound to it without a policy of their own.
func portsUsing(ctx context.Context, q db.Querier, policy string) ([]portInfo, error) {
	return portsForValidation(ctx, q, `t.id IN (SELECT port_id FROM qos_port_policy_bindings WHERE policy_id = ?)
		OR (t.network_id IN (SELECT id FROM networks WHERE qos_policy_id = ?)
			AND t.id NOT IN (SELECT port_id FROM qos_port_policy_bindings))`, policy, policy)
}

// firstPhysnet is the physical network of a network's first segment ("" if
// none).
func firstPhysnet(ctx context.Context, q db.Querier, network string) (string, error) {
	var pn sql.NullString
	err := q.QueryRow(ctx, "SELECT physical_network FROM network_segments WHERE network_id = ? ORDER BY segment_index, id LIMIT 1", network).Scan(&pn)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return pn.String, err
}

// validator checks rules against networks and ports within one operation
// (caching each network's first physnet).
type validator struct {
	ctx      context.Context
	q        db.Querier
	drivers  []*driver
	physnets map[string]string
}

func (v *validator) physnet(network string) (string, error) {
	if pn, ok := v.physnets[network]; ok {
		return pn, nil
	}
	pn, err := firstPhysnet(v.ctx, v.q, network)
	if err == nil {
		v.physnets[network] = pn
	}
	return pn, err
}

// forNetwork is a driver's validate_rule_for_network.
func (v *validator) forNetwork(d *driver, rule api.Object, network string) (bool, error) {
	if !d.supports(rule) {
		return false, nil
	}
	if d.physnetMin && rule["type"] == MinimumBandwidth {
		pn, err := v.physnet(network)
		return pn != "", err
	}
	return true, nil
}

func (v *validator) ruleForNetwork(rule api.Object, network string) (bool, error) {
	for _, d := range v.drivers {
		if ok, err := v.forNetwork(d, rule, network); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// ruleForPort is the driver manager's validate_rule_for_port.
func (v *validator) ruleForPort(rule api.Object, port portInfo) (bool, error) {
	for _, d := range v.drivers {
		if slices.Contains(vifSkipped, port.vifType) {
			if !slices.Contains(d.vnicTypes, port.vnicType) {
				continue
			}
		} else if !slices.Contains(d.vifTypes, port.vifType) {
			continue
		}
		if ok, err := v.forNetwork(d, rule, port.network); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

func (p *Plugin) newValidator(ctx context.Context, q db.Querier) *validator {
	return &validator{ctx: ctx, q: q, drivers: p.drivers, physnets: map[string]string{}}
}

// validatePolicyForNetwork is validate_policy_for_network.
func (v *validator) policyForNetwork(rules []api.Object, network string) error {
	for _, r := range rules {
		ok, err := v.ruleForNetwork(r, network)
		if err != nil {
			return err
		}
		if !ok {
			return notSupportedByNetwork(r["type"].(string), network)
		}
	}
	return nil
}

// policyForPorts is validate_policy_for_ports.
func (v *validator) policyForPorts(rules []api.Object, ports []portInfo) error {
	for _, port := range ports {
		for _, r := range rules {
			ok, err := v.ruleForPort(r, port)
			if err != nil {
				return err
			}
			if !ok {
				return notSupportedByPort(r["type"].(string), port.id)
			}
		}
	}
	return nil
}

// rejectPlacementBacked is reject_rule_update_for_bound_port: minimum
// rules of a policy that compute ports use are tracked in Placement.
func rejectPlacementBacked(ports []portInfo) error {
	for _, port := range ports {
		if strings.HasPrefix(port.deviceOwner, "compute:") {
			return placementBacked()
		}
	}
	return nil
}

// ---- the extension driver's checks ----

func (d *extDriver) plugin() *Plugin { return Of(d.env) }

func (d *extDriver) validateNetwork(ctx context.Context, q db.Querier, policy, network string) error {
	p := d.plugin()
	if p == nil {
		return nil
	}
	rules, err := rulesOf(ctx, q, []string{policy})
	if err != nil {
		return err
	}
	return p.newValidator(ctx, q).policyForNetwork(rules[policy], network)
}

func (d *extDriver) validatePorts(ctx context.Context, q db.Querier, policy string, ports []portInfo) error {
	p := d.plugin()
	if p == nil || len(ports) == 0 {
		return nil
	}
	rules, err := rulesOf(ctx, q, []string{policy})
	if err != nil {
		return err
	}
	return p.newValidator(ctx, q).policyForPorts(rules[policy], ports)
}

// validatePortByID validates the policy a port uses (its own, else its
// network's) for it.
func (d *extDriver) validatePortByID(ctx context.Context, q db.Querier, id string) error {
	var own, net sql.NullString
	err := q.QueryRow(ctx, `SELECT (SELECT b.policy_id FROM qos_port_policy_bindings b WHERE b.port_id = t.id),
		(SELECT n.qos_policy_id FROM networks n WHERE n.id = t.network_id) FROM ports t WHERE t.id = ?`, id).Scan(&own, &net)
	if err != nil {
		return err
	}
	policy := own.String
	if policy == "" {
		policy = net.String
	}
	if policy == "" {
		return nil
	}
	ports, err := portsForValidation(ctx, q, "t.id = ?", id)
	if err != nil {
		return err
	}
	return d.validatePorts(ctx, q, policy, ports)
}
