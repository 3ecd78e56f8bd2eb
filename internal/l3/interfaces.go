package l3

import (
	"context"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// interfaceInfo is the body of add/remove_router_interface.
type interfaceInfo struct {
	subnet, port string
}

// parseInterfaceInfo is validate_interface_info.
func parseInterfaceInfo(body map[string]any, add bool) (*interfaceInfo, error) {
	sub, hasSub := body["subnet_id"]
	port, hasPort := body["port_id"]
	if (!hasSub || sub == nil) && (!hasPort || port == nil) {
		return nil, badRouter("Either subnet_id or port_id must be specified")
	}
	info := &interfaceInfo{}
	for _, v := range []struct {
		given bool
		val   any
		dst   *string
	}{{hasPort && port != nil, port, &info.port}, {hasSub && sub != nil, sub, &info.subnet}} {
		if !v.given {
			continue
		}
		if msg := api.UUID(v.val); msg != "" {
			return nil, badRouter("%s", msg)
		}
		*v.dst = v.val.(string)
	}
	if add && info.port != "" && info.subnet != "" {
		return nil, badRouter("Cannot specify both subnet-id and port-id")
	}
	return info, nil
}

// interfaceOwner is the device_owner of a router's interfaces.
func interfaceOwner(r api.Object) string {
	switch {
	case r["distributed"] == true:
		return ml2.OwnerDVRInterface
	case r["ha"] == true:
		return ml2.OwnerHAReplicated
	}
	return ml2.OwnerRouterIntf
}

// addInterface is PUT /routers/{id}/add_router_interface.
func (p *Plugin) addInterface(ctx context.Context, _ *api.Resource, id string, body map[string]any) (any, error) {
	info, err := parseInterfaceInfo(body, true)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = p.env.DB.Write(ctx, func(tx *db.Tx) error {
		r, err := p.routers.GetTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		var port map[string]any
		var subs []*subnet
		if info.port != "" {
			port, subs, err = p.addInterfaceByPort(ctx, tx, r, info.port)
		} else {
			port, subs, err = p.addInterfaceBySubnet(ctx, tx, r, info.subnet)
		}
		if err != nil {
			return err
		}
		if _, merged := port[mergedKey]; merged {
			delete(port, mergedKey)
		} else if err := p.routers.BumpRevision(ctx, tx, id); err != nil {
			return err
		}
		if port["device_owner"] == ml2.OwnerDVRInterface {
			if err := p.distributedInterface(ctx, tx, id, port); err != nil {
				return err
			}
		}
		out = interfaceAnswer(id, port, subs, len(subs)-1)
		p.publishAfter(ctx, tx, events.RouterInterface, events.AfterCreate, id, interfaceMeta(port, subs, info))
		return nil
	})
	return out, err
}

// mergedKey marks (in the returned port) an IPv6 prefix added to an
// existing interface port: no new router port, no router revision.
const mergedKey = "\x00merged"

// interfaceAnswer is _make_router_interface_info; subnet_id is the
// subnet at index which of subs.
// distributedInterface gives a distributed router's new interface port
// its vif_type and the router its SNAT port on the subnet.
func (p *Plugin) distributedInterface(ctx context.Context, tx *db.Tx, router string, port map[string]any) error {
	if err := markDistributed(ctx, tx, port["id"].(string)); err != nil {
		return err
	}
	port["binding:vif_type"] = "distributed"
	return p.ensureSNATPorts(ctx, tx, router)
}

func interfaceAnswer(router string, port map[string]any, subs []*subnet, which int) map[string]any {
	ids := make([]any, len(subs))
	for i, s := range subs {
		ids[i] = s.ID
	}
	var first any
	if which >= 0 && which < len(ids) {
		first = ids[which]
	}
	return map[string]any{"id": router, "tenant_id": port["project_id"], "port_id": port["id"],
		"network_id": port["network_id"], "subnet_id": first, "subnet_ids": ids}
}

func interfaceMeta(port map[string]any, subs []*subnet, info *interfaceInfo) map[string]any {
	ids, cidrs, gws := []any{}, []any{}, []any{}
	for _, s := range subs {
		ids, cidrs, gws = append(ids, s.ID), append(cidrs, s.CIDR), append(gws, s.Gateway)
	}
	return map[string]any{"port_id": port["id"], "network_id": port["network_id"], "subnet_ids": ids,
		"cidrs": cidrs, "gateway_ips": gws, "port": port,
		"interface_info": map[string]any{"port_id": info.port, "subnet_id": info.subnet}}
}

func (p *Plugin) addInterfaceBySubnet(ctx context.Context, tx *db.Tx, r map[string]any, sid string) (map[string]any, []*subnet, error) {
	s, err := p.visibleSubnet(ctx, tx, sid)
	if err != nil {
		return nil, nil, err
	}
	if s.Gateway == "" {
		return nil, nil, badRouter("Subnet for router interface must have a gateway IP")
	}
	if err := p.checkSubnetOwner(ctx, tx, s); err != nil {
		return nil, nil, err
	}
	if err := checkRAMode(s); err != nil {
		return nil, nil, err
	}
	id := r["id"].(string)
	if err := p.checkDupSubnets(ctx, tx, id, []*subnet{s}); err != nil {
		return nil, nil, err
	}
	fixed := map[string]any{"subnet_id": s.ID, "ip_address": s.Gateway}
	if s.Version == 6 {
		if port, err := p.ipv6RouterPort(ctx, tx, id, s.Network); err != nil || port != nil {
			if err != nil {
				return nil, nil, err
			}
			ips := append(slices.Clone(port["fixed_ips"].([]any)), fixed)
			if err := p.updatePort(ctx, tx, port["id"].(string), obj{"fixed_ips": ips}); err != nil {
				return nil, nil, err
			}
			port[mergedKey] = true
			return port, []*subnet{s}, nil
		}
	}
	owner := interfaceOwner(r)
	port, err := p.createPort(ctx, tx, obj{"tenant_id": r["project_id"], "network_id": s.Network,
		"fixed_ips": []any{fixed}, "admin_state_up": true, "device_id": id, "device_owner": owner, "name": ""})
	if err != nil {
		return nil, nil, err
	}
	pid := port["id"].(string)
	if err := addRouterPort(ctx, tx, id, pid, owner); err != nil {
		return nil, nil, err
	}
	// Neutron writes the owner in a second update of the new port
	return port, []*subnet{s}, p.ports.BumpRevision(ctx, tx, pid)
}

// checkSubnetOwner: a non-admin may attach another project's subnet only
// when its network is shared with the caller's project by RBAC.
func (p *Plugin) checkSubnetOwner(ctx context.Context, tx *db.Tx, s *subnet) error {
	rc := reqctx.From(ctx)
	if rc == nil || rc.IsAdmin || s.Project == rc.ProjectID {
		return nil
	}
	n, err := first(ctx, tx, `SELECT object_id FROM rbac_policies WHERE object_type = 'network' AND object_id = ?
		AND action = 'access_as_shared' AND target_project = ?`, s.Network, rc.ProjectID)
	if err != nil {
		return err
	}
	if n == "" {
		return badRouter("Cannot add interface to router because subnet %s is not owned by project making the request", s.ID)
	}
	return nil
}

func checkRAMode(s *subnet) error {
	if s.Version == 6 && s.RAMode == "" && s.AddrMode != "" {
		return badRouter("IPv6 subnet %s configured to receive RAs from an external router cannot be added to Neutron Router.", s.ID)
	}
	return nil
}

// ipv6RouterPort is the router's interface port on network with an IPv6
// address, if any.
func (p *Plugin) ipv6RouterPort(ctx context.Context, tx *db.Tx, router, network string) (map[string]any, error) {
	ips, err := routerPortIPs(ctx, tx, router)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if ip.Network == network && slices.Contains(interfaceOwners, ip.Owner) && isIPv6(ip.IP) {
			return p.ports.GetTx(adminCtx(ctx), tx, ip.Port, false)
		}
	}
	return nil, nil
}

