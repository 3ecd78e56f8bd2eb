package l3

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// routerBackend is the routers table with Neutron's separate commit of a
// gateway update's enable_snat (kept when the port work then fails).
type routerBackend struct {
	*store.Table
	p *Plugin
}

func (b routerBackend) Update(ctx context.Context, id string, changes api.Object, ifMatch *int64) (api.Object, error) {
	out, err := b.Table.Update(ctx, id, changes, ifMatch)
	if err != nil {
		return nil, b.p.commitSNAT(ctx, err)
	}
	return out, nil
}

func reqctxOf(ctx context.Context) *reqctx.Context {
	if rc := reqctx.From(ctx); rc != nil {
		return rc
	}
	return &reqctx.Context{IsAdmin: true}
}

// publishRouterUpdate publishes the router AFTER_UPDATE event of a change
// made outside the table's update (extra-route actions).
func (p *Plugin) publishRouterUpdate(ctx context.Context, tx *db.Tx, old, cur api.Object) {
	p.env.Bus.PublishAfterCommit(tx, events.Router, events.AfterUpdate,
		&events.Payload{Ctx: ctx, ID: str(cur["id"]), Old: old, New: cur})
}

// fipBackend is the floating IPs table with the answer to a lost race for
// a fixed IP: the association's unique key refuses the loser's write,
// which is retried so that the check answers Neutron's
// FloatingIPPortAlreadyAssociated.
type fipBackend struct{ *store.Table }

func (b fipBackend) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	for i := 0; ; i++ {
		out, err := b.Table.Create(ctx, items)
		if i < 3 && db.IsUniqueViolation(err) {
			continue
		}
		return out, err
	}
}

func (b fipBackend) Update(ctx context.Context, id string, changes api.Object, ifMatch *int64) (api.Object, error) {
	for i := 0; ; i++ {
		out, err := b.Table.Update(ctx, id, changes, ifMatch)
		if i < 3 && db.IsUniqueViolation(err) {
			continue
		}
		return out, err
	}
}
