package ml2

import (
	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/plugin"
)

// port-mac-override: the MAC address of a direct-physical port comes from
// the physical device, which Nova names in the binding profile
// (device_mac_address). When such a port's binding is committed the
// port's MAC becomes that one, or a new random MAC when the profile has
// none (a port being unbound must not keep a device's MAC). The change is
// made after the port's answer is built, as Neutron commits bindings after
// it: the answer shows the old MAC, the next read the new one. A device
// MAC another port of the network uses is MacAddressInUse.
func init() {
	RegisterComponent(Component{Name: "port_mac_override", Order: 90, Setup: setupMACOverride})
}

func setupMACOverride(env *plugin.Env, p *Plugin) error {
	for _, ev := range []events.Event{events.PrecommitCreate, events.PrecommitUpdate} {
		env.Bus.Subscribe(events.Port, ev, "ml2.port_mac_override", events.PriorityDefault, p.overrideMAC)
	}
	env.AddExtensions("port-mac-override")
	return nil
}

// bindingCommitted reports whether a write of a port committed a binding:
// a create with a host; an update of a port with a host whose binding
// inputs changed or whose binding failed or never happened (Neutron binds
// it again); an update removing the host.
func bindingCommitted(old, cur map[string]any) bool {
	host, _ := cur["binding:host_id"].(string)
	if old == nil {
		return host != ""
	}
	oldHost, _ := old["binding:host_id"].(string)
	if host == "" {
		return oldHost != ""
	}
	switch old["binding:vif_type"] {
	case VIFUnbound, "binding_failed":
		return true
	}
	for _, k := range []string{"binding:host_id", "binding:vnic_type", "binding:profile"} {
		if !sameJSON(old[k], cur[k]) {
			return true
		}
	}
	return false
}

func sameJSON(a, b any) bool {
	return string(api.AppendJSON(nil, a)) == string(api.AppendJSON(nil, b))
}

func (p *Plugin) overrideMAC(_ string, _ events.Event, pl *events.Payload) error {
	cur := pl.New
	if cur == nil || cur["binding:vnic_type"] != "direct-physical" || !bindingCommitted(pl.Old, cur) {
		return nil
	}
	prof, _ := cur["binding:profile"].(map[string]any)
	want, _ := prof["device_mac_address"].(string)
	oldMAC, _ := cur["mac_address"].(string)
	netID, _ := cur["network_id"].(string)
	if want != "" && macKey(want) == macKey(oldMAC) {
		return nil
	}
	var requested any
	if want != "" {
		requested = want
	}
	mac, err := p.assignMAC(pl.Ctx, pl.Tx, netID, pl.ID, requested)
	if err != nil {
		return err
	}
	if err := releaseMAC(pl.Ctx, pl.Tx, netID, oldMAC); err != nil {
		return err
	}
	_, err = pl.Tx.Exec(pl.Ctx, "UPDATE ports SET mac_address = ? WHERE id = ?", mac, pl.ID)
	return err
}
