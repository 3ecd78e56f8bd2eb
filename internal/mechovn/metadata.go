package mechovn

import (
	"context"
	"database/sql"
	"errors"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// The metadata port of a network ([ovn] ovn_metadata_enabled), as ML2/OVN makes it: a port owned
// by network:distributed with device_id ovnmeta-<network id> and an address on each DHCP subnet;
// its LSP is a localport, and the DHCP options of the subnet route 169.254.169.254 through it.

const metadataCIDR = "169.254.169.254/32"

// metadataPort is the network's metadata port, nil when there is none or metadata is off.
func (d *Driver) metadataPort(ctx context.Context, netID string) (api.Object, error) {
	if !d.s.metadata {
		return nil, nil
	}
	var id string
	err := d.env.DB.QueryRow(ctx, "SELECT id FROM ports WHERE network_id = ? AND device_owner = ? ORDER BY id LIMIT 1",
		netID, ml2.OwnerDistributed).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	p, err := d.tables.ports.Get(admin(ctx), id, nil)
	if gone(err) {
		return nil, nil
	}
	return p, err
}

// metadataIP is the metadata port's address on the subnet ("" when none).
func (d *Driver) metadataIP(ctx context.Context, sub api.Object) string {
	p, err := d.metadataPort(ctx, str(sub["network_id"]))
	if err != nil || p == nil {
		return ""
	}
	for _, f := range objList(p["fixed_ips"]) {
		if str(f["subnet_id"]) == str(sub["id"]) {
			return str(f["ip_address"])
		}
	}
	return ""
}

// ensureMetadataPort creates the network's metadata port if it has none (Neutron's
// create_metadata_port), with an address on each of the network's DHCP subnets.
func (d *Driver) ensureMetadataPort(ctx context.Context, net api.Object) (api.Object, error) {
	if !d.s.metadata {
		return nil, nil
	}
	if p, err := d.metadataPort(ctx, str(net["id"])); p != nil || err != nil {
		return p, err
	}
	subs, err := d.networkSubnets(ctx, str(net["id"]))
	if err != nil {
		return nil, err
	}
	fixed := []any{}
	for _, s := range subs {
		if on, _ := s["enable_dhcp"].(bool); on {
			fixed = append(fixed, map[string]any{"subnet_id": s["id"]})
		}
	}
	ctx = admin(ctx)
	items, _, err := d.tables.ports.Res.PrepareBody(reqctx.From(ctx), body("port", map[string]any{
		"network_id": net["id"], "tenant_id": net["project_id"], "device_owner": ml2.OwnerDistributed,
		"device_id": "ovnmeta-" + str(net["id"]), "fixed_ips": fixed}), true)
	if err != nil {
		return nil, err
	}
	var id string
	err = d.env.DB.Write(ctx, func(tx *db.Tx) error {
		p, err := d.tables.ports.CreateTx(ctx, tx, items[0])
		if err == nil {
			id = str(p["id"])
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return d.tables.ports.Get(ctx, id, nil)
}

// updateMetadataPort gives the metadata port an address on sub when the subnet has DHCP and takes
// it away when it has not; with sub nil, on exactly the network's IPv4 DHCP subnets among its IPv4
// subnets (Neutron's update_metadata_port). The port is created if missing.
func (d *Driver) updateMetadataPort(ctx context.Context, net, sub api.Object) error {
	port, err := d.ensureMetadataPort(ctx, net)
	if err != nil || port == nil {
		return err
	}
	want := map[string]bool{}
	if sub != nil {
		for _, f := range objList(port["fixed_ips"]) {
			want[str(f["subnet_id"])] = true
		}
		on, _ := sub["enable_dhcp"].(bool)
		want[str(sub["id"])] = on
	} else {
		subs, err := d.networkSubnets(ctx, str(net["id"]))
		if err != nil {
			return err
		}
		for _, s := range subs {
			if intOf(s["ip_version"]) == 4 { // IPv6 addresses (SLAAC ones are automatic) stay
				on, _ := s["enable_dhcp"].(bool)
				want[str(s["id"])] = on
			}
		}
	}
	fixed, have, changed := []any{}, map[string]bool{}, false
	for _, f := range objList(port["fixed_ips"]) {
		id := str(f["subnet_id"])
		have[id] = true
		if keep, ok := want[id]; ok && !keep {
			changed = true
			continue
		}
		fixed = append(fixed, map[string]any{"subnet_id": id, "ip_address": f["ip_address"]})
	}
	for id, on := range want {
		if on && !have[id] {
			fixed = append(fixed, map[string]any{"subnet_id": id})
			changed = true
		}
	}
	if !changed {
		return nil
	}
	ctx = admin(ctx)
	items, _, err := d.tables.ports.Res.PrepareBody(reqctx.From(ctx), body("port", map[string]any{"fixed_ips": fixed}), false)
	if err != nil {
		return err
	}
	_, err = d.tables.ports.Update(ctx, str(port["id"]), items[0], nil)
	return err
}

// networkSubnets are the network's subnets.
func (d *Driver) networkSubnets(ctx context.Context, netID string) ([]api.Object, error) {
	ids, err := db.Strings(ctx, d.env.DB, "SELECT id FROM subnets WHERE network_id = ? ORDER BY id", netID)
	if err != nil {
		return nil, err
	}
	var out []api.Object
	for _, id := range ids {
		s, err := d.tables.subnets.Get(admin(ctx), id, nil)
		if gone(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// syncMetadataSubnets rewrites the DHCP options of the metadata port's subnets (its address is
// their route to the metadata service).
func (d *Driver) syncMetadataSubnets(ctx context.Context, port api.Object) error {
	if str(port["device_owner"]) != ml2.OwnerDistributed || !d.s.metadata {
		return nil
	}
	for _, f := range objList(port["fixed_ips"]) {
		sub, err := d.tables.subnets.Get(ctx, str(f["subnet_id"]), nil)
		if gone(err) {
			continue
		} else if err != nil {
			return err
		}
		if err := d.syncSubnetFromDB(ctx, sub); err != nil {
			return err
		}
	}
	return nil
}

// checkMetadataPorts gives every network its metadata port with addresses on its IPv4 DHCP subnets
// (Neutron's maintenance task check_metadata_ports, run once by the lease holder).
func (d *Driver) checkMetadataPorts(ctx context.Context) error {
	if !d.s.metadata {
		return nil
	}
	ids, err := db.Strings(ctx, d.env.DB, "SELECT id FROM networks ORDER BY id")
	if err != nil {
		return err
	}
	for _, id := range ids {
		net, err := d.tables.networks.Get(ctx, id, nil)
		if gone(err) {
			continue
		} else if err != nil {
			return err
		}
		if err := d.updateMetadataPort(ctx, net, nil); err != nil {
			return err
		}
	}
	return nil
}

func body(kind string, attrs map[string]any) map[string]any { return map[string]any{kind: attrs} }
