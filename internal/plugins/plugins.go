// Package plugins links every built-in plugin into the binary; importing it
// registers them (ml2 and its type drivers, service plugins) by name.
package plugins

import (
	_ "github.com/neutrino-os/neutrino/internal/addressgroup"   // ml2 component: address groups
	_ "github.com/neutrino-os/neutrino/internal/agents"         // ml2 component: agents
	_ "github.com/neutrino-os/neutrino/internal/autoallocate"   // service plugin "auto_allocate" (default)
	_ "github.com/neutrino-os/neutrino/internal/az"             // ml2 component: availability zones
	_ "github.com/neutrino-os/neutrino/internal/flavors"        // service plugin "flavors" (default), service type manager
	_ "github.com/neutrino-os/neutrino/internal/l3"             // service plugin "router"
	_ "github.com/neutrino-os/neutrino/internal/mechovn"        // ML2 mechanism driver "ovn"
	_ "github.com/neutrino-os/neutrino/internal/metering"       // service plugin "metering"
	_ "github.com/neutrino-os/neutrino/internal/ml2"            // core plugin "ml2"
	_ "github.com/neutrino-os/neutrino/internal/openvswitch"    // ml2 mechanism driver openvswitch
	_ "github.com/neutrino-os/neutrino/internal/portforwarding" // service plugin "port_forwarding"
	_ "github.com/neutrino-os/neutrino/internal/qos"            // service plugin "qos", ML2 extension driver "qos"
	_ "github.com/neutrino-os/neutrino/internal/rbac"           // ml2 component: RBAC policies
	_ "github.com/neutrino-os/neutrino/internal/secgroup"       // ml2 component: security groups
	_ "github.com/neutrino-os/neutrino/internal/segments"       // service plugin "segments"
	_ "github.com/neutrino-os/neutrino/internal/subnetpool"     // ml2 component: address scopes, subnet pools
	_ "github.com/neutrino-os/neutrino/internal/trunk"          // service plugin "trunk"
)
