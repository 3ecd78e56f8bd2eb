package mechovn

import (
	"context"
	"net/http"
	"reflect"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
)

// The ML2 calls: *_precommit records the resource in ovn_revision_numbers (create), *_postcommit
// writes the NB.

func (d *Driver) CreateNetworkPrecommit(c *ml2.NetworkContext) error {
	return initialRevision(c.Ctx, c.Tx, resNetwork, str(c.Current["id"]))
}

// CreateNetworkPostcommit writes the switch, then makes the network's metadata port (a database
// write, made even when the NB is away).
func (d *Driver) CreateNetworkPostcommit(c *ml2.NetworkContext) error {
	err := d.write(c.Ctx, func(ctx context.Context) error { return d.syncNetwork(ctx, c.Current, c.Segments) })
	if _, merr := d.ensureMetadataPort(admin(c.Ctx), c.Current); merr != nil {
		return merr
	}
	return err
}

// UpdateNetworkPostcommit rewrites the switch and follows a QoS policy change; with
// ovn_emit_need_to_frag, a new MTU of an external network rewrites the routers whose gateway is on
// it (their gateway_mtu, as Zed's set_gateway_mtu).
func (d *Driver) UpdateNetworkPostcommit(c *ml2.NetworkContext) error {
	if err := d.CreateNetworkPostcommit(c); err != nil {
		return err
	}
	return d.write(c.Ctx, func(ctx context.Context) error {
		if ext, _ := c.Current["router:external"].(bool); ext && d.s.needToFrag && intOf(c.Current["mtu"]) != intOf(c.Original["mtu"]) {
			if err := d.syncGatewayRouters(ctx, str(c.Current["id"])); err != nil {
				return err
			}
		}
		return d.networkQoSChanged(ctx, c.Original, c.Current)
	})
}

func (d *Driver) DeleteNetworkPostcommit(c *ml2.NetworkContext) error {
	return d.write(c.Ctx, func(ctx context.Context) error {
		return d.deleteNetwork(ctx, str(c.Current["id"]), strList(c.Current["subnets"]))
	})
}

func (d *Driver) CreateSubnetPrecommit(c *ml2.SubnetContext) error {
	return initialRevision(c.Ctx, c.Tx, resSubnet, str(c.Current["id"]))
}

// CreateSubnetPostcommit gives the metadata port an address on an IPv4 DHCP subnet (its DHCP
// options route the metadata service through it), then writes the subnet's DHCP options.
func (d *Driver) CreateSubnetPostcommit(c *ml2.SubnetContext) error {
	if on, _ := c.Current["enable_dhcp"].(bool); on && intOf(c.Current["ip_version"]) == 4 {
		if err := d.updateMetadataPort(admin(c.Ctx), c.Network.Current, c.Current); err != nil {
			return err
		}
	}
	return d.write(c.Ctx, func(ctx context.Context) error { return d.syncSubnet(ctx, c.Current, c.Network.Current) })
}

// UpdateSubnetPostcommit follows DHCP turned on or off with the metadata port's address, then
// rewrites the subnet's DHCP options.
func (d *Driver) UpdateSubnetPostcommit(c *ml2.SubnetContext) error {
	on, _ := c.Current["enable_dhcp"].(bool)
	was, _ := c.Original["enable_dhcp"].(bool)
	if on || was {
		if err := d.updateMetadataPort(admin(c.Ctx), c.Network.Current, c.Current); err != nil {
			return err
		}
	}
	return d.write(c.Ctx, func(ctx context.Context) error { return d.syncSubnet(ctx, c.Current, c.Network.Current) })
}

func (d *Driver) DeleteSubnetPostcommit(c *ml2.SubnetContext) error {
	return d.write(c.Ctx, func(ctx context.Context) error { return d.deleteSubnet(ctx, str(c.Current["id"])) })
}

func (d *Driver) CreatePortPrecommit(c *ml2.PortContext) error {
	if err := d.validateProfile(c.Ctx, c.Current); err != nil {
		return err
	}
	return initialRevision(c.Ctx, c.Tx, resPort, str(c.Current["id"]))
}

func (d *Driver) UpdatePortPrecommit(c *ml2.PortContext) error {
	return d.validateProfile(c.Ctx, c.Current)
}

