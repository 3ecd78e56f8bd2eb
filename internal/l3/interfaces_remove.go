package l3

import (
	"context"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/nerr"
)

// removeInterface is PUT /routers/{id}/remove_router_interface.
func (p *Plugin) removeInterface(ctx context.Context, _ *api.Resource, id string, body map[string]any) (any, error) {
	info, err := parseInterfaceInfo(body, false)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = p.env.DB.Write(ctx, func(tx *db.Tx) error {
		if _, err := p.routers.GetTx(ctx, tx, id, true); err != nil {
			return err
		}
		var port map[string]any
		var subs []*subnet
		if info.port != "" {
			port, subs, err = p.removeInterfaceByPort(ctx, tx, id, info)
		} else {
			port, subs, err = p.removeInterfaceBySubnet(ctx, tx, id, info.subnet)
		}
		if err != nil {
			return err
		}
		if _, merged := port[mergedKey]; merged {
			delete(port, mergedKey)
		} else if err := p.routers.BumpRevision(ctx, tx, id); err != nil {
			return err
		}
		for _, s := range subs {
			if err := p.deleteSNATPorts(ctx, tx, id, s.ID, false); err != nil {
				return err
			}
		}
		out = interfaceAnswer(id, port, subs, 0)
		p.publishAfter(ctx, tx, events.RouterInterface, events.AfterDelete, id, interfaceMeta(port, subs, info))
		return nil
	})
	return out, err
}

func interfaceNotFound(router, port string) error {
	return nerr.NotFound("RouterInterfaceNotFound", "Router %s does not have an interface with id %s", router, port)
}

func (p *Plugin) removeInterfaceByPort(ctx context.Context, tx *db.Tx, router string, info *interfaceInfo) (map[string]any, []*subnet, error) {
	port, err := p.ports.GetTx(adminCtx(ctx), tx, info.port, true)
	if err != nil {
		if e, ok := nerr.As(err); ok && e.Status == 404 {
			return nil, nil, interfaceNotFound(router, info.port)
		}
		return nil, nil, err
	}
	if !slices.Contains(interfaceOwners, str(port["device_owner"])) || port["device_id"] != router {
		return nil, nil, interfaceNotFound(router, info.port)
	}
	subs, err := subnetsByIDs(ctx, tx, portSubnets(port))
	if err != nil {
		return nil, nil, err
	}
	if info.subnet != "" && !slices.ContainsFunc(subs, func(s *subnet) bool { return s.ID == info.subnet }) {
		return nil, nil, nerr.Typed(400, "SubnetMismatchForPort", "Subnet on port %s does not match the requested subnet %s.", info.port, info.subnet)
	}
	for _, s := range subs {
		if err := p.interfaceInUse(ctx, tx, router, s, info.port); err != nil {
			return nil, nil, err
		}
	}
	return port, subs, p.deletePort(ctx, tx, info.port)
}

func (p *Plugin) removeInterfaceBySubnet(ctx context.Context, tx *db.Tx, router, sid string) (map[string]any, []*subnet, error) {
	s, err := p.visibleSubnet(ctx, tx, sid)
	if err != nil {
		return nil, nil, err
	}
	if err := p.interfaceInUse(ctx, tx, router, s, ""); err != nil {
		return nil, nil, err
	}
	ips, err := routerPortIPs(ctx, tx, router)
	if err != nil {
		return nil, nil, err
	}
	for _, ip := range ips {
		if ip.Subnet != sid || !slices.Contains(interfaceOwners, ip.Owner) {
			continue
		}
		port, err := p.ports.GetTx(adminCtx(ctx), tx, ip.Port, true)
		if err != nil {
			return nil, nil, err
		}
		if len(portSubnets(port)) > 1 {
			var keep []any
			for _, f := range port["fixed_ips"].([]any) {
				if str(f.(map[string]any)["subnet_id"]) != sid {
					keep = append(keep, f)
				}
			}
			if err := p.updatePort(ctx, tx, ip.Port, obj{"fixed_ips": keep}); err != nil {
				return nil, nil, err
			}
			port[mergedKey] = true
			return port, []*subnet{s}, nil
		}
		return port, []*subnet{s}, p.deletePort(ctx, tx, ip.Port)
	}
	return nil, nil, nerr.NotFound("RouterInterfaceNotFoundForSubnet", "Router %s has no interface on subnet %s", router, sid)
}

// interfaceInUse is _confirm_router_interface_not_in_use: no route's
// nexthop and no floating IP of the router's may need the subnet; other
// plugins veto through the router_interface BEFORE_DELETE event.
func (p *Plugin) interfaceInUse(ctx context.Context, tx *db.Tx, router string, s *subnet, port string) error {
	err := p.env.Bus.Publish(events.RouterInterface, events.BeforeDelete, &events.Payload{Ctx: ctx, Tx: tx, ID: router,
		Meta: map[string]any{"subnet_id": s.ID, "port_id": port, "cidr": s.CIDR}})
	if err != nil {
		return err
	}
	hops, err := db.Strings(ctx, tx, "SELECT nexthop FROM routerroutes WHERE router_id = ?", router)
	if err != nil {
		return err
	}
	for _, h := range hops {
		if inPrefix(h, s.prefix) {
			return nerr.Conflict("RouterInterfaceInUseByRoute", "Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more routes.", s.ID, router)
		}
	}
	fixed, err := db.Strings(ctx, tx, "SELECT fixed_ip_address FROM floatingips WHERE router_id = ? AND fixed_ip_address IS NOT NULL", router)
	if err != nil {
		return err
	}
	for _, f := range fixed {
		if inPrefix(f, s.prefix) {
			return nerr.Conflict("RouterInterfaceInUseByFloatingIP", "Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating IPs.", s.ID, router)
		}
	}
	return nil
}
