package autoallocate

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// create makes one object of a collection as a plugin call does
// (p_utils.create_*): the attribute map's defaults, no policy.
func (p *Plugin) create(ctx context.Context, coll string, args api.Object) (api.Object, error) {
	res := p.env.Resource(coll)
	rc := reqctx.From(ctx)
	if rc == nil {
		rc = &reqctx.Context{IsAdmin: true}
	}
	items, _, err := res.PrepareBody(rc.Elevated(), map[string]any{res.Name: args}, true)
	if err != nil {
		return nil, err
	}
	out, err := res.Backend.Create(ctx, items)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// expected reports whether a provisioning error is one Neutron turns into
// AutoAllocationFailure (BadRequest, NotFound, SubnetAllocationError).
func expected(err error) bool {
	e, ok := nerr.As(err)
	return ok && (e.Status == 400 || e.Status == 404 || e.Type == "SubnetAllocationError")
}

// build is _build_topology: the private network, its uplink, the record.
func (p *Plugin) build(ctx context.Context, project, ext string) (string, error) {
	subnets, err := p.privateNetwork(ctx, project)
	if err != nil {
		return "", err
	}
	net, _ := subnets[0]["network_id"].(string)
	router, err := p.uplink(ctx, project, ext, net, subnets)
	if err != nil {
		return "", err
	}
	return p.save(ctx, project, net, router, subnets)
}

// privateNetwork is _provision_tenant_private_network.
func (p *Plugin) privateNetwork(ctx context.Context, project string) ([]api.Object, error) {
	net, err := p.create(ctx, "networks", api.Object{"name": "auto_allocated_network", "admin_state_up": false,
		"tenant_id": project, "shared": false})
	if err != nil {
		return nil, p.failed(ctx, err, "", "", nil, "Unable to provide tenant private network")
	}
	netID, _ := net["id"].(string)
	pools, err := p.defaultPools(ctx)
	if err == nil && len(pools) == 0 {
		err = nerr.NotFound("NotFound", "An unknown exception occurred.")
	}
	var subnets []api.Object
	for _, pl := range pools {
		var s api.Object
		s, err = p.create(ctx, "subnets", api.Object{"name": fmt.Sprintf("auto_allocated_subnet_v%d", pl.version),
			"network_id": netID, "tenant_id": project, "ip_version": pl.version, "subnetpool_id": pl.id})
		if err != nil {
			break
		}
		subnets = append(subnets, s)
	}
	if err != nil {
		return nil, p.failed(ctx, err, netID, "", nil, "Unable to provide tenant private network")
	}
	return subnets, nil
}

// uplink is _provision_external_connectivity: a router with a gateway on
// ext and an interface on each subnet.
func (p *Plugin) uplink(ctx context.Context, project, ext, net string, subnets []api.Object) (string, error) {
	r, err := p.create(ctx, "routers", api.Object{"name": "auto_allocated_router", "tenant_id": project,
		"admin_state_up": true, "external_gateway_info": map[string]any{"network_id": ext}})
	if err != nil {
		return "", p.failed(ctx, err, net, "", nil, "Unable to provide external connectivity")
	}
	router, _ := r["id"].(string)
	res := p.env.Resource("routers")
	var attached []api.Object
	for _, s := range subnets {
		if _, err := res.MemberActions["add_router_interface"](ctx, res, router, map[string]any{"subnet_id": s["id"]}); err != nil {
			return "", p.failed(ctx, err, net, router, attached, "Unable to provide external connectivity")
		}
		attached = append(attached, s)
	}
	return router, nil
}

// failed cleans up after a failed step: an expected error is
// AutoAllocationFailure with reason, any other is returned as it is.
func (p *Plugin) failed(ctx context.Context, err error, net, router string, subnets []api.Object, reason string) error {
	if cerr := p.cleanup(ctx, net, router, subnets); cerr != nil {
		return cerr
	}
	if expected(err) {
		return failure(reason)
	}
	return err
}

// save is _save: the record decides a race; the loser's topology goes and
// the winner's network is the answer. The network comes up last.
func (p *Plugin) save(ctx context.Context, project, net, router string, subnets []api.Object) (string, error) {
	_, err := p.env.DB.Exec(ctx, "INSERT INTO auto_allocated_topologies (project_id, network_id, router_id) VALUES (?, ?, ?)",
		project, net, router)
	if db.IsUniqueViolation(err) {
		if err := p.cleanup(ctx, net, router, subnets); err != nil {
			return "", err
		}
		winner, _, err := p.topology(ctx, project)
		return winner, err
	}
	if err == nil {
		_, err = p.env.Resource("networks").Backend.Update(ctx, net, api.Object{"admin_state_up": true}, nil)
	}
	if err != nil {
		return "", p.failed(ctx, err, net, router, subnets, "Unable to provide tenant private network")
	}
	return net, nil
}

// subnetsOf are a network's subnets.
func (p *Plugin) subnetsOf(ctx context.Context, net string) ([]api.Object, error) {
	ids, err := db.Strings(ctx, p.env.DB, "SELECT id FROM subnets WHERE network_id = ? ORDER BY id", net)
	out := make([]api.Object, 0, len(ids))
	for _, id := range ids {
		out = append(out, api.Object{"id": id})
	}
	return out, err
}

// cleanup is _cleanup: the router's interfaces on subnets, the router,
// the network; what is already gone is fine.
func (p *Plugin) cleanup(ctx context.Context, net, router string, subnets []api.Object) error {
	ignore := func(err error) error {
		if e, ok := nerr.As(err); ok && e.Status == 404 {
			return nil
		}
		return err
	}
	if router != "" {
		res := p.env.Resource("routers")
		for _, s := range subnets {
			if _, err := res.MemberActions["remove_router_interface"](ctx, res, router, map[string]any{"subnet_id": s["id"]}); ignore(err) != nil {
				return err
			}
		}
		if err := ignore(res.Backend.Delete(ctx, router, nil)); err != nil {
			return err
		}
	}
	if net != "" {
		if err := ignore(p.env.Resource("networks").Backend.Delete(ctx, net, nil)); err != nil {
			return err
		}
	}
	return nil
}
