package dbimport

import (
	"context"
	"fmt"
	"sort"
)

// checkNeutron makes sure the source is a Neutron database of Zed or a
// later release (every migration since Zed only adds tables and columns,
// so what Zed has is there).
func checkNeutron(s *Source) error {
	for _, t := range []string{"alembic_version", "standardattributes", "networks", "ports"} {
		if !s.Has(t) {
			return fmt.Errorf("not a Neutron database (it has no %s table)", t)
		}
	}
	// Yoga renamed the RBAC tables' target_tenant; Zed added port ranges
	// to port forwardings.
	if !s.HasColumn("networkrbacs", "target_project") || !s.HasColumn("portforwardings", "internal_port_start") {
		return fmt.Errorf("the Neutron schema is older than Zed: upgrade it first (neutron-db-manage upgrade heads, with Neutron Zed or later)")
	}
	return nil
}

// ignoredTables hold state neutrino does not need: bookkeeping of
// Neutron's own machinery (migrations, agents and their schedulers,
// reservations, provisioning blocks, hash rings), the copy Neutron's
// internal IPAM keeps of ipallocations, and what the import reads through
// others (standardattributes).
var ignoredTables = map[string]bool{
	"alembic_version": true, "standardattributes": true,
	"agents": true, "networkdhcpagentbindings": true, "segmenthostmappings": true, // host mappings come back from the agents
	"provisioningblocks": true, "reservations": true, "resourcedeltas": true, "quotausages": true,
	"ml2_vxlan_endpoints": true, "ml2_gre_endpoints": true, "ml2_geneve_endpoints": true,
	"ml2_port_binding_levels": true, "ml2_distributed_port_bindings": true,
	"ipamsubnets": true, "ipamallocationpools": true, "ipamallocations": true,
	"network_subnet_lock": true, "ovn_hash_ring": true, "ovn_revision_numbers": true,
	"dvr_host_macs": true, "consistencyhashes": true,
}

// notImported lists the source's non-empty tables that no importer reads.
func notImported(ctx context.Context, s *Source) ([]TableCount, error) {
	read := map[string]bool{}
	for _, im := range importers {
		for _, t := range im.Reads {
			read[t] = true
		}
		for t := range im.RBAC {
			read[t] = true
		}
	}
	tables := s.Tables()
	sort.Strings(tables)
	var out []TableCount
	for _, t := range tables {
		if read[t] || ignoredTables[t] {
			continue
		}
		n, err := s.Count(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		if n > 0 {
			out = append(out, TableCount{Table: t, Rows: n})
		}
	}
	return out, nil
}

// stdCols are the standard attributes of a resource joined as sa.
const stdCols = "sa.description, sa.created_at, sa.updated_at, sa.revision_number"

// std returns a row's standard attributes in neutrino's column order
// (description, created_at, updated_at, revision_number); a NULL
// description is "".
func std(r Row) []any {
	return []any{r.Str("description"), r.Time("created_at"), r.Time("updated_at"), r.Int("revision_number")}
}