// checkDupSubnets is _check_for_dup_router_subnets: no subnet twice on the
// router, no overlap with an interface subnet.
func (p *Plugin) checkDupSubnets(ctx context.Context, tx *db.Tx, router string, subs []*subnet) error {
	ips, err := routerPortIPs(ctx, tx, router)
	if err != nil {
		return err
	}
	var intf []string
	gwNet := ""
	for _, ip := range ips {
		if ip.Owner == ml2.OwnerRouterGateway {
			gwNet = ip.Network
		}
		if ip.Subnet == "" {
			continue
		}
		for _, s := range subs {
			if s.ID == ip.Subnet {
				return badRouter("Router already has a port on subnet %s", ip.Subnet)
			}
		}
		if ip.Owner != ml2.OwnerRouterGateway && !slices.Contains(intf, ip.Subnet) {
			intf = append(intf, ip.Subnet)
		}
	}
	have, err := subnetsByIDs(ctx, tx, intf)
	if err != nil {
		return err
	}
	if gwNet != "" {
		// every subnet of the gateway's network counts
		gws, err := networkSubnets(ctx, tx, gwNet)
		if err != nil {
			return err
		}
		have = append(have, gws...)
	}
	for _, h := range have {
		for _, s := range subs {
			if overlaps(h.prefix, s.prefix) {
				return badRouter("Cidr %s of subnet %s overlaps with cidr %s of subnet %s", s.CIDR, s.ID, h.CIDR, h.ID)
			}
		}
	}
	return nil
}

