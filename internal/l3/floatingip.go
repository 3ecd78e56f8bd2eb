package l3

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

// FloatingIP is the floating IP resource as Neutron Zed declares it with
// fip-port-details, dns-integration (when ML2's dns driver is loaded),
// qos-fip and expose-port-forwarding-in-fip: the router plugin declares
// qos_policy_id and port_forwardings (answered null and [] until the QoS
// and port forwarding parts hook them) so that the attribute map is
// Neutron's as the reference loads it.
func FloatingIP(dns bool, dnsDomain func() string) *api.Resource {
	attrs := []*api.Attribute{
		api.IDAttr(),
		{Name: "floating_ip_address", AllowPost: true, Default: nil, Validate: api.IPAddressOrNone, Visible: true,
			IsFilter: true, IsSortKey: true, EnforcePolicy: true},
		{Name: "subnet_id", AllowPost: true, Default: nil, Validate: api.UUIDOrNone},
		{Name: "floating_network_id", AllowPost: true, Required: true, Validate: api.UUID, Visible: true,
			IsFilter: true, IsSortKey: true},
		{Name: "router_id", Default: nil, Validate: api.UUIDOrNone, Visible: true, IsFilter: true, IsSortKey: true},
		{Name: "port_id", AllowPost: true, AllowPut: true, Default: nil, Validate: api.UUIDOrNone, Visible: true,
			IsFilter: true, RequiredByPolicy: true},
		{Name: "fixed_ip_address", AllowPost: true, AllowPut: true, Default: nil, Validate: api.IPAddressOrNone,
			Visible: true, IsFilter: true, IsSortKey: true},
		api.TenantAttr(),
		{Name: "status", Visible: true, IsFilter: true, IsSortKey: true},
		{Name: "port_details", Default: api.NotSpecified, Visible: true},
		{Name: "qos_policy_id", AllowPost: true, AllowPut: true, Default: nil, Validate: api.UUIDOrNone,
			Visible: true, EnforcePolicy: true},
		{Name: "port_forwardings", Default: nil, Visible: true},
	}
	if dns {
		attrs = append(attrs,
			&api.Attribute{Name: "dns_name", AllowPost: true, Default: "", Convert: ml2.CaseInsensitive,
				Validate: api.DNSHostName(255, dnsDomain), Visible: true},
			&api.Attribute{Name: "dns_domain", AllowPost: true, Default: "", Convert: ml2.CaseInsensitive,
				Validate: api.DNSDomain(255), Visible: true})
	}
	attrs = append(attrs, api.StdAttrs()...)
	return &api.Resource{ExtensionController: true, Extension: "router", Name: "floatingip", Collection: "floatingips",
		Attrs: attrs, Tags: true, NotFound: FloatingIPNotFound}
}

// FloatingIPNotFound is Neutron's FloatingIPNotFound.
func FloatingIPNotFound(id string) error {
	return nerr.NotFound("FloatingIPNotFound", "Floating IP %s could not be found", id)
}

func badFIP(format string, args ...any) error {
	return nerr.BadRequest("floatingip", sprintf(format, args...))
}

// setupFloatingIPs declares floating IPs and their pools.
func (p *Plugin) setupFloatingIPs(env *plugin.Env) {
	dns := p.ml2.ExtensionDriverLoaded("dns") || p.ml2.ExtensionDriverLoaded("dns_domain_ports")
	res := FloatingIP(dns, func() string { return env.Config.String("DEFAULT", "dns_domain") })
	t := &store.Table{
		Name: "floatingips", Res: res, DB: env.DB, Std: true, Quota: "floatingip", IgnoreUnknownMarker: true,
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "floating_ip_address"}, {Attr: "floating_network_id"}, {Attr: "floating_port_id"},
			{Attr: "port_id", Name: "fixed_port_id"}, {Attr: "fixed_ip_address"}, {Attr: "router_id"},
			{Attr: "status"}, {Attr: "dns_name"}, {Attr: "dns_domain"},
		},
		// every update is a revision, even one that changes nothing
		Revisions: func(old, changes api.Object) int { return 1 },
	}
	t.AddHooks(store.Hooks{
		BeforeCreate: p.beforeCreateFIP,
		BeforeUpdate: p.beforeUpdateFIP,
		AfterDelete:  p.afterDeleteFIP,
		Load:         p.loadFIPs,
	})
	p.fips = t
	res.Backend = fipBackend{t}
	t.Init()
	env.AddResource(res, t)
	p.setupPools(env)
}

