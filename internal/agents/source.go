package agents

import (
	"context"
	"errors"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
)

// Source is another source of agents (see the package documentation).
type Source interface {
	// Agents lists the source's agents as API objects.
	Agents(ctx context.Context) ([]api.Object, error)
	// Update changes admin_state_up or description of one of its agents;
	// ok is false when id is not one of them.
	Update(ctx context.Context, id string, changes api.Object) (obj api.Object, ok bool, err error)
	// Delete removes one of its agents; ok is false when id is not one.
	Delete(ctx context.Context, id string) (ok bool, err error)
}

// AddSource adds a source of agents to a server (during setup).
func AddSource(env *plugin.Env, s Source) {
	if k := From(env); k != nil {
		k.sources = append(k.sources, s)
	}
}

// sourceAgents lists every source's agents.
func (k *Keeper) sourceAgents(ctx context.Context) ([]api.Object, error) {
	var out []api.Object
	for _, s := range k.sources {
		objs, err := s.Agents(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// backend is the resource's backend: the table, then the sources.
type backend struct{ k *Keeper }

func (b backend) Create(context.Context, []api.Object) ([]api.Object, error) {
	panic("agents: create is not routed") // NoCreate
}

func (b backend) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	out, err := b.k.table.List(ctx, q)
	if err != nil || len(b.k.sources) == 0 {
		return out, err
	}
	more, err := b.k.sourceAgents(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range more {
		if matches(o, q.Filters) {
			out = append(out, pick(o, q.Fields))
		}
	}
	return out, nil
}

// matches: every filter has a value equal to the object's (as text).
func matches(o api.Object, fs []api.Filter) bool {
	for _, f := range fs {
		if !slices.ContainsFunc(f.Values, func(v any) bool { return api.PyStr(v) == api.PyStr(o[f.Attr]) }) {
			return false
		}
	}
	return true
}

func (b backend) Get(ctx context.Context, id string, fields []string) (api.Object, error) {
	o, err := b.k.table.Get(ctx, id, fields)
	if !isNotFound(err) || len(b.k.sources) == 0 {
		return o, err
	}
	more, serr := b.k.sourceAgents(ctx)
	if serr != nil {
		return nil, serr
	}
	for _, o := range more {
		if o["id"] == id {
			return pick(o, fields), nil
		}
	}
	return nil, err
}

func (b backend) Update(ctx context.Context, id string, changes api.Object, ifMatch *int64) (api.Object, error) {
	o, err := b.k.table.Update(ctx, id, changes, ifMatch)
	if !isNotFound(err) {
		return o, nil
	}
	for _, s := range b.k.sources {
		if so, ok, serr := s.Update(ctx, id, changes); ok || serr != nil {
			return so, serr
		}
	}
	return nil, err
}

func (b backend) Delete(ctx context.Context, id string, ifMatch *int64) error {
	err := b.k.table.Delete(ctx, id, ifMatch)
	if !isNotFound(err) {
		return err
	}
	for _, s := range b.k.sources {
		if ok, serr := s.Delete(ctx, id); ok || serr != nil {
			return serr
		}
	}
	return err
}

func isNotFound(err error) bool {
	var e *nerr.Error
	return errors.As(err, &e) && e.Status == 404
}

// pick keeps the fields asked for (all when none).
func pick(o api.Object, fields []string) api.Object {
	if len(fields) == 0 {
		return o
	}
	out := api.Object{}
	for _, f := range fields {
		if v, ok := o[f]; ok {
			out[f] = v
		}
	}
	return out
}
