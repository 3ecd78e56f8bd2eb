package portforwarding

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

func bad(format string, args ...any) error {
	return nerr.BadRequest("port_forwarding", fmt.Sprintf(format, args...))
}

// fip is the floating IP a forwarding is on, read with a row lock (the
// forwardings of one floating IP are decided one at a time).
type fip struct {
	id, address, network, port, router string
}

func lockFIP(ctx context.Context, tx *db.Tx, id string) (fip, error) {
	var f fip
	var port, router sql.NullString
	err := tx.QueryRow(ctx, "SELECT id, floating_ip_address, floating_network_id, fixed_port_id, router_id FROM floatingips WHERE id = ?"+tx.ForUpdate(),
		id).Scan(&f.id, &f.address, &f.network, &port, &router)
	if errors.Is(err, sql.ErrNoRows) {
		return f, nerr.NotFound("FloatingIPNotFound", "Floating IP %s could not be found", id)
	}
	f.port, f.router = port.String, router.String
	return f, err
}

// lockPort locks an internal port's row (its forwardings are decided one
// at a time); a port that does not exist is the later lookup's 404.
func lockPort(ctx context.Context, tx *db.Tx, id string) error {
	var got string
	err := tx.QueryRow(ctx, "SELECT id FROM ports WHERE id = ?"+tx.ForUpdate(), id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// spec is the ranges of a request: "N:M" (or "N") as given, or "N:N" for
// a single port; "" when the request gives neither.
type spec struct{ internal, external string }

func rangesOf(o api.Object) spec {
	side := func(name string) string {
		if r, ok := o[name+"_port_range"].(string); ok && r != "" {
			return r
		}
		if v, ok := o[name+"_port"]; ok && v != nil {
			return fmt.Sprintf("%s:%s", pyfmt.Str(v), pyfmt.Str(v))
		}
		return ""
	}
	return spec{side("internal"), side("external")}
}

// width is _get_port_range: M-N of "N:M", 0 for a single port.
func width(r string) int64 {
	lo, hi, ok := parseRange(r)
	if !ok {
		return 0
	}
	return hi - lo
}

// validateRanges is _validate_ranges: an internal range must be as wide
// as the external one.
func validateRanges(s spec) error {
	if in := width(s.internal); in > 0 && in != width(s.external) {
		return bad("Invalid ranges of internal and/or external ports. The relation between internal and external ports must be N-N or 1-N")
	}
	return nil
}

// collisions is _check_port_collisions: the internal range against the
// forwardings of the same internal socket and protocol, the external one
// against the floating IP's of the same protocol (self excluded).
func collisions(ctx context.Context, tx *db.Tx, s spec, self, fipID, port, protocol, ip string) error {
	if err := validateRanges(s); err != nil {
		return err
	}
	check := func(r, key, query string, args ...any) error {
		if r == "" {
			return nil
		}
		lo, hi, _ := parseRange(r)
		rows, err := tx.Query(ctx, "SELECT id, "+key+"_start, "+key+"_end FROM portforwardings WHERE "+query+" ORDER BY id", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var a, b int64
			if err := rows.Scan(&id, &a, &b); err != nil {
				return err
			}
			if id != self && max(a, lo) <= min(b, hi) {
				return bad("There is a port collision with the %s_range. The following ranges collides: %d:%d and %s",
					strings.TrimSuffix(key, "_start"), a, b, r)
			}
		}
		return rows.Err()
	}
	if err := check(s.internal, "internal_port", "internal_neutron_port_id = ? AND protocol = ? AND internal_ip_address = ?", port, protocol, ip); err != nil {
		return err
	}
	return check(s.external, "external_port", "floatingip_id = ? AND protocol = ?", fipID, protocol)
}

// bindingFIP is _check_port_has_binding_floating_ip.
func bindingFIP(ctx context.Context, tx *db.Tx, port string, ip any) error {
	var id, addr string
	err := tx.QueryRow(ctx, "SELECT id, floating_ip_address FROM floatingips WHERE fixed_port_id = ? ORDER BY id LIMIT 1", port).Scan(&id, &addr)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return nerr.Conflict("PortHasBindingFloatingIP",
		"Cannot create port forwarding to floating IP %s (%s) with port %s using fixed IP %s, as that port already has a binding floating IP.",
		addr, id, port, pyfmt.Str(ip))
}

// fixedIPs are a port's fixed IPs as Neutron's messages print them.
func fixedIPs(pt api.Object, v4only bool) ([]map[string]any, string) {
	var out []map[string]any
	var reprs []string
	l, _ := pt["fixed_ips"].([]any)
	for _, f := range l {
		m, _ := f.(map[string]any)
		ip, _ := m["ip_address"].(string)
		if a, err := netip.ParseAddr(ip); v4only && (err != nil || !a.Is4()) {
			continue
		}
		out = append(out, m)
		reprs = append(reprs, fmt.Sprintf("{'subnet_id': %s, 'ip_address': %s}", pyfmt.Repr(m["subnet_id"]), pyfmt.Repr(ip)))
	}
	return out, "[" + strings.Join(reprs, ", ") + "]"
}

func sameIP(a, b string) bool {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	return errA == nil && errB == nil && x == y
}

// findRouter is _find_a_router_for_fip_port_forwarding: the internal
// port (as the caller sees it) must have an IPv4 address, the requested
// one when given (filled in when not), and reach the floating IP's
// network through a router.
func (p *Plugin) findRouter(ctx context.Context, tx *db.Tx, o api.Object, f fip) (string, error) {
	portID, _ := o["internal_port_id"].(string)
	pt, err := p.ports.GetTx(ctx, tx, portID, true)
	if err != nil {
		return "", err
	}
	v4, repr := fixedIPs(pt, true)
	if len(v4) == 0 {
		return "", bad("Requested internal port %s must allocate an IPv4 address at least.", portID)
	}
	ip, _ := o["internal_ip_address"].(string)
	match := v4[0]
	if ip != "" {
		match = nil
		for _, m := range v4 {
			if a, _ := m["ip_address"].(string); sameIP(a, ip) {
				match = m
				break
			}
		}
		if match == nil {
			return "", bad("Requested internal IP address %s is not suitable for internal neutron port %s, as its fixed_ips are %s", ip, portID, repr)
		}
	}
	addr, _ := match["ip_address"].(string)
	o["internal_ip_address"] = addr
	r, err := p.router.ReachableRouter(ctx, tx, f.network, portID, addr)
	if e, ok := nerr.As(err); ok && e.Type == "ExternalGatewayForFloatingIPNotFound" {
		return "", bad("External network %s is not reachable from subnet %s. Cannot set Port forwarding for port %s with Floating IP %s",
			f.network, pyfmt.Str(match["subnet_id"]), portID, f.id)
	}
	return r, err
}

// routerMatch is _check_router_match: a floating IP already routed by
// another router cannot forward through this one.
func routerMatch(ctx context.Context, tx *db.Tx, f fip, router string, o api.Object) error {
	if f.router == "" || f.router == router {
		return nil
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM portforwardings WHERE floatingip_id = ? AND internal_ip_address = ? AND internal_port_start = ? AND internal_port_end = ?",
		f.id, o["internal_ip_address"], o["internal_port"], o["internal_port"]).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return bad("Floating IP %s with params: internal_ip_address: %s, internal_port: %s already exists",
			f.id, pyfmt.Str(o["internal_ip_address"]), pyfmt.Str(o["internal_port"]))
	}
	return bad("The Floating IP %s had been set on router %s, the internal Neutron port %s can not reach it",
		f.id, f.router, pyfmt.Str(o["internal_port_id"]))
}

// setRanges stores the request's ranges as the row's columns.
func setRanges(o api.Object, s spec) {
	for side, r := range map[string]string{"internal": s.internal, "external": s.external} {
		if lo, hi, ok := parseRange(r); ok {
			o[side+"_port_start"], o[side+"_port_end"] = lo, hi
		}
	}
	for _, k := range []string{"internal_port", "external_port", "internal_port_range", "external_port_range",
		"project_id", "tenant_id", "ext_parent_floatingip_id"} {
		delete(o, k)
	}
}

// opFIP keeps the forwarding's floating IP for the After hooks.
type opFIP struct{}

// beforeCreate is create_floatingip_port_forwarding's checks, in its
// order.
func (p *Plugin) beforeCreate(op *store.Op) error {
	ctx, tx, o := op.Ctx, op.Tx, op.New
	f, err := lockFIP(ctx, tx, fmt.Sprint(o["floatingip_id"]))
	if err != nil {
		return err
	}
	s := rangesOf(o)
	if s.internal == "" || s.external == "" {
		return bad("A port forwarding needs internal_port or internal_port_range, and external_port or external_port_range")
	}
	port, proto, ip := fmt.Sprint(o["internal_port_id"]), fmt.Sprint(o["protocol"]), fmt.Sprint(o["internal_ip_address"])
	if err := lockPort(ctx, tx, port); err != nil {
		return err
	}
	if err := collisions(ctx, tx, s, "", f.id, port, proto, ip); err != nil {
		return err
	}
	if err := bindingFIP(ctx, tx, port, o["internal_ip_address"]); err != nil {
		return err
	}
	if f.port != "" {
		return nerr.Conflict("FloatingIPPortAlreadyAssociated",
			"Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
			f.address, f.id, port, ip, f.network)
	}
	router, err := p.findRouter(ctx, tx, o, f)
	if err != nil {
		return err
	}
	if err := routerMatch(ctx, tx, f, router, o); err != nil {
		return err
	}
	if f.router == "" {
		if _, err := tx.Exec(ctx, "UPDATE floatingips SET router_id = ?, fixed_port_id = NULL WHERE id = ?", router, f.id); err != nil {
			return err
		}
	}
	setRanges(o, s)
	op.Set(opFIP{}, f.id)
	return nil
}