func (p *Plugin) beforeCreateFIP(op *store.Op) error {
	ctx, tx, o := op.Ctx, op.Tx, op.New
	netID := str(o["floating_network_id"])
	net, err := p.networks.GetTx(ctx, tx, netID, false)
	if err != nil {
		return err
	}
	if net["router:external"] != true {
		return badFIP("Network %s is not a valid external network", netID)
	}
	v4, err := first(ctx, tx, "SELECT id FROM subnets WHERE network_id = ? AND ip_version = 4 LIMIT 1", netID)
	if err != nil {
		return err
	}
	if v4 == "" {
		return badFIP("Network %s does not contain any IPv4 subnet", netID)
	}
	fields := obj{"tenant_id": "", "name": "", "network_id": netID, "admin_state_up": true,
		"device_id": op.ID, "device_owner": OwnerFloatingIP}
	fixed := map[string]any{}
	if s := o["subnet_id"]; s != nil {
		fixed["subnet_id"] = s
	}
	if a := o["floating_ip_address"]; a != nil {
		fixed["ip_address"] = a
	}
	if len(fixed) > 0 {
		fields["fixed_ips"] = []any{fixed}
	}
	port, err := p.createPort(ctx, tx, fields)
	if err != nil {
		return err
	}
	o["floating_port_id"] = port["id"]
	o["floating_ip_address"] = nil
	for _, ip := range portIPs(port) {
		if !isIPv6(str(ip)) {
			o["floating_ip_address"] = ip
			break
		}
	}
	// Neutron creates the port with device_id PENDING and then updates
	// it to the floating IP's id: one revision more
	if _, err := tx.Exec(ctx, "UPDATE ports SET status = 'N/A', revision_number = revision_number + 1 WHERE id = ?", port["id"]); err != nil {
		return err
	}
	delete(o, "subnet_id")
	o["status"] = "DOWN"
	o["dns_name"], o["dns_domain"] = "", ""
	a, err := p.association(ctx, tx, o, nil, o["port_id"], o["fixed_ip_address"])
	if err != nil {
		return err
	}
	o["port_id"], o["fixed_ip_address"], o["router_id"] = a.port, a.fixed, a.router
	return nil
}

func (p *Plugin) beforeUpdateFIP(op *store.Op) error {
	old, ch := op.Old, op.New
	port, fixed := old["port_id"], old["fixed_ip_address"]
	switch {
	case hasKey(ch, "port_id"):
		port, fixed = ch["port_id"], ch["fixed_ip_address"]
	case len(op.Request) == 0:
		// Neutron disassociates on an empty body
		port, fixed = nil, nil
	case hasKey(ch, "fixed_ip_address"):
		port, fixed = nil, ch["fixed_ip_address"]
	}
	a, err := p.association(op.Ctx, op.Tx, old, old, port, fixed)
	if err != nil {
		return err
	}
	ch["port_id"], ch["fixed_ip_address"], ch["router_id"] = a.port, a.fixed, a.router
	return nil
}

func (p *Plugin) afterDeleteFIP(op *store.Op) error {
	return p.deletePort(op.Ctx, op.Tx, str(op.Old["floating_port_id"]))
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// disassociatePort clears the association of the floating IPs of a port
// being deleted (one floatingip AFTER_UPDATE each).
func (p *Plugin) disassociatePort(ctx context.Context, tx *db.Tx, port string) error {
	ids, err := db.Strings(ctx, tx, "SELECT id FROM floatingips WHERE fixed_port_id = ? ORDER BY id", port)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := p.fips.UpdateTx(internal(ctx), tx, id, api.Object{"port_id": nil, "fixed_ip_address": nil}, nil); err != nil {
			return err
		}
	}
	return nil
}

// networkBeforeDelete deletes the unassociated floating IPs of an
// external network being deleted.
func (p *Plugin) networkBeforeDelete(_ string, _ events.Event, pl *events.Payload) error {
	ids, err := db.Strings(pl.Ctx, pl.Tx, "SELECT id FROM floatingips WHERE floating_network_id = ? AND fixed_port_id IS NULL ORDER BY id", pl.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := p.fips.DeleteTx(internal(pl.Ctx), pl.Tx, id, nil); err != nil {
			return err
		}
	}
	return nil
}

// loadFIPs fills port_details (the associated port's), port_forwardings
// ([] unless the port forwarding part fills them) and qos_policy_id (null
// unless the QoS part fills it).
func (p *Plugin) loadFIPs(ctx context.Context, q db.Querier, objs []api.Object) error {
	byPort := map[string][]api.Object{}
	var ports []string
	for _, o := range objs {
		o["port_details"] = nil
		o["port_forwardings"] = []any{}
		if _, ok := o["qos_policy_id"]; !ok {
			o["qos_policy_id"] = nil
		}
		if pid := str(o["port_id"]); pid != "" {
			if byPort[pid] == nil {
				ports = append(ports, pid)
			}
			byPort[pid] = append(byPort[pid], o)
		}
	}
	return store.ForChunks(ports, func(ph string, args []any) error {
		rows, err := q.Query(ctx, `SELECT id, name, network_id, mac_address, admin_state_up, status, device_id, device_owner
			FROM ports WHERE id IN (`+ph+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, name, net, mac, status, dev, owner string
			var up bool
			if err := rows.Scan(&id, &name, &net, &mac, &up, &status, &dev, &owner); err != nil {
				return err
			}
			d := map[string]any{"name": name, "network_id": net, "mac_address": mac, "admin_state_up": up,
				"status": status, "device_id": dev, "device_owner": owner}
			for _, o := range byPort[id] {
				o["port_details"] = d
			}
		}
		return rows.Err()
	})
}
