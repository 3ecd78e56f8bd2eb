package ml2

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

// ---- loading ----

func (p *Plugin) loadSubnets(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := store.IndexByID(objs)
	for _, o := range objs {
		o["allocation_pools"] = []any{}
		o["dns_nameservers"] = []any{}
		o["host_routes"] = []any{}
		o["service_types"] = []any{}
	}
	ids := store.IDs(objs)
	err := store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT subnet_id, first_ip, last_ip FROM ipallocationpools WHERE subnet_id IN ("+ph+") ORDER BY subnet_id, ord", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, f, l string
			if err := rows.Scan(&id, &f, &l); err != nil {
				return err
			}
			if o := byID[id]; o != nil {
				o["allocation_pools"] = append(o["allocation_pools"].([]any), map[string]any{"start": f, "end": l})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	err = store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT subnet_id, address FROM dnsnameservers WHERE subnet_id IN ("+ph+") ORDER BY subnet_id, ord", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, a string
			if err := rows.Scan(&id, &a); err != nil {
				return err
			}
			if o := byID[id]; o != nil {
				o["dns_nameservers"] = append(o["dns_nameservers"].([]any), a)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	err = store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT subnet_id, destination, nexthop FROM subnetroutes WHERE subnet_id IN ("+ph+") ORDER BY subnet_id, destination, nexthop", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, d, n string
			if err := rows.Scan(&id, &d, &n); err != nil {
				return err
			}
			if o := byID[id]; o != nil {
				o["host_routes"] = append(o["host_routes"].([]any), map[string]any{"destination": d, "nexthop": n})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	err = store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT subnet_id, service_type FROM subnet_service_types WHERE subnet_id IN ("+ph+") ORDER BY subnet_id, service_type", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, st string
			if err := rows.Scan(&id, &st); err != nil {
				return err
			}
			if o := byID[id]; o != nil {
				o["service_types"] = append(o["service_types"].([]any), st)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	// shared mirrors the network's (for policy)
	netIDs := map[string]bool{}
	for _, o := range objs {
		if n, ok := o["network_id"].(string); ok {
			netIDs[n] = true
		}
	}
	list := make([]string, 0, len(netIDs))
	for n := range netIDs {
		list = append(list, n)
	}
	project := ""
	if rc := reqctx.From(ctx); rc != nil {
		project = rc.ProjectID
	}
	shared, err := sharing.SharedWith(ctx, q, "network", project, list)
	if err != nil {
		return err
	}
	for _, o := range objs {
		n, _ := o["network_id"].(string)
		o["shared"] = shared[n]
	}
	return err
}

// deleteNetworkSubnets removes the subnets of a network being deleted.
func (p *Plugin) deleteNetworkSubnets(ctx context.Context, tx *db.Tx, netID string) error {
	admin := reqctx.With(ctx, &reqctx.Context{IsAdmin: true})
	ids, err := db.Strings(ctx, tx, "SELECT id FROM subnets WHERE network_id = ? ORDER BY id", netID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := p.subnets.DeleteTx(admin, tx, id, nil); err != nil {
			return err
		}
	}
	return nil
}
