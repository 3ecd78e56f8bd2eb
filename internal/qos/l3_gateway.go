package qos

import (
	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/store"
)

// setupGateways adds qos_policy_id to routers' external_gateway_info
// (qos-gateway-ip): given with the gateway it binds the policy, null
// unbinds it, absent keeps it; the binding goes with the gateway. Every
// binding change bumps the router's revision (as Neutron's does).
func (p *Plugin) setupGateways(routers *store.Table) {
	gb := binding{table: "qos_router_gw_policy_bindings", key: "router_id"}
	routers.AddHooks(store.Hooks{
		BeforeCreate: func(op *store.Op) error {
			policy, _ := gatewayPolicy(op.Request)
			return checkGiven(op, policy)
		},
		AfterCreate: func(op *store.Op) error {
			if policy, given := gatewayPolicy(op.Request); given && policy != nil {
				return gb.set(op, routers, policy, true)
			}
			return nil
		},
		BeforeUpdate: func(op *store.Op) error {
			gw, changed := op.Request["external_gateway_info"]
			if !changed {
				return nil
			}
			if m, _ := gw.(map[string]any); len(m) == 0 {
				return gb.set(op, routers, nil, true)
			}
			policy, given := gatewayPolicy(op.Request)
			if !given {
				return nil
			}
			if err := checkGiven(op, policy); err != nil {
				return err
			}
			return gb.set(op, routers, policy, true)
		},
		Load: gb.load(func(o api.Object, policy any) {
			gw, _ := o["external_gateway_info"].(map[string]any)
			if gw == nil || policy == nil {
				return
			}
			withPolicy := make(map[string]any, len(gw)+1)
			for k, v := range gw {
				withPolicy[k] = v
			}
			withPolicy["qos_policy_id"] = policy
			o["external_gateway_info"] = withPolicy
		}),
	})
	AddBindingKind(p.env, BindingKind{Name: "router", First: firstOf("SELECT router_id FROM qos_router_gw_policy_bindings WHERE policy_id = ? ORDER BY router_id"),
		Projects: projectsOf("SELECT DISTINCT r.project_id FROM routers r JOIN qos_router_gw_policy_bindings b ON b.router_id = r.id WHERE b.policy_id = ? AND r.project_id IS NOT NULL")})
}

// gatewayPolicy is the qos_policy_id of a router request's
// external_gateway_info and whether it is given (the request: the router
// plugin's hooks take external_gateway_info out of the row).
func gatewayPolicy(o api.Object) (any, bool) {
	gw, _ := o["external_gateway_info"].(map[string]any)
	policy, given := gw["qos_policy_id"]
	return policy, given
}
