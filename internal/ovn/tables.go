package ovn

import (
	"fmt"
	"log/slog"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
	"github.com/ovn-kubernetes/libovsdb/model"
)

// NBTables are the Northbound tables the client monitors: what the ML2/OVN driver writes
// (switches, ports, routers, ACLs, port groups, address sets, DHCP options, NAT, routes, load
// balancers for port forwarding, gateway chassis and HA chassis groups, DNS, QoS) and NB_Global.
func NBTables() []model.Model {
	return []model.Model{
		&nbdb.NBGlobal{}, &nbdb.LogicalSwitch{}, &nbdb.LogicalSwitchPort{}, &nbdb.LogicalRouter{},
		&nbdb.LogicalRouterPort{}, &nbdb.ACL{}, &nbdb.PortGroup{}, &nbdb.AddressSet{}, &nbdb.DHCPOptions{},
		&nbdb.NAT{}, &nbdb.LogicalRouterStaticRoute{}, &nbdb.LoadBalancer{}, &nbdb.GatewayChassis{},
		&nbdb.HAChassisGroup{}, &nbdb.HAChassis{}, &nbdb.DNS{}, &nbdb.QoS{},
	}
}

// SBTables are the Southbound tables the client monitors: chassis (agents, gateway scheduling,
// availability zones), their liveness (Chassis_Private.nb_cfg) and where ports are bound.
func SBTables() []model.Model {
	return []model.Model{&sbdb.SBGlobal{}, &sbdb.Chassis{}, &sbdb.ChassisPrivate{}, &sbdb.Encap{}, &sbdb.PortBinding{}}
}

// NewNB prepares a client of the Northbound database (cfg.NB) monitoring tables (NBTables() when
// nil). Call Start to connect.
func NewNB(cfg Config, tables []model.Model, log *slog.Logger) (*Client, error) {
	m, err := nbdb.FullDatabaseModel()
	if err != nil {
		return nil, fmt.Errorf("ovn: NB model: %w", err)
	}
	if tables == nil {
		tables = NBTables()
	}
	return newClient(m, cfg.NB, cfg, tables, log)
}

// NewSB prepares a client of the Southbound database (cfg.SB) monitoring tables (SBTables() when
// nil). Call Start to connect.
func NewSB(cfg Config, tables []model.Model, log *slog.Logger) (*Client, error) {
	m, err := sbdb.FullDatabaseModel()
	if err != nil {
		return nil, fmt.Errorf("ovn: SB model: %w", err)
	}
	if tables == nil {
		tables = SBTables()
	}
	return newClient(m, cfg.SB, cfg, tables, log)
}
