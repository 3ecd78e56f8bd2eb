package ml2

import (
	"context"
	"encoding/json"
	"math/big"
	"net/netip"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

// IPAvailability is the network-ip-availability resource (read only).
func IPAvailability() *api.Resource {
	return &api.Resource{
		Name: "network_ip_availability", Collection: "network_ip_availabilities", Path: "network-ip-availabilities",
		Extension: "network-ip-availability", ExtensionController: true,
		Attrs: []*api.Attribute{
			{Name: "network_id", Visible: true, IsFilter: true, IsSortKey: true, PrimaryKey: true},
			{Name: "network_name", Visible: true, IsFilter: true},
			{Name: "tenant_id", Visible: true, IsFilter: true},
			{Name: "subnet_ip_availability", Visible: true},
			{Name: "used_ips", Visible: true},
			{Name: "total_ips", Visible: true},
			{Name: "ip_version", IsFilter: true},
		},
		NoCreate: true, NoUpdate: true, NoDelete: true,
		NotFound: func(id string) error {
			return nerr.NotFound("NetworkNotFound", "Network %s could not be found.", id)
		},
	}
}

// ipAvailability is the backend of network-ip-availabilities.
type ipAvailability struct {
	db  *db.DB
	res *api.Resource
}

func (p *Plugin) setupIPAvailability(env *plugin.Env) {
	res := IPAvailability()
	res.Backend = &ipAvailability{db: env.DB, res: res}
	env.AddResource(res, nil)
	env.AddExtensions("network-ip-availability")
}

func (b *ipAvailability) Create(context.Context, []api.Object) ([]api.Object, error) {
	return nil, nerr.HTTPMethodNotAllowed()
}

func (b *ipAvailability) Update(context.Context, string, api.Object, *int64) (api.Object, error) {
	return nil, nerr.HTTPMethodNotAllowed()
}

func (b *ipAvailability) Delete(context.Context, string, *int64) error {
	return nerr.HTTPMethodNotAllowed()
}

func (b *ipAvailability) Get(ctx context.Context, id string, fields []string) (api.Object, error) {
	objs, err := b.compute(ctx, []api.Filter{{Attr: "network_id", Values: []any{id}}})
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, b.res.NotFoundErr(id)
	}
	return objs[0], nil
}

func (b *ipAvailability) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	objs, err := b.compute(ctx, q.Filters)
	if err != nil {
		return nil, err
	}
	for i := len(q.Sorts) - 1; i >= 0; i-- {
		s := q.Sorts[i]
		asc := s.Asc != q.PageReverse
		sort.SliceStable(objs, func(a, c int) bool {
			x, y := pyfmt.Str(objs[a][s.Key]), pyfmt.Str(objs[c][s.Key])
			if asc {
				return x < y
			}
			return x > y
		})
	}
	if q.Limit > 0 {
		if q.Marker != "" {
			for i, o := range objs {
				if o["network_id"] == q.Marker {
					objs = objs[i+1:]
					break
				}
			}
		}
		if len(objs) > q.Limit {
			objs = objs[:q.Limit]
		}
	}
	if q.PageReverse {
		for i, j := 0, len(objs)-1; i < j; i, j = i+1, j-1 {
			objs[i], objs[j] = objs[j], objs[i]
		}
	}
	return objs, nil
}

func strValues(vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = pyfmt.Str(v)
	}
	return out
}

// compute builds the availability of the networks matching filters, as
// get_network_ip_availabilities: used_ips counts allocations, total_ips
// the pool sizes (the CIDR size for a subnet without pools).
func (b *ipAvailability) compute(ctx context.Context, filters []api.Filter) ([]api.Object, error) {
	conds, args, versions, none := availabilityConds(filters)
	if none {
		return []api.Object{}, nil
	}
	out, byNet, err := b.networks(ctx, conds, args)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return []api.Object{}, nil
	}
	netIDs := make([]string, len(out))
	for i, o := range out {
		netIDs[i] = o["network_id"].(string)
	}
	subs, err := b.subnets(ctx, netIDs, versions)
	if err != nil {
		return nil, err
	}
	if err := b.countAddresses(ctx, subs); err != nil {
		return nil, err
	}
	sumAvailability(subs, byNet)
	return out, nil
}

// availabilityConds turns the filters into conditions on networks n;
// versions are the ip_version filter's values. none: no network can match
// (an ip_version filter without an integer).
func availabilityConds(filters []api.Filter) (conds []string, args, versions []any, none bool) {
	for _, f := range filters {
		switch f.Attr {
		case "network_id":
			conds = append(conds, "n.id IN ("+store.Placeholders(len(f.Values))+")")
			args = append(args, strValues(f.Values)...)
		case "network_name":
			conds = append(conds, "n.name IN ("+store.Placeholders(len(f.Values))+")")
			args = append(args, strValues(f.Values)...)
		case "tenant_id", "project_id":
			conds = append(conds, "n.project_id IN ("+store.Placeholders(len(f.Values))+")")
			args = append(args, strValues(f.Values)...)
		case "ip_version":
			for _, v := range f.Values {
				if n, ok := pyfmt.Int(v); ok {
					versions = append(versions, n)
				}
			}
			if len(versions) == 0 {
				return nil, nil, nil, true
			}
		}
	}
	if len(versions) > 0 {
		conds = append(conds, "n.id IN (SELECT network_id FROM subnets WHERE ip_version IN ("+store.Placeholders(len(versions))+"))")
		args = append(args, versions...)
	}
	return conds, args, versions, false
}

