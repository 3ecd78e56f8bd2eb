package ml2

import (
	"context"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// ---- delete ----

func (p *Plugin) beforeDeletePort(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.Old
	netID, _ := obj["network_id"].(string)
	mac, _ := obj["mac_address"].(string)
	if _, err := tx.Exec(ctx, "DELETE FROM ipallocations WHERE port_id = ?", obj["id"]); err != nil {
		return err
	}
	if err := writeBindingLevels(ctx, tx, op.ID, nil); err != nil {
		return err
	}
	return releaseMAC(ctx, tx, netID, mac)
}

// networkDeleteCleanup refuses to delete a network with ports other than
// DHCP (and other automatically deleted) ones, deletes those, then the
// subnets.
func (p *Plugin) networkDeleteCleanup(ctx context.Context, tx *db.Tx, net api.Object) error {
	id := net["id"].(string)
	args := []any{id}
	for _, o := range autoDeletePortOwners {
		args = append(args, o)
	}
	inUse, err := db.Strings(ctx, tx, "SELECT id FROM ports WHERE network_id = ? AND device_owner NOT IN ("+store.Placeholders(len(autoDeletePortOwners))+") ORDER BY device_owner, id", args...)
	if err != nil {
		return err
	}
	if len(inUse) > 0 {
		return nerr.Conflict("NetworkInUse", "Unable to complete operation on network %s. There are one or more ports still in use on the network, id for these ports is: %s.", id, strings.Join(inUse, ","))
	}
	auto, err := db.Strings(ctx, tx, "SELECT id FROM ports WHERE network_id = ?", id)
	if err != nil {
		return err
	}
	admin := reqctx.With(ctx, &reqctx.Context{IsAdmin: true})
	for _, pid := range auto {
		if err := p.ports.DeleteTx(admin, tx, pid, nil); err != nil {
			return err
		}
	}
	return p.deleteNetworkSubnets(ctx, tx, id)
}

// ---- loading ----

// dnsAssignment is one entry of a port's dns_assignment, computed on every
// read and written straight into the response.
type dnsAssignment struct{ ip, hostname, fqdn string }

// AppendJSON writes {"fqdn": ..., "hostname": ..., "ip_address": ...}.
func (d dnsAssignment) AppendJSON(b []byte) []byte {
	b = append(b, `{"fqdn":`...)
	b = api.AppendString(b, d.fqdn)
	b = append(b, `,"hostname":`...)
	b = api.AppendString(b, d.hostname)
	b = append(b, `,"ip_address":`...)
	b = api.AppendString(b, d.ip)
	return append(b, '}')
}

// MarshalJSON writes the same for encoding/json (the RPC side sends
// ports to the agents with it).
func (d dnsAssignment) MarshalJSON() ([]byte, error) { return d.AppendJSON(nil), nil }

// dnsHostReplacer turns an address into a host label (host-10-0-0-3).
var dnsHostReplacer = strings.NewReplacer(".", "-", ":", "-")

func (p *Plugin) loadPorts(ctx context.Context, q db.Querier, objs []api.Object) error {
	for _, o := range objs {
		o["resource_request"] = nil
		if s, ok := o["fixed_ips"].(string); ok {
			o["fixed_ips"] = decodeFixedIPs(s)
		}
	}
	domain := p.env.Config.String("DEFAULT", "dns_domain")
	if domain != "" && !strings.HasSuffix(domain, ".") {
		domain += "."
	}
	stored := p.dnsNamesStored()
	for _, o := range objs {
		name := ""
		if stored {
			name, _ = o["dns_name"].(string)
		} else {
			o["dns_name"] = ""
		}
		fixed := o["fixed_ips"].([]any)
		assign := make([]any, 0, len(fixed))
		for _, f := range fixed {
			ip := f.(map[string]any)["ip_address"].(string)
			var host, fqdn string
			if name != "" {
				host, fqdn = name, name
				if !strings.HasSuffix(name, ".") {
					fqdn = name + "." + domain
				}
			} else {
				host = "host-" + dnsHostReplacer.Replace(ip)
				fqdn = host
				if domain != "" {
					fqdn = host + "." + domain
				}
			}
			assign = append(assign, dnsAssignment{ip: ip, hostname: host, fqdn: fqdn})
		}
		o["dns_assignment"] = assign
	}
	return nil
}

// ---- filters ----

// fixedIPsFilter renders fixed_ips=ip_address=...&fixed_ips=subnet_id=...
// (and ip_address_substr, ip-substring-filtering).
func fixedIPsFilter(_ context.Context, values []any) (string, []any) {
	var conds []string
	var args []any
	for _, v := range values {
		m, _ := v.(map[string][]string)
		if ips := m["ip_address"]; len(ips) > 0 {
			conds = append(conds, "t.id IN (SELECT port_id FROM ipallocations WHERE ip_address IN ("+store.Placeholders(len(ips))+"))")
			for _, ip := range ips {
				args = append(args, ip)
			}
		}
		if subs := m["subnet_id"]; len(subs) > 0 {
			conds = append(conds, "t.id IN (SELECT port_id FROM ipallocations WHERE subnet_id IN ("+store.Placeholders(len(subs))+"))")
			for _, s := range subs {
				args = append(args, s)
			}
		}
		if subs := m["ip_address_substr"]; len(subs) > 0 {
			var likes []string
			for _, s := range subs {
				likes = append(likes, "ip_address LIKE ?")
				args = append(args, "%"+s+"%")
			}
			conds = append(conds, "t.id IN (SELECT port_id FROM ipallocations WHERE "+strings.Join(likes, " OR ")+")")
		}
	}
	return strings.Join(conds, " AND "), args
}

// macFilter compares sanitized MACs case-insensitively.
func macFilter(_ context.Context, values []any) (string, []any) {
	var args []any
	for _, v := range values {
		args = append(args, strings.ToLower(api.SanitizeMAC(pyfmt.Str(v))))
	}
	if len(args) == 0 {
		return "1 = 0", nil
	}
	return "LOWER(t.mac_address) IN (" + store.Placeholders(len(args)) + ")", args
}
