package l3

import (
	"context"
	"errors"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/store"
)

// gatewayKeys are the keys of external_gateway_info (and its sub-attribute
// policy rules).
var gatewayKeys = []string{"network_id", "enable_snat", "external_fixed_ips", "qos_policy_id"}

var gatewaySpecs = map[string]api.KeySpec{
	"network_id":         {Required: true, Validate: api.UUID},
	"enable_snat":        {Validate: isBool},
	"external_fixed_ips": {Validate: api.FixedIPs},
	"qos_policy_id":      {Validate: api.UUIDOrNone},
}

func isBool(v any) string {
	if _, ok := v.(bool); !ok {
		return "'" + api.PyStr(v) + "' is not a valid boolean value"
	}
	return ""
}

// convertGatewayInfo converts enable_snat of a well-formed
// external_gateway_info (type:dict_or_nodata converts after the key
// checks, raising InvalidInput).
func convertGatewayInfo(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 || m["network_id"] == nil {
		return v, nil
	}
	for k := range m {
		if _, known := gatewaySpecs[k]; !known {
			return v, nil
		}
	}
	if s, ok := m["enable_snat"]; ok {
		b, err := api.ToBool(s)
		if err != nil {
			return nil, err
		}
		m["enable_snat"] = b
	}
	return m, nil
}

// validateGatewayInfo is type:dict_or_nodata: null and {} mean none.
func validateGatewayInfo(v any) string {
	if v == nil {
		return ""
	}
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return ""
	}
	return api.ValidateDict(v, gatewaySpecs, gatewayKeys)
}

// gateway is a requested external_gateway_info; an empty network means
// "no gateway".
type gateway struct {
	network  string
	snat     bool
	fixedIPs []any // nil: not given
	info     map[string]any
}

// parseGateway checks the requested gateway network (visible, external)
// and returns the request, nil for none.
func (p *Plugin) parseGateway(ctx context.Context, tx *db.Tx, v any) (*gateway, error) {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return nil, nil
	}
	gw := &gateway{network: str(m["network_id"]), snat: p.snatDefault, info: m}
	if b, ok := m["enable_snat"].(bool); ok {
		gw.snat = b
	}
	if ips, ok := m["external_fixed_ips"].([]any); ok {
		gw.fixedIPs = ips
	}
	net, err := p.networks.GetTx(ctx, tx, gw.network, false)
	if err != nil {
		return nil, err
	}
	if net["router:external"] != true {
		return nil, badRouter("Network %s is not an external network", gw.network)
	}
	return gw, nil
}

// requestedSNAT is _get_enable_snat: the requested value, else the
// default.
func (p *Plugin) requestedSNAT(info any) bool {
	m, _ := info.(map[string]any)
	if b, ok := m["enable_snat"].(bool); ok {
		return b
	}
	return p.snatDefault
}

// checkGatewayIPs refuses a requested address that is a subnet's gateway
// IP.
func (p *Plugin) checkGatewayIPs(ctx context.Context, tx *db.Tx, gw *gateway) error {
	for _, f := range gw.fixedIPs {
		ip := str(f.(map[string]any)["ip_address"])
		if ip == "" {
			continue
		}
		n, err := first(ctx, tx, "SELECT id FROM subnets WHERE network_id = ? AND gateway_ip = ?", gw.network, ip)
		if err != nil {
			return err
		}
		if n != "" {
			return badRouter("External IP %s is the same as the gateway IP", ip)
		}
	}
	return nil
}

// addGateway creates the gateway port of router id on gw's network.
func (p *Plugin) addGateway(ctx context.Context, tx *db.Tx, id string, gw *gateway) error {
	if err := p.checkGatewayIPs(ctx, tx, gw); err != nil {
		return err
	}
	if err := p.checkGatewaySubnets(ctx, tx, id, gw.network); err != nil {
		return err
	}
	fields := obj{"network_id": gw.network, "tenant_id": "", "name": "",
		"device_owner": ml2.OwnerRouterGateway, "device_id": id, "admin_state_up": true}
	if gw.fixedIPs != nil {
		fields["fixed_ips"] = gw.fixedIPs
	}
	port, err := p.createPort(ctx, tx, fields)
	if err != nil {
		return err
	}
	pid := port["id"].(string)
	if err := addRouterPort(ctx, tx, id, pid, ml2.OwnerRouterGateway); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE routers SET gw_port_id = ?, enable_snat = ? WHERE id = ?", pid, gw.snat, id); err != nil {
		return err
	}
	p.publishAfter(ctx, tx, events.RouterGateway, events.AfterCreate, id, map[string]any{
		"network_id": gw.network, "port_id": pid, "gateway_ips": portIPs(port), "enable_snat": gw.snat})
	return p.ensureSNATPorts(ctx, tx, id)
}

