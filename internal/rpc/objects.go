package rpc

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Object types the server serves to the agents (pull, bulk_pull, push),
// with the version it builds and the collection they come from.
var objectTypes = map[string]struct{ version, collection string }{
	"Port":              {"1.7", "ports"},
	"Network":           {"1.1", "networks"},
	"Subnet":            {"1.1", "subnets"},
	"SecurityGroup":     {"1.5", "security_groups"},
	"SecurityGroupRule": {"1.2", "security_group_rules"},
	"AddressGroup":      {"1.2", "address_groups"},
	"Trunk":             {"1.1", "trunks"},
	"SubPort":           {"1.0", "subports"}, // pushed only: no collection of its own
}

// objectFilters maps the objects' filter names onto the API's.
var objectFilters = map[string]string{"security_group_ids": "security_groups"}

// admin is ctx as an admin of the server (what the RPC endpoints act as).
func admin(ctx context.Context) context.Context {
	if rc := reqctx.From(ctx); rc != nil && rc.IsAdmin {
		return ctx
	}
	return reqctx.With(ctx, &reqctx.Context{IsAdmin: true, Roles: []string{"admin"}})
}

// table returns a collection's table.
func (s *Service) table(collection string) (*store.Table, error) {
	t := s.Env.Table(collection)
	if t == nil {
		return nil, fmt.Errorf("no %s in this server", collection)
	}
	return t, nil
}

// list reads API objects of a collection by filters (attribute → values).
func (s *Service) list(ctx context.Context, collection string, filters map[string][]any) ([]api.Object, error) {
	t, err := s.table(collection)
	if err != nil {
		return nil, err
	}
	q := &api.Query{}
	for k, v := range filters {
		if a, ok := objectFilters[k]; ok {
			k = a
		}
		q.Filters = append(q.Filters, api.Filter{Attr: k, Values: v})
	}
	return t.List(admin(ctx), q)
}

// objects builds the primitives of objType matching filters.
func (s *Service) objects(ctx context.Context, objType string, filters map[string][]any) ([]ovo, error) {
	ot, ok := objectTypes[objType]
	if !ok {
		return nil, fmt.Errorf("unknown resource type %s", objType)
	}
	for _, vs := range filters {
		if len(vs) == 0 {
			return []ovo{}, nil
		}
	}
	objs, err := s.list(ctx, ot.collection, filters)
	if err != nil {
		return nil, err
	}
	return s.toOVO(ctx, objType, objs)
}

// toOVO turns API objects of objType into primitives.
func (s *Service) toOVO(ctx context.Context, objType string, objs []api.Object) ([]ovo, error) {
	out := make([]ovo, 0, len(objs))
	switch objType {
	case "Port":
		return s.portsOVO(ctx, objs)
	case "Network":
		segs, _, err := segmentRows(ctx, s.Env.DB, store.IDs(objs))
		if err != nil {
			return nil, err
		}
		for _, n := range objs {
			out = append(out, networkOVO(n, segs[str(n["id"])]))
		}
	case "Subnet":
		for _, o := range objs {
			out = append(out, subnetOVO(o))
		}
	case "SecurityGroupRule":
		for _, o := range objs {
			out = append(out, ruleOVO(o))
		}
	case "SecurityGroup":
		return s.groupsOVO(ctx, objs)
	case "AddressGroup":
		for _, o := range objs {
			out = append(out, addressGroupOVO(o))
		}
	case "Trunk":
		for _, o := range objs {
			out = append(out, trunkOVO(o))
		}
	}
	return out, nil
}

func (s *Service) portsOVO(ctx context.Context, ports []api.Object) ([]ovo, error) {
	ids := store.IDs(ports)
	levels, err := ml2.BindingLevels(ctx, s.Env.DB, ids)
	if err != nil {
		return nil, err
	}
	var nets []string
	for _, p := range ports {
		nets = append(nets, str(p["network_id"]))
	}
	_, segs, err := segmentRows(ctx, s.Env.DB, nets)
	if err != nil {
		return nil, err
	}
	out := make([]ovo, 0, len(ports))
	for _, p := range ports {
		out = append(out, portOVO(p, levels[str(p["id"])], segs))
	}
	return out, nil
}

func (s *Service) groupsOVO(ctx context.Context, groups []api.Object) ([]ovo, error) {
	ids := make([]any, 0, len(groups))
	for _, g := range groups {
		ids = append(ids, g["id"])
	}
	byGroup := map[string][]api.Object{}
	if len(ids) > 0 {
		rules, err := s.list(ctx, "security_group_rules", map[string][]any{"security_group_id": ids})
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			byGroup[str(r["security_group_id"])] = append(byGroup[str(r["security_group_id"])], r)
		}
	}
	out := make([]ovo, 0, len(groups))
	for _, g := range groups {
		out = append(out, groupOVO(g, byGroup[str(g["id"])]))
	}
	return out, nil
}
