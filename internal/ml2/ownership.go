package ml2

import (
	"context"
	"net/http"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// setupOwnership tracks the subnet and port quotas and installs Neutron's _validate_network_tenant_ownership on
// port and subnet creation: before the policy check, a caller that is
// neither admin nor advsvc must see the network (else NetworkNotFound),
// and unless the network is shared (with the caller) the new object must
// belong to the network's project.
//
// A port is also visible to the owner of its network (Neutron's
// _port_filter_hook), and ML2 reads a port's network as the caller when it
// updates or deletes the port: a port on a network the caller does not
// see answers NetworkNotFound.
func (p *Plugin) setupOwnership() {
	// Neutron counts subnets and ports against the project's quotas
	p.subnets.Quota, p.ports.Quota = "subnet", "port"
	p.subnets.Res.ValidateCreate = p.networkOwnership("subnet")
	p.ports.Res.ValidateCreate = p.networkOwnership("port")
	p.ports.Shared = func(rc *reqctx.Context) (string, []any) {
		return "t.network_id IN (SELECT n.id FROM networks n WHERE n.project_id = ?)", []any{rc.ProjectID}
	}
	visible := func(op *store.Op) error {
		if rc := reqctx.From(op.Ctx); rc == nil || rc.IsAdmin {
			return nil
		}
		id, _ := op.Old["network_id"].(string)
		_, err := p.networks.GetTx(op.Ctx, op.Tx, id, false)
		return err
	}
	// first: ML2 reads the network before anything else
	p.ports.Hooks = append([]store.Hooks{{
		BeforeUpdate: visible,
		BeforeDelete: visible,
	}}, p.ports.Hooks...)
}

func (p *Plugin) networkOwnership(resource string) func(ctx context.Context, item api.Object) error {
	return func(ctx context.Context, item api.Object) error {
		rc := reqctx.From(ctx)
		if rc == nil || rc.IsAdmin || rc.IsAdvsvc {
			return nil
		}
		id, _ := item["network_id"].(string)
		net, err := p.networks.Get(ctx, id, nil)
		if err != nil {
			return err
		}
		if shared, _ := net["shared"].(bool); shared {
			return nil
		}
		if owner, _ := net["tenant_id"].(string); owner != item["tenant_id"] {
			return nerr.New(http.StatusForbidden, "HTTPForbidden", "Tenant %s not allowed to create %s on this network", pyfmt.Str(item["tenant_id"]), resource)
		}
		return nil
	}
}
