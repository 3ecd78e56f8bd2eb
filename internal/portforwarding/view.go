package portforwarding

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"
)

// ports sets the API's port attributes of a forwarding from its stored
// ranges: "N:M" ranges always, the single ports only when a range is one
// port (Neutron's object answers them absent otherwise).
func ports(o api.Object) {
	for _, side := range []string{"internal", "external"} {
		lo, _ := o[side+"_port_start"].(int64)
		hi, _ := o[side+"_port_end"].(int64)
		o[side+"_port_range"] = fmt.Sprintf("%d:%d", lo, hi)
		if lo == hi {
			o[side+"_port"] = lo
		}
	}
}

// load fills the port attributes and, for the events and the policy, the
// floating IP's address, network and router and its ext_parent id.
func (p *Plugin) load(ctx context.Context, q db.Querier, objs []api.Object) error {
	byFIP := map[string][]api.Object{}
	var ids []string
	for _, o := range objs {
		ports(o)
		f, _ := o["floatingip_id"].(string)
		o["ext_parent_floatingip_id"] = f
		if byFIP[f] == nil {
			ids = append(ids, f)
		}
		byFIP[f] = append(byFIP[f], o)
	}
	return store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT id, floating_ip_address, floating_network_id, router_id FROM floatingips WHERE id IN ("+ph+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, addr, net string
			var router *string
			if err := rows.Scan(&id, &addr, &net, &router); err != nil {
				return err
			}
			for _, o := range byFIP[id] {
				o["floating_ip_address"], o["floating_network_id"], o["router_id"] = addr, net, nil
				if router != nil {
					o["router_id"] = *router
				}
			}
		}
		return rows.Err()
	})
}

// result is the answer to a create or update: both single ports, null
// for a range.
func result(_ *store.Op, o api.Object) {
	for _, k := range []string{"internal_port", "external_port"} {
		if _, ok := o[k]; !ok {
			o[k] = nil
		}
	}
}

// bulkKeys are the keys of Neutron's answer to a bulk create: the plugin's
// objects as they are.
var bulkKeys = []string{"id", "floatingip_id", "floating_ip_address", "router_id", "internal_port_id",
	"internal_ip_address", "protocol", "internal_port", "external_port", "internal_port_range",
	"external_port_range", "description", "revision_number", "created_at", "updated_at"}

func bulkView(o api.Object) api.Object {
	out := make(api.Object, len(bulkKeys))
	for _, k := range bulkKeys {
		out[k] = o[k]
	}
	return out
}
