package l3

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// inPrefix: ip lies in prefix.
func inPrefix(ip string, pfx netip.Prefix) bool {
	a, _ := netaddr.ParseIP(ip)
	return a.IsValid() && pfx.IsValid() && pfx.Contains(a)
}

func invalidRoutes(routes []any, reason string) error {
	return nerr.Typed(400, "InvalidRoutes", "Invalid format for routes: %s, %s", pyfmt.Repr(routes), reason)
}

// checkRoutes is _validate_routes: at most max_routes, every nexthop on a
// subnet of one of the router's ports and none of their addresses.
func (p *Plugin) checkRoutes(ctx context.Context, tx *db.Tx, router string, routes []any, _ string) error {
	if len(routes) > p.maxRoutes {
		return nerr.Typed(400, "RoutesExhausted", "Unable to complete operation for %s. The number of routes exceeds the maximum %d.", router, p.maxRoutes)
	}
	ips, cidrs, err := routerAddrs(ctx, tx, router, "")
	if err != nil {
		return err
	}
	for _, r := range routes {
		hop := str(r.(map[string]any)["nexthop"])
		connected := false
		for _, c := range cidrs {
			connected = connected || inPrefix(hop, c)
		}
		if !connected {
			return invalidRoutes(routes, "the nexthop is not connected with router")
		}
		for _, ip := range ips {
			if sameIP(ip, hop) {
				return invalidRoutes(routes, "the nexthop is used by router")
			}
		}
	}
	return nil
}

func sameIP(a, b string) bool {
	x, _ := netaddr.ParseIP(a)
	y, _ := netaddr.ParseIP(b)
	return x.IsValid() && x == y
}

type route struct{ dst, hop string }

func routeOf(v any) route {
	m, _ := v.(map[string]any)
	return route{str(m["destination"]), str(m["nexthop"])}
}

