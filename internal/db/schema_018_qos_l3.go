package db

func init() {
	Register(migration18)
}

// migration18 binds QoS policies to floating IPs (qos-fip) and router
// gateways (qos-gateway-ip), Neutron's qos_fip_policy_bindings and
// qos_router_gw_policy_bindings: one policy per object, the binding goes
// with the object; a policy in use cannot be deleted (the qos plugin's
// check: qos_policies comes with a later migration, so no foreign key
// names it).
var migration18 = Migration{Version: 18, Name: "qos bindings of floating ips and router gateways", Stmts: []string{
	`CREATE TABLE qos_fip_policy_bindings (
			fip_id {id} NOT NULL PRIMARY KEY,
			policy_id {id} NOT NULL,
			FOREIGN KEY (fip_id) REFERENCES floatingips (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_qos_fip_policy_bindings_policy ON qos_fip_policy_bindings (policy_id)`,
	`CREATE TABLE qos_router_gw_policy_bindings (
			router_id {id} NOT NULL PRIMARY KEY,
			policy_id {id} NOT NULL,
			FOREIGN KEY (router_id) REFERENCES routers (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_qos_router_gw_policy_bindings_policy ON qos_router_gw_policy_bindings (policy_id)`,
}}
