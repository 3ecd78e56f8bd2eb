package mechovn

import (
	"context"
	"fmt"
	"time"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/store"
)

// kind is one resource type the maintenance task and ovn-db-sync look after.
type kind struct {
	typ   string       // ovn_revision_numbers.resource_type
	sql   string       // the SQL table
	table *store.Table // its API table
	sync  func(ctx context.Context, obj api.Object) error
	del   func(ctx context.Context, id string) error
}

// kinds in the order they are written (deletions go in reverse), as Neutron's maintenance task.
func (d *Driver) kinds() []kind {
	ks := []kind{
		{resNetwork, "networks", d.tables.networks, d.syncNetworkFromDB, func(ctx context.Context, id string) error { return d.deleteNetwork(ctx, id, nil) }},
		{resSecurityGroup, "securitygroups", d.tables.sgs, d.syncSecurityGroup, d.deleteSecurityGroup},
		{resSubnet, "subnets", d.tables.subnets, d.syncSubnetFromDB, d.deleteSubnet},
		{resPort, "ports", d.tables.ports, d.syncPortAndQoS, d.deletePortAnywhere},
	}
	if d.l3 != nil {
		ks = append(ks,
			kind{resRouter, "routers", d.l3.Routers(), func(ctx context.Context, r api.Object) error { return d.syncRouter(ctx, str(r["id"])) }, d.deleteRouter},
			kind{resFloatingIP, "floatingips", d.l3.FloatingIPs(), d.syncFIP, d.deleteFIP})
	}
	return ks
}

func (d *Driver) syncNetworkFromDB(ctx context.Context, net api.Object) error {
	segs, err := ml2.Segments(ctx, d.env.DB, []string{str(net["id"])})
	if err != nil {
		return err
	}
	if err := d.syncNetwork(ctx, net, segs[str(net["id"])]); err != nil {
		return err
	}
	return d.updateMetadataPort(ctx, net, nil)
}

func (d *Driver) syncSubnetFromDB(ctx context.Context, sub api.Object) error {
	net, err := d.tables.networks.Get(ctx, str(sub["network_id"]), nil)
	if err != nil {
		return err
	}
	return d.syncSubnet(ctx, sub, net)
}

// syncPortAndQoS writes a port's LSP and QoS rows (maintenance, ovn-db-sync).
func (d *Driver) syncPortAndQoS(ctx context.Context, port api.Object) error {
	if err := d.syncPort(ctx, port); err != nil {
		return err
	}
	return d.syncPortQoS(ctx, port)
}

// deletePortAnywhere removes a port's LSP from whichever switch holds it.
func (d *Driver) deletePortAnywhere(ctx context.Context, id string) error {
	net := ""
	if lsp := d.lspByName(ctx, id); lsp != nil {
		net = lsp.ExternalIDs["neutron:network_name"][len(switchPrefix):]
	}
	if err := d.writePortQoS(ctx, id, net, nil); err != nil {
		return err
	}
	return d.deletePort(ctx, id, net)
}

// maintain is the background loop: it keeps the lease, and while holding it runs the repair every
// maintenance interval and at once after every (re)connection to the NB.
func (d *Driver) maintain() {
	defer d.wg.Done()
	tick := time.NewTicker(min(d.s.maintEvery, db.LeaseTTL/3))
	defer tick.Stop()
	var lastRun time.Time
	conns, metaChecked, extChecked := 0, false, false
	for {
		ctx := admin(context.Background())
		leader := d.lease.Acquire(ctx)
		if was := d.status.leader.Swap(leader); leader && !was {
			d.status.queueAll(ctx)
		}
		if leader && d.nb.Connected() {
			if c := d.nb.Connections(); c != conns || time.Since(lastRun) >= d.s.maintEvery {
				conns, lastRun = c, time.Now()
				if err := d.ensurePGDrop(ctx); err != nil {
					d.log.Warn("neutron_pg_drop not written", "error", err.Error())
				}
				if !metaChecked {
					if err := d.checkMetadataPorts(ctx); err != nil {
						d.log.Warn("maintenance: metadata ports not checked", "error", err.Error())
					} else {
						metaChecked = true
					}
				}
				d.repair(ctx, d.s.maintMinAge)
			}
			if d.sb.Connected() {
				if !extChecked {
					extChecked = d.checkExternalPorts(ctx) == nil
				}
				d.followChassis(ctx)
				if d.l3 != nil {
					d.rescheduleGateways(ctx)
				}
			}
		}
		select {
		case <-d.stop:
			return
		case <-tick.C:
		}
	}
}

// repair writes the resources whose NB write lags (ovn_revision_numbers behind their revision, or
// no row at all) and deletes the NB rows of resources that are gone, for changes older than minAge.
func (d *Driver) repair(ctx context.Context, minAge time.Duration) (fixed int) {
	cutoff := time.Now().Add(-minAge).Unix()
	ks := d.kinds()
	var dead [][]string
	for _, k := range ks {
		lag, del, err := d.lagging(ctx, k, cutoff)
		if err != nil {
			d.log.Warn("maintenance: cannot compare revisions", "type", k.typ, "error", err.Error())
		}
		dead = append(dead, del)
		for _, id := range lag {
			obj, err := k.table.Get(ctx, id, nil)
			if err == nil {
				err = k.sync(ctx, obj)
			}
			if err != nil && !gone(err) {
				d.log.Warn("maintenance: repair failed", "type", k.typ, "id", id, "error", err.Error())
				continue
			}
			fixed++
		}
	}
	for i := len(ks) - 1; i >= 0; i-- {
		for _, id := range dead[i] {
			if err := ks[i].del(ctx, id); err != nil {
				d.log.Warn("maintenance: delete failed", "type", ks[i].typ, "id", id, "error", err.Error())
				continue
			}
			fixed++
		}
	}
	if fixed > 0 {
		d.log.Info("maintenance: repaired OVN Northbound writes", "count", fixed)
	}
	return fixed
}

// lagging compares a kind's resources with their ovn_revision_numbers rows.
func (d *Driver) lagging(ctx context.Context, k kind, cutoff int64) (lag, dead []string, err error) {
	type rec struct{ rev, at int64 }
	recs := map[string]rec{}
	rows, err := d.env.DB.Query(ctx, "SELECT resource_uuid, revision_number, updated_at FROM ovn_revision_numbers WHERE resource_type = ?", k.typ)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id string
		var r rec
		if err := rows.Scan(&id, &r.rev, &r.at); err != nil {
			rows.Close()
			return nil, nil, err
		}
		recs[id] = r
	}
	rows.Close()
	rows, err = d.env.DB.Query(ctx, fmt.Sprintf("SELECT id, revision_number FROM %s", k.sql))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var rev int64
		if err := rows.Scan(&id, &rev); err != nil {
			return nil, nil, err
		}
		r, ok := recs[id]
		delete(recs, id)
		if p, pending := d.pendingRevision(k.typ, id); pending && p != forget {
			r, ok = rec{p, r.at}, true
		}
		if !ok || r.rev < rev && r.at <= cutoff {
			lag = append(lag, id)
		}
	}
	for id, r := range recs {
		if r.at <= cutoff {
			dead = append(dead, id)
		}
	}
	return lag, dead, rows.Err()
}