// networks reads the matching networks, each an availability with no
// subnets yet, in id order, and indexed by id.
func (b *ipAvailability) networks(ctx context.Context, conds []string, args []any) ([]api.Object, map[string]api.Object, error) {
	query := "SELECT n.id, n.name, n.project_id FROM networks n"
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += " ORDER BY n.id"
	rows, err := b.db.Query(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []api.Object
	byNet := map[string]api.Object{}
	for rows.Next() {
		var id, name string
		var project *string
		if err := rows.Scan(&id, &name, &project); err != nil {
			return nil, nil, err
		}
		o := api.Object{"network_id": id, "network_name": name, "tenant_id": nullStr(project), "project_id": nullStr(project),
			"subnet_ip_availability": []any{}, "used_ips": int64(0), "total_ips": int64(0)}
		if project == nil {
			o["tenant_id"], o["project_id"] = nil, nil
		}
		out = append(out, o)
		byNet[id] = o
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return out, byNet, nil
}

// subAvail is the availability of one subnet.
type subAvail struct {
	id, netID, name, cidr string
	version               int64
	total                 *big.Int
	hasPools              bool
	used                  int64
}

// subnets reads the subnets of the networks (of the given IP versions),
// by network and id.
func (b *ipAvailability) subnets(ctx context.Context, netIDs []string, versions []any) ([]*subAvail, error) {
	var subs []*subAvail
	err := store.ForChunks(netIDs, func(ph string, a []any) error {
		q := "SELECT id, network_id, name, cidr, ip_version FROM subnets WHERE network_id IN (" + ph + ")"
		if len(versions) > 0 {
			q += " AND ip_version IN (" + store.Placeholders(len(versions)) + ")"
			a = append(a, versions...)
		}
		rows, err := b.db.Query(ctx, q+" ORDER BY network_id, id", a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			s := &subAvail{total: new(big.Int)}
			if err := rows.Scan(&s.id, &s.netID, &s.name, &s.cidr, &s.version); err != nil {
				return err
			}
			subs = append(subs, s)
		}
		return rows.Err()
	})
	return subs, err
}

// countAddresses sets each subnet's total (its pools' sizes) and used
// (its allocations) addresses.
func (b *ipAvailability) countAddresses(ctx context.Context, subs []*subAvail) error {
	subIDs := make([]string, len(subs))
	bySub := map[string]*subAvail{}
	for i, s := range subs {
		subIDs[i] = s.id
		bySub[s.id] = s
	}
	err := store.ForChunks(subIDs, func(ph string, a []any) error {
		rows, err := b.db.Query(ctx, "SELECT subnet_id, first_ip, last_ip FROM ipallocationpools WHERE subnet_id IN ("+ph+")", a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, f, l string
			if err := rows.Scan(&id, &f, &l); err != nil {
				return err
			}
			s := bySub[id]
			fa, err1 := netip.ParseAddr(f)
			la, err2 := netip.ParseAddr(l)
			if s == nil || err1 != nil || err2 != nil {
				continue
			}
			s.hasPools = true
			s.total.Add(s.total, netaddr.Range{First: fa, Last: la}.Size().Big())
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	return store.ForChunks(subIDs, func(ph string, a []any) error {
		rows, err := b.db.Query(ctx, "SELECT subnet_id, COUNT(*) FROM ipallocations WHERE subnet_id IN ("+ph+") GROUP BY subnet_id", a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var n int64
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			if s := bySub[id]; s != nil {
				s.used = n
			}
		}
		return rows.Err()
	})
}

// sumAvailability lists each subnet in its network's availability (a
// subnet without pools counts its whole CIDR) and sums the networks'.
func sumAvailability(subs []*subAvail, byNet map[string]api.Object) {
	netTotals := map[string]*big.Int{}
	for _, s := range subs {
		if !s.hasPools {
			if p, ok := netaddr.Prefix(s.cidr); ok {
				s.total = netaddr.Size(p)
			}
		}
		o := byNet[s.netID]
		o["subnet_ip_availability"] = append(o["subnet_ip_availability"].([]any), map[string]any{
			"subnet_id": s.id, "ip_version": s.version, "cidr": s.cidr, "subnet_name": s.name,
			"used_ips": s.used, "total_ips": bigJSON(s.total),
		})
		o["used_ips"] = o["used_ips"].(int64) + s.used
		t := netTotals[s.netID]
		if t == nil {
			t = new(big.Int)
			netTotals[s.netID] = t
		}
		t.Add(t, s.total)
	}
	for id, t := range netTotals {
		byNet[id]["total_ips"] = bigJSON(t)
	}
}

// bigJSON writes an integer of any size as a JSON number.
func bigJSON(n *big.Int) any {
	if n.IsInt64() {
		return n.Int64()
	}
	return json.RawMessage(n.String())
}
