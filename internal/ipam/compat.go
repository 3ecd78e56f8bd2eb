package ipam

import "github.com/neutrino-os/neutrino/internal/netaddr"

// The address arithmetic that was here moved to package netaddr. These
// names keep branches written before the move compiling.
//
// Deprecated: use the netaddr names; delete this file once no branch uses
// them.
type (
	U128  = netaddr.U128
	Range = netaddr.Range
)

// Deprecated: see above.
var (
	FromAddr       = netaddr.FromAddr
	Version        = netaddr.Version
	Bits           = netaddr.Bits
	Format         = netaddr.Format
	ParseIP        = netaddr.ParseIP
	MustParse      = netaddr.MustParse
	ParseNetwork   = netaddr.ParseNetwork
	CanonicalCIDR  = netaddr.CanonicalCIDR
	Prefix         = netaddr.Prefix
	FormatPrefix   = netaddr.FormatPrefix
	CanonicalIP    = netaddr.CanonicalIP
	First          = netaddr.First
	Last           = netaddr.Last
	Size           = netaddr.Size
	Offset         = netaddr.Offset
	IsMulticast    = netaddr.IsMulticast
	IsLoopback     = netaddr.IsLoopback
	CheckSubnetIP  = netaddr.CheckSubnetIP
	GatewayInvalid = netaddr.GatewayInvalid
	GeneratePools  = netaddr.GeneratePools
	PoolBounds     = netaddr.PoolBounds
	TotalSize      = netaddr.TotalSize
	ParseMAC       = netaddr.ParseMAC
	FormatMAC      = netaddr.FormatMAC
	EUI64          = netaddr.EUI64
	IsEUI64        = netaddr.IsEUI64
)
