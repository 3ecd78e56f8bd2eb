package db

func init() {
	Register(migration52)
}

// migration52 holds the tunnel endpoints the L2 agents register with
// tunnel_sync (Neutron's ml2_vxlan_endpoints, ml2_gre_endpoints and
// ml2_geneve_endpoints in one table): one per type and address.
var migration52 = Migration{Version: 52, Name: "tunnel endpoints", Stmts: []string{
	`CREATE TABLE ml2_tunnel_endpoints (
			tunnel_type {str:32} NOT NULL,
			ip_address {str:64} NOT NULL,
			host {str:255},
			udp_port {int},
			PRIMARY KEY (tunnel_type, ip_address)
		){table}`,
}}
