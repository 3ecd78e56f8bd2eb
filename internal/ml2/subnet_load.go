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

// subnetChild is a subnet attribute listed from a child table: the rows of
// "SELECT subnet_id, <cols> FROM ..." in order, each made an element.
type subnetChild struct {
	attr   string
	from   string // SELECT subnet_id, <cols> FROM <table>
	order  string
	cols   int
	elemOf func(cols []string) any
}

var subnetChildren = []subnetChild{
	{"allocation_pools", "SELECT subnet_id, first_ip, last_ip FROM ipallocationpools", "subnet_id, ord", 2,
		func(c []string) any { return map[string]any{"start": c[0], "end": c[1]} }},
	{"dns_nameservers", "SELECT subnet_id, address FROM dnsnameservers", "subnet_id, ord", 1,
		func(c []string) any { return c[0] }},
	{"host_routes", "SELECT subnet_id, destination, nexthop FROM subnetroutes", "subnet_id, destination, nexthop", 2,
		func(c []string) any { return map[string]any{"destination": c[0], "nexthop": c[1]} }},
	{"service_types", "SELECT subnet_id, service_type FROM subnet_service_types", "subnet_id, service_type", 1,
		func(c []string) any { return c[0] }},
}

func (p *Plugin) loadSubnets(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := store.IndexByID(objs)
	for _, o := range objs {
		for _, c := range subnetChildren {
			o[c.attr] = []any{}
		}
	}
	ids := store.IDs(objs)
	for _, c := range subnetChildren {
		if err := c.load(ctx, q, ids, byID); err != nil {
			return err
		}
	}
	return loadSubnetShared(ctx, q, objs)
}

// load appends the child rows of the subnets ids to their attribute.
func (c subnetChild) load(ctx context.Context, q db.Querier, ids []string, byID map[string]api.Object) error {
	return store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, c.from+" WHERE subnet_id IN ("+ph+") ORDER BY "+c.order, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		vals := make([]string, 1+c.cols)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			if o := byID[vals[0]]; o != nil {
				o[c.attr] = append(o[c.attr].([]any), c.elemOf(vals[1:]))
			}
		}
		return rows.Err()
	})
}

// loadSubnetShared sets each subnet's shared: its network's (for policy).
func loadSubnetShared(ctx context.Context, q db.Querier, objs []api.Object) error {
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
	return nil
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
