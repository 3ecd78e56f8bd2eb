package l3

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// haNetworkName is the name of a project's HA network.
func haNetworkName(project string) string { return "HA network tenant " + project }

// ensureHANetwork creates the HA network of a project (and its subnet)
// unless it exists: project ”, not shared, no gateway, no DHCP.
func (p *Plugin) ensureHANetwork(ctx context.Context, tx *db.Tx, project string) error {
	id, err := first(ctx, tx, "SELECT id FROM networks WHERE name = ? AND project_id = ''", haNetworkName(project))
	if err != nil || id != "" {
		return err
	}
	ictx := internal(ctx)
	rc := reqctx.From(ictx)
	items, _, err := p.networks.Res.PrepareBody(rc, map[string]any{"network": map[string]any{
		"name": haNetworkName(project), "tenant_id": "", "admin_state_up": true, "shared": false}}, true)
	if err != nil {
		return err
	}
	net, err := p.networks.CreateTx(ictx, tx, items[0])
	if err != nil {
		return err
	}
	items, _, err = p.subnets.Res.PrepareBody(rc, map[string]any{"subnet": map[string]any{
		"name": "HA subnet tenant " + project, "tenant_id": "", "network_id": net["id"],
		"cidr": p.env.Config.String("DEFAULT", "l3_ha_net_cidr"), "ip_version": 4,
		"gateway_ip": nil, "enable_dhcp": false}}, true)
	if err != nil {
		return err
	}
	_, err = p.subnets.CreateTx(ictx, tx, items[0])
	return err
}

// deleteHANetwork deletes the HA network of a project, if any.
func (p *Plugin) deleteHANetwork(ctx context.Context, tx *db.Tx, project string) error {
	id, err := first(ctx, tx, "SELECT id FROM networks WHERE name = ? AND project_id = ''", haNetworkName(project))
	if err != nil || id == "" {
		return err
	}
	return p.networks.DeleteTx(internal(ctx), tx, id, nil)
}
