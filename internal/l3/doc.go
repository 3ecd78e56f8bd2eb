// Package l3 is the router service plugin ("router", Neutron's
// L3RouterPlugin): /v2.0/routers with their gateways (ext-gw-mode),
// interfaces, extra routes (extraroute, extraroute-atomic), the admin-only
// distributed and ha flags (dvr, l3-ha), availability zone hints
// (router_availability_zone), flavor_id (l3-flavors); /v2.0/floatingips
// (fip-port-details) and /v2.0/floatingip_pools (floatingip-pools); the
// rules routers add to ports, subnets and networks (router ports cannot be
// deleted or re-addressed through the port API, a gateway network cannot
// become internal, ...). docs/spec/l3.md is the behaviour it reproduces.
//
// # Events (internal/events)
//
// Every AFTER event is published once the transaction commits; the
// payload's Ctx carries the caller. The dataplanes (OVN, agent RPC)
// subscribe to these:
//
//	router            after_create   ID router, New = router dict (gateway included)
//	                  after_update   ID router, Old/New = router dicts (also after
//	                                 add/remove_extraroutes and gateway changes)
//	                  after_delete   ID router, Old = router dict
//	                  (and the table's before_* / precommit_* events in the transaction)
//	router_gateway    after_create   ID router, Meta{network_id, port_id, gateway_ips []any, enable_snat}
//	                  after_update   ID router, Meta{network_id, port_id} (gateway addresses changed)
//	                  after_delete   ID router, Meta{network_id (old), new_network_id ("" = none),
//	                                 port_id, gateway_ips}
//	router_interface  after_create   ID router, Meta{port_id, network_id, subnet_ids []any,
//	                                 cidrs, gateway_ips, port (port dict), interface_info{port_id, subnet_id}}
//	                  after_delete   same Meta, for the removed interface (port may be gone)
//	                  before_delete  in the transaction, per subnet removed, may veto (return an
//	                                 error): ID router, Tx, Meta{subnet_id, port_id, cidr}
//	floatingip        after_create   ID fip, New = fip dict (port_id, fixed_ip_address, router_id)
//	                  after_update   ID fip, Old/New = fip dicts: the association is Old's
//	                                 (port_id, fixed_ip_address, router_id) → New's; a port's
//	                                 deletion disassociates with one after_update per fip
//	                  after_delete   ID fip, Old = fip dict
//
// # Go API for other parts
//
//	func (p *Plugin) SyncRouters(ctx context.Context, routerIDs []string) ([]map[string]any, error)
//	    the routers as Neutron's L3 RPC sync_routers returns them (router dict + gw_port +
//	    _interfaces + _floatingips, ports with "subnets"); every router when routerIDs is empty.
//	func (p *Plugin) SetFlavorCheck(f FlavorCheck)
//	    the flavors plugin validates flavor_id on router create (without one: FlavorNotFound).
//	func (p *Plugin) ReachableRouter(ctx context.Context, tx *db.Tx, extNetwork, portID, fixedIP string) (string, error)
//	    the router a floating IP (or port forwarding) of extNetwork to fixedIP on portID goes
//	    through (404 ExternalGatewayForFloatingIPNotFound when none): find a FIP's router.
//	func (p *Plugin) Routers() *store.Table, FloatingIPs() *store.Table
//	    the tables (reads, hooks of extensions such as qos_policy_id, port_forwardings:
//	    the floating IP resource declares both, answered null and [] until hooked).
//	func IsInternal(ctx context.Context) bool
//	    whether a write is the plugin's own (a floating IP disassociated because its
//	    port is deleted), not an API request.
//
// Races are decided by unique keys: routerports (a port belongs to one
// router), routers.gw_port_id, floatingips (floating_network_id,
// fixed_port_id, fixed_ip_address) — a floating IP losing the race for a
// fixed IP is retried and answers FloatingIPPortAlreadyAssociated.
//
// The plugin is looked up with env.Plugin("router").(*l3.Plugin).
package l3