// removeGateway deletes the gateway port of router r (refused while
// floating IPs need it); newNet is the network of the gateway replacing
// it ("" for none).
func (p *Plugin) removeGateway(ctx context.Context, tx *db.Tx, r api.Object, newNet string) error {
	pid := str(r["gw_port_id"])
	if pid == "" {
		return nil
	}
	id := r["id"].(string)
	net, err := first(ctx, tx, "SELECT network_id FROM ports WHERE id = ?", pid)
	if err != nil {
		return err
	}
	fip, err := first(ctx, tx, "SELECT id FROM floatingips WHERE router_id = ? LIMIT 1", id)
	if err != nil {
		return err
	}
	if fip != "" {
		return nerr.Conflict("RouterExternalGatewayInUseByFloatingIp",
			"Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or more floating IPs.", id, net)
	}
	if err := p.checkRoutesWithout(ctx, tx, id, pid); err != nil {
		return err
	}
	ips, err := db.Strings(ctx, tx, "SELECT ip_address FROM ipallocations WHERE port_id = ? ORDER BY ip_address", pid)
	if err != nil {
		return err
	}
	if err := p.deleteSNATPorts(ctx, tx, id, "", false); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE routers SET gw_port_id = NULL WHERE id = ?", id); err != nil {
		return err
	}
	if err := p.deletePort(ctx, tx, pid); err != nil {
		return err
	}
	p.publishAfter(ctx, tx, events.RouterGateway, events.AfterDelete, id, map[string]any{
		"network_id": net, "new_network_id": newNet, "port_id": pid, "gateway_ips": anyList(ips)})
	return nil
}

// errGatewayStage marks a failure after enable_snat was written: Neutron
// commits that write (and its revision) on its own.
type errGatewayStage struct {
	err  error
	id   string
	snat bool
}

func (e *errGatewayStage) Error() string { return e.err.Error() }
func (e *errGatewayStage) Unwrap() error { return e.err }

// updateGateway applies a requested gateway (network "" = none) to router
// old: the same network changes the addresses in place, another one
// replaces the port.
func (p *Plugin) updateGateway(ctx context.Context, tx *db.Tx, old api.Object, gw *gateway) error {
	id := old["id"].(string)
	cur, _ := old["external_gateway_info"].(map[string]any)
	curNet := ""
	if cur != nil {
		curNet = str(cur["network_id"])
	}
	bumps := 1
	var err error
	switch {
	case gw.network != "" && gw.network == curNet:
		err = p.updateGatewayIPs(ctx, tx, old, gw)
	default:
		if cur != nil {
			if err = p.removeGateway(ctx, tx, old, gw.network); err != nil {
				break
			}
			bumps += 2
		}
		if gw.network != "" {
			err = p.addGateway(ctx, tx, id, gw)
			bumps++
		}
	}
	if err != nil {
		snat := p.snatDefault
		if gw.network != "" {
			snat = gw.snat
		}
		return &errGatewayStage{err: err, id: id, snat: snat}
	}
	snat := p.snatDefault
	if gw.network != "" {
		snat = gw.snat
	}
	_, err = tx.Exec(ctx, "UPDATE routers SET enable_snat = ?, revision_number = revision_number + ?, updated_at = ? WHERE id = ?",
		snat, bumps, store.Now(), id)
	return err
}

// updateGatewayIPs changes the gateway port's addresses when
// external_fixed_ips is given and differs.
func (p *Plugin) updateGatewayIPs(ctx context.Context, tx *db.Tx, old api.Object, gw *gateway) error {
	if gw.fixedIPs == nil {
		return nil
	}
	if err := p.checkGatewayIPs(ctx, tx, gw); err != nil {
		return err
	}
	cur, _ := old["external_gateway_info"].(map[string]any)
	if sameFixedIPs(cur["external_fixed_ips"], gw.fixedIPs) {
		return nil
	}
	pid := str(old["gw_port_id"])
	if err := p.updatePort(ctx, tx, pid, obj{"fixed_ips": gw.fixedIPs}); err != nil {
		return err
	}
	p.publishAfter(ctx, tx, events.RouterGateway, events.AfterUpdate, old["id"].(string), map[string]any{
		"network_id": gw.network, "port_id": pid})
	return nil
}

// sameFixedIPs: the requested addresses and subnets are those the port
// has (a request naming only subnets matches when the subnets match).
func sameFixedIPs(cur any, req []any) bool {
	have, _ := cur.([]any)
	subs, ips := map[string]bool{}, map[string]bool{}
	for _, h := range have {
		m := h.(map[string]any)
		subs[str(m["subnet_id"])], ips[str(m["ip_address"])] = true, true
	}
	rsubs, rips := map[string]bool{}, map[string]bool{}
	for _, r := range req {
		m := r.(map[string]any)
		if s := str(m["subnet_id"]); s != "" {
			rsubs[s] = true
		}
		if ip := str(m["ip_address"]); ip != "" {
			rips[ip] = true
		}
	}
	if len(rips) > 0 && !equalSet(ips, rips) {
		return false
	}
	if len(rsubs) > 0 && !equalSet(subs, rsubs) {
		return false
	}
	return len(rips)+len(rsubs) > 0 || len(have) == 0
}

func equalSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// commitSNAT writes enable_snat and a revision of a gateway update that
// failed after Neutron's own transaction for them.
func (p *Plugin) commitSNAT(ctx context.Context, err error) error {
	var st *errGatewayStage
	if !errors.As(err, &st) {
		return err
	}
	werr := p.env.DB.Write(ctx, func(tx *db.Tx) error {
		_, e := tx.Exec(ctx, "UPDATE routers SET enable_snat = ?, revision_number = revision_number + 1, updated_at = ? WHERE id = ?",
			st.snat, store.Now(), st.id)
		return e
	})
	if werr != nil {
		return werr
	}
	return st.err
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
