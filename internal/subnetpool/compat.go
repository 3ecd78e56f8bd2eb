package subnetpool

import "github.com/neutrino-os/neutrino/internal/netaddr"

// IPNetwork parsing and IP sets moved to package netaddr. These names keep
// branches written before the move compiling.
//
// Deprecated: use the netaddr names; delete this file once no branch uses
// them.
type (
	Net = netaddr.Net
	Set = netaddr.Set
)

// Deprecated: see above.
var (
	ParseNet = netaddr.ParseNet
	NewSet   = netaddr.NewSet
	Compact  = netaddr.Compact
)