// checkGatewaySubnets: the external network's subnets are none of the
// router's interface subnets.
func (p *Plugin) checkGatewaySubnets(ctx context.Context, tx *db.Tx, router, network string) error {
	subs, err := networkSubnets(ctx, tx, network)
	if err != nil || len(subs) == 0 {
		return err
	}
	return p.checkDupSubnets(ctx, tx, router, subs)
}

func (p *Plugin) addInterfaceByPort(ctx context.Context, tx *db.Tx, r map[string]any, pid string) (map[string]any, []*subnet, error) {
	port, err := p.ports.GetTx(ctx, tx, pid, true)
	if err != nil {
		return nil, nil, err
	}
	if dev := str(port["device_id"]); dev != "" {
		return nil, nil, nerr.Conflict("PortInUse", "Unable to complete operation on port %s for network %s. Port already has an attached device %s.",
			pid, port["network_id"], dev)
	}
	ids := portSubnets(port)
	if len(ids) == 0 {
		return nil, nil, badRouter("Router port must have at least one fixed IP")
	}
	subs, err := subnetsByIDs(ctx, tx, ids)
	if err != nil {
		return nil, nil, err
	}
	id := r["id"].(string)
	if err := p.checkPortIPv6(ctx, tx, id, port); err != nil {
		return nil, nil, err
	}
	for _, s := range subs {
		if err := checkRAMode(s); err != nil {
			return nil, nil, err
		}
	}
	if err := p.checkDupSubnets(ctx, tx, id, subs); err != nil {
		return nil, nil, err
	}
	v4 := 0
	for _, s := range subs {
		if s.Version == 4 {
			v4++
		}
	}
	if v4 > 1 {
		return nil, nil, badRouter("Cannot have multiple IPv4 subnets on router port")
	}
	owner := interfaceOwner(r)
	if err := p.updatePort(ctx, tx, pid, obj{"device_id": id, "device_owner": owner}); err != nil {
		return nil, nil, err
	}
	if err := addRouterPort(ctx, tx, id, pid, owner); err != nil {
		return nil, nil, err
	}
	port, err = p.ports.GetTx(adminCtx(ctx), tx, pid, false)
	return port, subs, err
}

// checkPortIPv6: one router port with IPv6 addresses per network.
func (p *Plugin) checkPortIPv6(ctx context.Context, tx *db.Tx, router string, port map[string]any) error {
	has6 := false
	for _, ip := range portIPs(port) {
		has6 = has6 || isIPv6(str(ip))
	}
	if !has6 {
		return nil
	}
	ips, err := routerPortIPs(ctx, tx, router)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if ip.Network == port["network_id"] && isIPv6(ip.IP) {
			return badRouter("Cannot have multiple router ports with the same network id if both contain IPv6 subnets. Existing port %s has IPv6 subnet(s) and network id %s", ip.Port, ip.Network)
		}
	}
	return nil
}

func isIPv6(ip string) bool {
	return slices.Contains([]byte(ip), ':')
}