// currentRoutes reads a router's routes.
func currentRoutes(ctx context.Context, q db.Querier, router string) ([]route, error) {
	rows, err := q.Query(ctx, "SELECT destination, nexthop FROM routerroutes WHERE router_id = ? ORDER BY destination, nexthop", router)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []route
	for rows.Next() {
		var r route
		if err := rows.Scan(&r.dst, &r.hop); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// replaceRoutes writes a router's routes (the difference only) and bumps
// its revision when they change.
func (p *Plugin) replaceRoutes(ctx context.Context, tx *db.Tx, router string, routes []any, bump bool) (bool, error) {
	cur, err := currentRoutes(ctx, tx, router)
	if err != nil {
		return false, err
	}
	want := map[route]bool{}
	for _, r := range routes {
		want[routeOf(r)] = true
	}
	have := map[route]bool{}
	changed := false
	for _, r := range cur {
		have[r] = true
		if !want[r] {
			changed = true
			if _, err := tx.Exec(ctx, "DELETE FROM routerroutes WHERE router_id = ? AND destination = ? AND nexthop = ?", router, r.dst, r.hop); err != nil {
				return false, err
			}
		}
	}
	for r := range want {
		if have[r] {
			continue
		}
		changed = true
		if _, err := tx.Exec(ctx, "INSERT INTO routerroutes (router_id, destination, nexthop) VALUES (?, ?, ?)", router, r.dst, r.hop); err != nil {
			if db.IsUniqueViolation(err) {
				return false, db.ErrRetry
			}
			return false, err
		}
	}
	if changed && bump {
		return true, p.routers.BumpRevision(ctx, tx, router)
	}
	return changed, nil
}

// addExtraRoutes is PUT /routers/{id}/add_extraroutes.
func (p *Plugin) addExtraRoutes(ctx context.Context, _ *api.Resource, id string, body map[string]any) (any, error) {
	return p.changeExtraRoutes(ctx, id, body, true)
}

// removeExtraRoutes is PUT /routers/{id}/remove_extraroutes.
func (p *Plugin) removeExtraRoutes(ctx context.Context, _ *api.Resource, id string, body map[string]any) (any, error) {
	return p.changeExtraRoutes(ctx, id, body, false)
}

func (p *Plugin) changeExtraRoutes(ctx context.Context, id string, body map[string]any, add bool) (any, error) {
	if err := checkDestinations(body); err != nil {
		return nil, err
	}
	req, _, err := p.routers.Res.PrepareBody(reqctxOf(ctx), body, false)
	if err != nil {
		return nil, err
	}
	given, _ := req[0]["routes"].([]any)
	var out api.Object
	err = p.env.DB.Write(ctx, func(tx *db.Tx) error {
		old, err := p.routers.GetTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		merged := mergeRoutes(old["routes"].([]any), given, add)
		if err := p.checkRoutes(ctx, tx, id, merged, ""); err != nil {
			return err
		}
		if _, err := p.replaceRoutes(ctx, tx, id, merged, true); err != nil {
			return err
		}
		out, err = p.routers.GetTx(adminCtx(ctx), tx, id, false)
		if err == nil {
			p.publishRouterUpdate(ctx, tx, old, out)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"router": rawRouter(out)}, nil
}

// checkDestinations: the extra-route actions parse every destination as
// netaddr does before any validation (a bad one is AddrFormatError).
func checkDestinations(body map[string]any) error {
	r, _ := body["router"].(map[string]any)
	routes, _ := r["routes"].([]any)
	for _, x := range routes {
		m, _ := x.(map[string]any)
		d, ok := m["destination"].(string)
		if !ok {
			continue
		}
		if _, err := netaddr.ParseNet(d); err != nil {
			return nerr.Typed(400, "AddrFormatError", "%s", err.Error())
		}
	}
	return nil
}

// checkRoutesWithout: the router's routes stay valid without port (its
// gateway being removed); the message lists the stored routes as Neutron's
// RouterRoute objects.
func (p *Plugin) checkRoutesWithout(ctx context.Context, tx *db.Tx, router, port string) error {
	routes, err := currentRoutes(ctx, tx, router)
	if err != nil || len(routes) == 0 {
		return err
	}
	_, cidrs, err := routerAddrs(ctx, tx, router, port)
	if err != nil {
		return err
	}
	for _, r := range routes {
		ok := false
		for _, c := range cidrs {
			ok = ok || inPrefix(r.hop, c)
		}
		if ok {
			continue
		}
		objs := make([]string, len(routes))
		for i, x := range routes {
			objs[i] = fmt.Sprintf("<neutron.db.models.l3.RouterRoute[object at %x] {destination='%s', nexthop='%s', router_id='%s'}>",
				0x7f0000000000+i*0x40, x.dst, x.hop, router)
		}
		return nerr.Typed(400, "InvalidRoutes", "Invalid format for routes: [%s], the nexthop is not connected with router", strings.Join(objs, ", "))
	}
	return nil
}

// routerAddrs returns the addresses of the ports whose device is router
// (but port) and the CIDRs of their subnets.
func routerAddrs(ctx context.Context, tx *db.Tx, router, port string) ([]string, []netip.Prefix, error) {
	rows, err := tx.Query(ctx, `SELECT a.ip_address, s.cidr FROM ports pt JOIN ipallocations a ON a.port_id = pt.id
		JOIN subnets s ON s.id = a.subnet_id WHERE pt.device_id = ? AND pt.id <> ?`, router, port)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ips []string
	var cidrs []netip.Prefix
	for rows.Next() {
		var ip, cidr string
		if err := rows.Scan(&ip, &cidr); err != nil {
			return nil, nil, err
		}
		pfx, _ := netaddr.Prefix(cidr)
		ips, cidrs = append(ips, ip), append(cidrs, pfx)
	}
	return ips, cidrs, rows.Err()
}

// mergeRoutes adds (or removes) given to current routes, duplicates once.
func mergeRoutes(cur, given []any, add bool) []any {
	seen := map[route]bool{}
	drop := map[route]bool{}
	if !add {
		for _, r := range given {
			drop[routeOf(r)] = true
		}
	}
	out := []any{}
	list := cur
	if add {
		list = append(append([]any{}, cur...), given...)
	}
	for _, r := range list {
		k := routeOf(r)
		if seen[k] || drop[k] {
			continue
		}
		seen[k] = true
		out = append(out, map[string]any{"destination": k.dst, "nexthop": k.hop})
	}
	return out
}

// rawRouter is the plugin's router dict as the extra-route actions return
// it, unfiltered: the internal gw_port_id and ha_vr_id included.
func rawRouter(r api.Object) api.Object {
	out := api.Object{}
	for k, v := range r {
		if k == "enable_snat" {
			continue
		}
		out[k] = v
	}
	if _, ok := out["ha_vr_id"]; !ok {
		out["ha_vr_id"] = int64(0)
	}
	out["tenant_id"] = r["project_id"]
	return out
}
