package mechovn

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// The binding:profile checks of ML2/OVN (validate_and_get_data_from_binding_profile, run by
// create_port_precommit and update_port_precommit): the first of the parameter sets below that
// applies to the port's VNIC type and capabilities and has one of its keys in the profile must have
// all of them, each of one of its types; a parent_name must be a port, a tag in 0-4095.

// profileParam is one key of a parameter set and the types it may have.
type profileParam struct {
	key   string
	types []string // "str", "int", "None"
}

type profileSet struct {
	params     []profileParam
	vnic, capa string // the VNIC type and capability the set is for ("" for any)
}

var profileSets = []profileSet{
	{params: []profileParam{{"parent_name", []string{"str"}}, {"tag", []string{"int"}}}},
	{params: []profileParam{{"vtep-physical-switch", []string{"str"}}, {"vtep-logical-switch", []string{"str"}}}},
	{params: []profileParam{{"pci_vendor_info", []string{"str"}}, {"pci_slot", []string{"str"}}, {"physical_network", []string{"str", "None"}}},
		vnic: "direct", capa: "switchdev"},
	{params: []profileParam{{"pci_vendor_info", []string{"str"}}, {"pci_slot", []string{"str"}}, {"physical_network", []string{"str", "None"}},
		{"card_serial_number", []string{"str"}}, {"pf_mac_address", []string{"str"}}, {"vf_num", []string{"int"}}}, vnic: "remote-managed"},
}

// pyType says whether v is of a Python type as json decodes it (an integral number is an int,
// and so is a bool).
func pyType(v any, typ string) bool {
	switch typ {
	case "str":
		_, ok := v.(string)
		return ok
	case "None":
		return v == nil
	}
	if _, ok := v.(bool); ok {
		return true
	}
	f, ok := pyfmt.Number(v)
	return ok && f == math.Trunc(f)
}

// validateProfile checks a port's binding:profile as ML2/OVN does (nerr.InvalidInput, or the parent
// port's PortNotFound).
func (d *Driver) validateProfile(ctx context.Context, port api.Object) error {
	profile, _ := port["binding:profile"].(map[string]any)
	if len(profile) == 0 || str(port["device_owner"]) == "network:floatingip" {
		return nil
	}
	caps, ok := profile["capabilities"]
	if !ok {
		caps = []any{}
	}
	capList, isList := caps.([]any)
	if !isList {
		return nerr.InvalidInput("Invalid binding:profile. capabilities must be of type list.")
	}
	vnic := str(port["binding:vnic_type"])
	for _, set := range profileSets {
		if set.vnic != "" && (set.vnic != vnic || len(capList) > 0 && !slices.Contains(capList, any(set.capa))) {
			continue
		}
		var keys []string
		have := 0
		for _, p := range set.params {
			keys = append(keys, pyfmt.Repr(p.key))
			if _, ok := profile[p.key]; ok {
				have++
			}
		}
		if have == 0 {
			continue
		}
		if have < len(set.params) {
			return nerr.InvalidInput(fmt.Sprintf("Invalid binding:profile. dict_keys([%s]) are all required.", strings.Join(keys, ", ")))
		}
		for _, p := range set.params {
			if !slices.ContainsFunc(p.types, func(t string) bool { return pyType(profile[p.key], t) }) {
				return nerr.InvalidInput(fmt.Sprintf("Invalid binding:profile. %s %s value invalid type", p.key, pyfmt.StrJSON(profile[p.key])))
			}
		}
		if parent, ok := profile["parent_name"].(string); ok && set.params[0].key == "parent_name" {
			if _, err := d.tables.ports.Get(admin(ctx), parent, []string{"id"}); err != nil {
				if gone(err) {
					return ml2.PortNotFound(parent)
				}
				return err
			}
			if tag := intOf(profile["tag"]); tag < 0 || tag > 4095 {
				return nerr.InvalidInput(fmt.Sprintf("Invalid binding:profile. tag \"%d\" must be an integer between 0 and 4095, inclusive", tag))
			}
		}
		return nil
	}
	return nil
}
