package l3

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// FloatingIPPool is /v2.0/floatingip_pools (floatingip-pools): one entry
// per IPv4 subnet of every external network, list only.
func FloatingIPPool() *api.Resource {
	str := func(name string) *api.Attribute { return &api.Attribute{Name: name, Visible: true} }
	return &api.Resource{ExtensionController: true, Extension: "floatingip-pools", Name: "floatingip_pool",
		Collection: "floatingip_pools", PathAliases: []string{"floatingip-pools"},
		NoUpdate: true, NoDelete: true, NoPagination: true,
		NotFound: func(string) error { return nerr.HTTPNotFound() },
		Attrs: []*api.Attribute{str("subnet_id"), str("subnet_name"), str("network_id"), str("cidr"),
			{Name: "project_id", Validate: api.String(255), Visible: true}}}
}

type poolBackend struct {
	api.Backend
	p *Plugin
}

func (p *Plugin) setupPools(env *plugin.Env) {
	res := FloatingIPPool()
	res.Backend = poolBackend{p: p}
	env.AddResource(res, nil)
}

// List answers every pool with the caller's project.
func (b poolBackend) List(ctx context.Context, _ *api.Query) ([]api.Object, error) {
	project := ""
	if rc := reqctx.From(ctx); rc != nil {
		project = rc.ProjectID
	}
	rows, err := b.p.env.DB.Query(ctx, `SELECT s.id, s.name, s.network_id, s.cidr FROM subnets s JOIN networks n ON n.id = s.network_id
		WHERE n.router_external = ? AND s.ip_version = 4 ORDER BY s.network_id, s.id`, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []api.Object{}
	for rows.Next() {
		var id, name, net, cidr string
		if err := rows.Scan(&id, &name, &net, &cidr); err != nil {
			return nil, err
		}
		out = append(out, api.Object{"subnet_id": id, "subnet_name": name, "network_id": net, "cidr": cidr,
			"project_id": project, "tenant_id": project})
	}
	return out, rows.Err()
}

// Create is refused (the attribute map allows no attribute in POST).
func (b poolBackend) Create(context.Context, []api.Object) ([]api.Object, error) {
	return nil, nerr.HTTPNotFound()
}

// Get is a 404 (Neutron answers 500).
func (b poolBackend) Get(context.Context, string, []string) (api.Object, error) {
	return nil, nerr.HTTPNotFound()
}
