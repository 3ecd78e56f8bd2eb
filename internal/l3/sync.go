package l3

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
)

// SyncRouters returns the routers ids (every router when ids is empty) as
// Neutron's L3 RPC sync_routers returns them (l3_db.get_sync_data): each
// router dict carries gw_port_id, enable_snat, gw_port (the gateway port
// dict or absent), _interfaces (its interface ports) and _floatingips
// (the floating IPs whose router_id is the router). Every port carries
// "subnets" (id, cidr, gateway_ip, dns_nameservers, ipv6_ra_mode,
// subnetpool_id of each subnet of its fixed IPs), "extra_subnets" (the
// other subnets of its network), "address_scopes" {"4": …, "6": …},
// "mtu" (its network's) and a "prefixlen" in each fixed IP. Unknown ids
// are left out. It reads one snapshot; ctx needs no caller (admin view).
func (p *Plugin) SyncRouters(ctx context.Context, routerIDs []string) ([]map[string]any, error) {
	ctx = adminCtx(ctx)
	var out []map[string]any
	err := p.env.DB.Read(ctx, func(q *db.Tx) error {
		routers, err := p.syncRouterRows(ctx, q, routerIDs)
		if err != nil {
			return err
		}
		out = make([]map[string]any, 0, len(routers))
		for _, r := range routers {
			d, err := p.syncRouter(ctx, q, r)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

func (p *Plugin) syncRouterRows(ctx context.Context, q *db.Tx, ids []string) ([]api.Object, error) {
	var out []api.Object
	if len(ids) == 0 {
		var err error
		if ids, err = db.Strings(ctx, q, "SELECT id FROM routers ORDER BY id"); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		r, err := p.routers.GetTx(ctx, q, id, false)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (p *Plugin) syncRouter(ctx context.Context, q *db.Tx, r api.Object) (map[string]any, error) {
	d := rawRouter(r)
	id := r["id"].(string)
	ports, err := db.Strings(ctx, q, "SELECT port_id FROM routerports WHERE router_id = ? ORDER BY port_id", id)
	if err != nil {
		return nil, err
	}
	ifaces := []any{}
	for _, pid := range ports {
		port, err := p.syncPort(ctx, q, pid)
		if err != nil {
			return nil, err
		}
		switch {
		case port == nil:
		case pid == str(r["gw_port_id"]):
			d["gw_port"] = port
		case contains(interfaceOwners, str(port["device_owner"])):
			ifaces = append(ifaces, port)
		}
	}
	d["_interfaces"] = ifaces
	fips, err := p.fipsOfRouter(ctx, q, id)
	if err != nil {
		return nil, err
	}
	d["_floatingips"] = fips
	return d, nil
}

// syncPort is a port dict with the subnets of its addresses (nil when
// the port is gone).
func (p *Plugin) syncPort(ctx context.Context, q *db.Tx, id string) (map[string]any, error) {
	port, err := p.ports.GetTx(ctx, q, id, false)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	out := map[string]any{}
	for k, v := range port {
		out[k] = v
	}
	ids := portSubnets(port)
	subs, err := subnetsByIDs(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	all, err := networkSubnets(ctx, q, str(port["network_id"]))
	if err != nil {
		return nil, err
	}
	dns, err := nameservers(ctx, q, str(port["network_id"]))
	if err != nil {
		return nil, err
	}
	list, extra := []any{}, []any{}
	for _, s := range all {
		sd := map[string]any{"id": s.ID, "cidr": s.CIDR, "gateway_ip": nilIfEmpty(s.Gateway),
			"dns_nameservers": dns[s.ID], "ipv6_ra_mode": nilIfEmpty(s.RAMode), "subnetpool_id": nil}
		if contains(ids, s.ID) {
			list = append(list, sd)
		} else {
			extra = append(extra, sd)
		}
	}
	prefixes := map[string]int{}
	for _, s := range subs {
		prefixes[s.ID] = s.prefix.Bits()
	}
	fixed := []any{}
	for _, f := range port["fixed_ips"].([]any) {
		m := f.(map[string]any)
		fixed = append(fixed, map[string]any{"subnet_id": m["subnet_id"], "ip_address": m["ip_address"],
			"prefixlen": prefixes[str(m["subnet_id"])]})
	}
	out["fixed_ips"], out["subnets"], out["extra_subnets"] = fixed, list, extra
	out["address_scopes"] = map[string]any{"4": nil, "6": nil}
	var mtu int64
	if err := q.QueryRow(ctx, "SELECT COALESCE(mtu, 0) FROM networks WHERE id = ?", port["network_id"]).Scan(&mtu); err != nil && !isNoRows(err) {
		return nil, err
	}
	out["mtu"] = mtu
	return out, nil
}

func nameservers(ctx context.Context, q *db.Tx, network string) (map[string][]any, error) {
	rows, err := q.Query(ctx, `SELECT d.subnet_id, d.address FROM dnsnameservers d JOIN subnets s ON s.id = d.subnet_id
		WHERE s.network_id = ? ORDER BY d.subnet_id, d.ord`, network)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]any{}
	for rows.Next() {
		var s, a string
		if err := rows.Scan(&s, &a); err != nil {
			return nil, err
		}
		out[s] = append(out[s], a)
	}
	return out, rows.Err()
}

// fipsOfRouter returns the floating IPs whose router_id is router.
func (p *Plugin) fipsOfRouter(ctx context.Context, q *db.Tx, router string) ([]any, error) {
	ids, err := db.Strings(ctx, q, "SELECT id FROM floatingips WHERE router_id = ? ORDER BY id", router)
	if err != nil || p.fips == nil {
		return []any{}, err
	}
	out := []any{}
	for _, id := range ids {
		f, err := p.fips.GetTx(ctx, q, id, false)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