func (d *Driver) CreatePortPostcommit(c *ml2.PortContext) error {
	return d.write(c.Ctx, func(ctx context.Context) error {
		if err := d.syncPort(ctx, c.Current); err != nil {
			return err
		}
		if err := d.syncPortQoS(ctx, c.Current); err != nil {
			return err
		}
		return d.syncMetadataSubnets(ctx, c.Current)
	})
}

// UpdatePortPostcommit rewrites the port; a router port whose addresses changed (the port API allows
// it with ovn-router, and for gateway ports) rewrites its router too, whose LRP holds them, as the
// OVN L3 plugin's _port_update (AFTER_UPDATE: update_router_port).
func (d *Driver) UpdatePortPostcommit(c *ml2.PortContext) error {
	if err := d.CreatePortPostcommit(c); err != nil {
		return err
	}
	if lsp, _ := d.lspRow(c.Current, nil); lsp.Type != "router" || reflect.DeepEqual(c.Original["fixed_ips"], c.Current["fixed_ips"]) {
		return nil
	}
	return d.write(c.Ctx, func(ctx context.Context) error { return d.syncRouter(ctx, str(c.Current["device_id"])) })
}

func (d *Driver) DeletePortPostcommit(c *ml2.PortContext) error {
	return d.write(c.Ctx, func(ctx context.Context) error {
		if err := d.writePortQoS(ctx, str(c.Current["id"]), str(c.Current["network_id"]), nil); err != nil {
			return err
		}
		return d.deletePort(ctx, str(c.Current["id"]), str(c.Current["network_id"]))
	})
}

// subscribeSecurityGroups follows security groups and rules through the event bus (they are not
// ML2 driver calls): a group's port group is rewritten whenever the group or one of its rules
// changes.
func (d *Driver) subscribeSecurityGroups() {
	bus := d.env.Bus
	bus.Subscribe(events.SecurityGroup, events.PrecommitCreate, "mechovn", events.PriorityNotifier,
		func(_ string, _ events.Event, p *events.Payload) error {
			return initialRevision(p.Ctx, p.Tx, resSecurityGroup, p.ID)
		})
	for _, ev := range []events.Event{events.AfterCreate, events.AfterUpdate} {
		bus.Subscribe(events.SecurityGroup, ev, "mechovn", events.PriorityNotifier,
			func(_ string, _ events.Event, p *events.Payload) error {
				return d.write(p.Ctx, func(ctx context.Context) error { return d.syncSecurityGroup(ctx, p.New) })
			})
	}
	bus.Subscribe(events.SecurityGroup, events.AfterDelete, "mechovn", events.PriorityNotifier,
		func(_ string, _ events.Event, p *events.Payload) error {
			return d.write(p.Ctx, func(ctx context.Context) error { return d.deleteSecurityGroup(ctx, p.ID) })
		})
	for _, ev := range []events.Event{events.PrecommitCreate, events.PrecommitDelete} {
		bus.Subscribe(events.SecurityGroupRule, ev, "mechovn", events.PriorityNotifier,
			func(_ string, _ events.Event, p *events.Payload) error {
				// the group lags until the rule's write is made
				_, err := p.Tx.Exec(p.Ctx, "UPDATE ovn_revision_numbers SET revision_number = -1 WHERE resource_uuid = ? AND resource_type = ?",
					ruleGroup(p), resSecurityGroup)
				return err
			})
	}
	for _, ev := range []events.Event{events.AfterCreate, events.AfterDelete} {
		bus.Subscribe(events.SecurityGroupRule, ev, "mechovn", events.PriorityNotifier,
			func(_ string, _ events.Event, p *events.Payload) error {
				return d.write(p.Ctx, func(ctx context.Context) error { return d.resyncGroup(ctx, ruleGroup(p)) })
			})
	}
}

// gone reports whether err says a resource does not exist.
func gone(err error) bool {
	e, ok := nerr.As(err)
	return ok && e.Status == http.StatusNotFound
}

func ruleGroup(p *events.Payload) string {
	for _, o := range []api.Object{p.New, p.Old} {
		if g := str(o["security_group_id"]); g != "" {
			return g
		}
	}
	return ""
}

// resyncGroup rewrites a group from the database (or removes it when it is gone).
func (d *Driver) resyncGroup(ctx context.Context, id string) error {
	sg, err := d.tables.sgs.Get(ctx, id, nil)
	if gone(err) {
		return d.deleteSecurityGroup(ctx, id)
	} else if err != nil {
		return err
	}
	return d.syncSecurityGroup(ctx, sg)
}
