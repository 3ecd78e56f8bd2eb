package mechovn

import (
	"context"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// NB names and external_ids keys as ML2/OVN writes them.
const (
	extRevision   = "neutron:revision_number"
	extSGID       = "neutron:security_group_id"
	extRuleID     = "neutron:security_group_rule_id"
	pgDropName    = "neutron_pg_drop"
	switchPrefix  = "neutron-"
	localnetPrefx = "provnet-"
)

func switchName(netID string) string { return switchPrefix + netID }

func pgName(sgID string) string { return "pg_" + strings.ReplaceAll(sgID, "-", "_") }

// revisionOf is the neutron:revision_number of external_ids (-1 when absent).
func revisionOf(ext map[string]string) int64 {
	n, err := strconv.ParseInt(ext[extRevision], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (d *Driver) switchByName(ctx context.Context, name string) *nbdb.LogicalSwitch {
	var out []nbdb.LogicalSwitch
	err := d.nb.OVSDB().WhereCache(func(ls *nbdb.LogicalSwitch) bool { return ls.Name == name }).List(ctx, &out)
	if err != nil || len(out) == 0 {
		return nil
	}
	return &out[0]
}

func (d *Driver) lspByName(ctx context.Context, name string) *nbdb.LogicalSwitchPort {
	p := &nbdb.LogicalSwitchPort{Name: name}
	if err := d.nb.OVSDB().Get(ctx, p); err != nil {
		return nil
	}
	return p
}

func (d *Driver) pgByName(ctx context.Context, name string) *nbdb.PortGroup {
	p := &nbdb.PortGroup{Name: name}
	if err := d.nb.OVSDB().Get(ctx, p); err != nil {
		return nil
	}
	return p
}

// dhcpRows are the DHCP_Options rows of a subnet (the subnet's own and its ports').
func (d *Driver) dhcpRows(ctx context.Context, subnetID string) []nbdb.DHCPOptions {
	var out []nbdb.DHCPOptions
	_ = d.nb.OVSDB().WhereCache(func(o *nbdb.DHCPOptions) bool {
		return o.ExternalIDs["subnet_id"] == subnetID
	}).List(ctx, &out)
	return out
}

// subnetDHCP is the subnet's own DHCP_Options row (no port_id), or nil.
func (d *Driver) subnetDHCP(ctx context.Context, subnetID string) *nbdb.DHCPOptions {
	for _, o := range d.dhcpRows(ctx, subnetID) {
		if o.ExternalIDs["port_id"] == "" {
			return &o
		}
	}
	return nil
}

// connected waits for the NB connection (bounded by the configured timeout).
func (d *Driver) connected(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.s.conn.Timeout)
	defer cancel()
	return d.nb.WaitConnected(ctx)
}
