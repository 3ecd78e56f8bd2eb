// Package autoallocate is Neutron's auto_allocate service plugin (a
// default plugin; the auto-allocated-topology extension):
// GET /v2.0/auto-allocated-topology/{project_id} returns the project's
// network, building it first (a network and subnets from the default
// subnet pools, a router with a gateway on the default external network
// and an interface on each subnet) when the project has none;
// ?fields=dry-run checks the requirements; DELETE tears the topology down.
// As in Neutron, the steps go through the plugins' own operations (one
// transaction each) and a failure cleans up what was made; the
// auto_allocated_topologies key (one per project) decides two concurrent
// allocations: the loser removes its topology and answers the winner's.
package autoallocate

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	plugin.Register("auto_allocate", func() plugin.Plugin { return &Plugin{} },
		"neutron.services.auto_allocate.plugin.Plugin", "neutron.services.auto_allocate.plugin:Plugin")
}

// Plugin is the auto-allocation plugin of one server.
type Plugin struct {
	env *plugin.Env
}

// Setup declares the topology resource once the router plugin is known
// (without it there is nothing to allocate and the extension is not
// listed).
func (p *Plugin) Setup(env *plugin.Env) error {
	p.env = env
	env.OnFinish(func() error {
		if env.Resource("routers") == nil || env.Resource("networks") == nil {
			return nil
		}
		env.AddResource(p.resource(), nil)
		env.AddExtensions("auto-allocated-topology")
		env.Table("routers").AddHooks(store.Hooks{Load: loadRouters})
		return nil
	})
	return nil
}

func (p *Plugin) resource() *api.Resource {
	return &api.Resource{ExtensionController: true, Extension: "auto-allocated-topology", Name: "auto_allocated_topology",
		Collection: "auto_allocated_topologies", Path: "auto-allocated-topology", NoUpdate: true, ShowIgnoresFields: true,
		Attrs: []*api.Attribute{
			{Name: "id", Validate: api.UUID, Visible: true},
			{Name: "tenant_id", Validate: api.UUID, Visible: true},
		},
		Backend: backend{p}}
}

func failure(reason string) error {
	return nerr.Typed(409, "AutoAllocationFailure", "Deployment error: %s.", reason)
}

// backend is the plugin's get and delete of a project's topology.
type backend struct{ p *Plugin }

// validate is _validate: "None" is the caller's project; only an admin
// reaches another project's.
func validate(ctx context.Context, project string) (string, error) {
	rc := reqctx.From(ctx)
	if rc == nil {
		rc = &reqctx.Context{IsAdmin: true}
	}
	if project == "None" {
		project = rc.ProjectID
	}
	if !rc.IsAdmin && project != rc.ProjectID {
		return "", nerr.Forbidden("NotAuthorized", "Not authorized.")
	}
	return project, nil
}

// Get is get_auto_allocated_topology.
func (b backend) Get(ctx context.Context, id string, fields []string) (api.Object, error) {
	project, err := validate(ctx, id)
	if err != nil {
		return nil, err
	}
	if slices.Contains(fields, "dry-run") {
		if err := b.p.checkRequirements(ctx); err != nil {
			return nil, err
		}
		return api.Object{"id": "dry-run=pass", "tenant_id": project}, nil
	}
	if len(fields) > 0 {
		return nil, nerr.BadRequest("auto_allocate", "Unrecognized field")
	}
	net, _, err := b.p.topology(ctx, project)
	if err != nil {
		return nil, err
	}
	if net == "" {
		ext, err := b.p.defaultExternal(ctx)
		if err != nil {
			return nil, err
		}
		if net, err = b.p.build(ctx, project, ext); err != nil {
			return nil, err
		}
	}
	return api.Object{"id": net, "tenant_id": project, "project_id": project}, nil
}

// Delete is delete_auto_allocated_topology.
func (b backend) Delete(ctx context.Context, id string, _ *int64) error {
	project, err := validate(ctx, id)
	if err != nil {
		return err
	}
	net, router, err := b.p.topology(ctx, project)
	if err != nil || net == "" {
		return err
	}
	subnets, err := b.p.subnetsOf(ctx, net)
	if err != nil {
		return err
	}
	return b.p.cleanup(ctx, net, router, subnets)
}

func (backend) List(context.Context, *api.Query) ([]api.Object, error) {
	return nil, nerr.HTTPNotFound()
}

func (backend) Create(context.Context, []api.Object) ([]api.Object, error) {
	return nil, nerr.HTTPMethodNotAllowed()
}

func (backend) Update(context.Context, string, api.Object, *int64) (api.Object, error) {
	return nil, nerr.HTTPMethodNotAllowed()
}

// topology is the project's network and router ("" when it has none).
func (p *Plugin) topology(ctx context.Context, project string) (string, string, error) {
	var net string
	var router sql.NullString
	err := p.env.DB.QueryRow(ctx, "SELECT network_id, router_id FROM auto_allocated_topologies WHERE project_id = ?", project).Scan(&net, &router)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return net, router.String, err
}

// checkRequirements is _check_requirements.
func (p *Plugin) checkRequirements(ctx context.Context) error {
	if _, err := p.defaultExternal(ctx); err != nil {
		return err
	}
	pools, err := p.defaultPools(ctx)
	if err == nil && len(pools) == 0 {
		err = failure("No default subnetpools defined")
	}
	return err
}

// defaultExternal is _get_default_external_network.
func (p *Plugin) defaultExternal(ctx context.Context) (string, error) {
	var id string
	err := p.env.DB.QueryRow(ctx, "SELECT id FROM networks WHERE router_external = ? AND is_default = ? ORDER BY created_at, id LIMIT 1",
		true, true).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", failure("No default router:external network")
	}
	return id, err
}

// pool is a default subnet pool.
type pool struct {
	id      string
	version int64
}

// defaultPools is _get_supported_subnetpools: the default IPv4 and IPv6
// pools there are.
func (p *Plugin) defaultPools(ctx context.Context) ([]pool, error) {
	var out []pool
	for _, v := range []int64{4, 6} {
		var id string
		err := p.env.DB.QueryRow(ctx, "SELECT id FROM subnetpools WHERE is_default = ? AND ip_version = ? ORDER BY id LIMIT 1", true, v).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, pool{id, v})
	}
	return out, nil
}

// loadRouters answers a null description for the routers auto-allocation
// made while their description is empty: Neutron creates them by a plugin
// call without one (NULL), neutrino's routers always have a string.
func loadRouters(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := map[string]api.Object{}
	var ids []string
	for _, o := range objs {
		if id, _ := o["id"].(string); o["description"] == "" {
			byID[id] = o
			ids = append(ids, id)
		}
	}
	return store.ForChunks(ids, func(ph string, args []any) error {
		auto, err := db.Strings(ctx, q, "SELECT router_id FROM auto_allocated_topologies WHERE router_id IN ("+ph+")", args...)
		for _, id := range auto {
			byID[id]["description"] = nil
		}
		return err
	})
}
