package portforwarding

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// protocols are neutron-lib's IPTABLES_PROTOCOL_MAP keys.
var protocols = []any{"dccp", "icmp", "ipv6-icmp", "sctp", "tcp", "udp"}

// toProtocol is convert_to_protocol: a known name in any case or a number
// 0-255 is kept as given (type:values then refuses what is not lower
// case), anything else is InvalidInput.
func toProtocol(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		for _, p := range protocols {
			if strings.ToLower(s) == p {
				return v, nil
			}
		}
	}
	if n, ok := pyfmt.Int(v); ok && n >= 0 && n <= 255 {
		if _, isBool := v.(bool); !isBool {
			return v, nil
		}
	}
	return nil, nerr.InvalidInput(fmt.Sprintf("IP protocol '%s' is not supported. Only protocol names and their integer representation (0 to 255) are supported",
		pyfmt.Str(v)))
}

// portRange is type:port_range (validate_port_range_or_none).
func portRange(v any) string {
	if v == nil {
		return ""
	}
	ports := strings.Split(pyfmt.Str(v), ":")
	if len(ports) > 2 {
		return "Port range must be two integers separated by a colon"
	}
	var n [2]int
	for i, p := range ports {
		val, err := strconv.Atoi(p)
		if err != nil || val <= 0 || val > 65535 {
			return "Invalid port: " + p
		}
		n[i] = val
	}
	if len(ports) == 2 && n[0] > n[1] {
		return "First port in a port range must be lower than the second port"
	}
	return ""
}

// rangeOrNone is type:range_or_none [1, 65535].
func rangeOrNone(v any) string {
	if v == nil {
		return ""
	}
	return api.Range(1, 65535)(v)
}

func notFound(id string) error {
	return nerr.NotFound("PortForwardingNotFound", "Port Forwarding %s could not be found.", id)
}

// Resource is /v2.0/floatingips/{id}/port_forwardings as Neutron Zed
// declares it with the description and port-ranges extensions.
func Resource(fips *api.Resource) *api.Resource {
	port := func(name string, filter bool) *api.Attribute {
		return &api.Attribute{Name: name, AllowPost: true, AllowPut: true, Default: nil, Validate: rangeOrNone,
			Visible: true, IsFilter: filter, IsSortKey: filter}
	}
	portRangeAttr := func(name string, filter bool) *api.Attribute {
		return &api.Attribute{Name: name, AllowPost: true, AllowPut: true, Default: nil, Validate: portRange,
			Visible: true, IsFilter: filter, IsSortKey: filter}
	}
	return &api.Resource{ExtensionController: true, Extension: "floating-ip-port-forwarding", Name: "port_forwarding",
		Collection: "port_forwardings", AllowBulk: true, NotFound: notFound,
		Parent: &api.Parent{Path: "floatingips", MemberName: "floatingip", Resource: fips},
		Attrs: []*api.Attribute{
			api.IDAttr(),
			{Name: "project_id", AllowPost: true, Required: true, Validate: api.String(255), RequiredByPolicy: true},
			port("external_port", true),
			port("internal_port", false),
			{Name: "internal_ip_address", AllowPost: true, AllowPut: true, Required: true, Validate: api.IPAddress, Visible: true},
			{Name: "protocol", AllowPost: true, AllowPut: true, Required: true, Convert: toProtocol,
				Validate: api.Values(protocols...), Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "internal_port_id", AllowPost: true, AllowPut: true, Required: true, Validate: api.UUID,
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255),
				Visible: true, IsFilter: true},
			portRangeAttr("external_port_range", true),
			portRangeAttr("internal_port_range", false),
		}}
}
