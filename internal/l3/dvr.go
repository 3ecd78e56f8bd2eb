package l3

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/store"
)

// hiddenKey carries (in a context) the count of router revisions made by
// work Neutron does in AFTER callbacks (the SNAT ports of distributed
// routers): they are stored, but the answer of the request that made
// them does not show them yet, as the reference's answers do not.
type hiddenKey struct{}

func withHidden(ctx context.Context) (context.Context, *int) {
	n := new(int)
	return context.WithValue(ctx, hiddenKey{}, n), n
}

func addHidden(ctx context.Context, n int) {
	if p, ok := ctx.Value(hiddenKey{}).(*int); ok {
		*p += n
	}
}

// hiddenResult shows the revision of a router update without the hidden
// revisions.
func hiddenResult(op *store.Op, o api.Object) {
	if n, ok := op.Value(hiddenKey{}).(int); ok && n > 0 {
		if rev, ok := o["revision_number"].(int64); ok {
			o["revision_number"] = rev - int64(n)
		}
	}
}

// markDistributed gives a distributed interface port Neutron's vif_type.
func markDistributed(ctx context.Context, tx *db.Tx, port string) error {
	_, err := tx.Exec(ctx, "UPDATE ports SET binding_vif_type = 'distributed' WHERE id = ?", port)
	return err
}

// ensureSNATPorts gives a distributed router with a gateway one
// centralized SNAT port per IPv4 interface subnet (hidden revisions).
func (p *Plugin) ensureSNATPorts(ctx context.Context, tx *db.Tx, router string) error {
	var dist bool
	var gw *string
	if err := tx.QueryRow(ctx, "SELECT distributed, gw_port_id FROM routers WHERE id = ?", router).Scan(&dist, &gw); err != nil {
		return err
	}
	if !dist || gw == nil {
		return nil
	}
	ips, err := routerPortIPs(ctx, tx, router)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, ip := range ips {
		if ip.Owner == ml2.OwnerRouterSNAT {
			have[ip.Subnet] = true
		}
	}
	for _, ip := range ips {
		if ip.Owner != ml2.OwnerDVRInterface || ip.Subnet == "" || isIPv6(ip.IP) || have[ip.Subnet] {
			continue
		}
		have[ip.Subnet] = true
		port, err := p.createPort(ctx, tx, obj{"tenant_id": "", "name": "", "network_id": ip.Network, "admin_state_up": true,
			"fixed_ips": []any{map[string]any{"subnet_id": ip.Subnet}}, "device_id": router, "device_owner": ml2.OwnerRouterSNAT})
		if err != nil {
			return err
		}
		if err := addRouterPort(ctx, tx, router, port["id"].(string), ml2.OwnerRouterSNAT); err != nil {
			return err
		}
		if err := p.routers.BumpRevision(ctx, tx, router); err != nil {
			return err
		}
		addHidden(ctx, 1)
	}
	return nil
}

// deleteSNATPorts deletes a router's SNAT ports (of subnet only, when
// given), a revision each; hidden says whether the answer shows them.
func (p *Plugin) deleteSNATPorts(ctx context.Context, tx *db.Tx, router, subnet string, hidden bool) error {
	ips, err := routerPortIPs(ctx, tx, router)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, ip := range ips {
		if ip.Owner != ml2.OwnerRouterSNAT || done[ip.Port] || (subnet != "" && ip.Subnet != subnet) {
			continue
		}
		done[ip.Port] = true
		if err := p.deletePort(ctx, tx, ip.Port); err != nil {
			return err
		}
		if err := p.routers.BumpRevision(ctx, tx, router); err != nil {
			return err
		}
		if hidden {
			addHidden(ctx, 1)
		}
	}
	return nil
}

// migrateInterfaces rewrites the owner of a router's interface ports
// after its distributed or ha flag changed, and its SNAT ports.
func (p *Plugin) migrateInterfaces(ctx context.Context, tx *db.Tx, old, cur api.Object) error {
	id := old["id"].(string)
	from, to := interfaceOwner(old), interfaceOwner(cur)
	if from == to {
		return nil
	}
	if from == ml2.OwnerDVRInterface {
		if err := p.deleteSNATPorts(ctx, tx, id, "", true); err != nil {
			return err
		}
	}
	vif := "unbound"
	if to == ml2.OwnerDVRInterface {
		vif = "distributed"
	}
	ports, err := db.Strings(ctx, tx, "SELECT port_id FROM routerports WHERE router_id = ? AND port_type = ?", id, from)
	if err != nil {
		return err
	}
	for _, pid := range ports {
		if _, err := tx.Exec(ctx, "UPDATE ports SET device_owner = ?, binding_vif_type = ?, revision_number = revision_number + 1 WHERE id = ?", to, vif, pid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE routerports SET port_type = ? WHERE port_id = ?", to, pid); err != nil {
			return err
		}
	}
	if to == ml2.OwnerDVRInterface {
		return p.ensureSNATPorts(ctx, tx, id)
	}
	return nil
}
