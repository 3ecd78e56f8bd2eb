package subnetpool

import (
	"context"
	"net/http"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// setupOnboard adds PUT /v2.0/subnetpools/{id}/onboard_network_subnets
// (Neutron's subnet_onboard extension): a network's subnets of the pool's
// IP version join the pool, their CIDRs becoming its prefixes.
func (c *Component) setupOnboard() {
	c.pools.Res.MemberActions["onboard_network_subnets"] = c.onboard
	c.env.AddExtensions("subnet_onboard")
}

type onboardSubnet struct{ id, cidr string }

func (c *Component) onboard(ctx context.Context, _ *api.Resource, id string, body map[string]any) (any, error) {
	netID, _ := body["network_id"].(string)
	if v, ok := body["network_id"]; !ok || v == nil {
		return nil, nerr.InvalidInput("network_id must be specified.")
	}
	var out []any
	err := c.env.DB.Write(ctx, func(tx *db.Tx) error {
		if err := c.checkOnboardNetwork(ctx, tx, netID); err != nil {
			return err
		}
		pool, err := c.pools.GetTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		version := int(intOf(pool["ip_version"]))
		subs, err := c.networkSubnets(ctx, tx, netID, version)
		if err != nil {
			return err
		}
		allocated, err := c.allocatedSet(ctx, tx, id, version)
		if err != nil {
			return err
		}
		prefixes := append([]any{}, pool["prefixes"].([]any)...)
		out = []any{}
		for _, s := range subs {
			n, err := ParseNet(s.cidr)
			if err != nil {
				return err
			}
			if NewSet(version, n).Intersects(allocated) {
				return nerr.Typed(http.StatusBadRequest, "IllegalSubnetPoolUpdate",
					"Illegal subnetpool update : Onboarding subnet %s: %s conflicts with allocated prefixes in subnet pool %s.", s.id, s.cidr, id)
			}
			prefixes = append(prefixes, s.cidr)
			out = append(out, map[string]any{"id": s.id, "cidr": s.cidr})
		}
		if len(subs) == 0 {
			return nil
		}
		if err := c.pools.UpdateTx(ctx, tx, id, api.Object{"prefixes": prefixes}, nil); err != nil {
			return err
		}
		sc := c.subnets
		for _, s := range subs {
			_, err := tx.Exec(ctx, "UPDATE "+sc.table+" SET "+sc.pool+" = ?, revision_number = revision_number + 1, updated_at = ? WHERE "+sc.id+" = ?",
				id, store.Now(), s.id)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// checkOnboardNetwork: the network exists for the caller, and a caller
// who is no admin owns it. The network is locked first, before the pool
// (lock order: store/lock.go), as a subnet write does.
func (c *Component) checkOnboardNetwork(ctx context.Context, tx *db.Tx, netID string) error {
	nets := c.env.Table("networks")
	net, err := nets.GetTx(ctx, tx, netID, true)
	if err != nil {
		return err
	}
	if rc := reqctx.From(ctx); rc != nil && !rc.IsAdmin && api.PyStr(net["project_id"]) != rc.ProjectID {
		return nerr.Forbidden("NotAuthorized", "Not authorized.")
	}
	return nil
}

// networkSubnets lists a network's subnets of one IP version.
func (c *Component) networkSubnets(ctx context.Context, tx *db.Tx, netID string, version int) ([]onboardSubnet, error) {
	sc := c.subnets
	rows, err := tx.Query(ctx, "SELECT "+sc.id+", "+sc.cidr+" FROM "+sc.table+" WHERE "+sc.network+" = ? AND "+sc.version+" = ? ORDER BY "+sc.id,
		netID, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []onboardSubnet
	for rows.Next() {
		var s onboardSubnet
		if err := rows.Scan(&s.id, &s.cidr); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
