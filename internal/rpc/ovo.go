package rpc

import (
	"encoding/json"

	"github.com/google/uuid"
)

// ovo is an oslo.versionedobjects primitive as Neutron's objects
// serialize themselves (obj_to_primitive): a field whose column is NULL
// is left out, a synthetic field is written even when null.
type ovo = map[string]any

func primitive(name, version string, data map[string]any) ovo {
	return ovo{"versioned_object.name": name, "versioned_object.namespace": "versionedobjects",
		"versioned_object.version": version, "versioned_object.data": data}
}

// setIf sets key when v is not nil (a NULL column is not set).
func setIf(m map[string]any, key string, v any) {
	if v != nil {
		m[key] = v
	}
}

// jsonText is how JSON columns travel in objects (PortBinding.profile and
// vif_details are strings): null stays null.
func jsonText(v any) any {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// derivedID is a stable id for rows neutrino keeps without one
// (allocation pools).
func derivedID(parts ...string) string {
	s := ""
	for _, p := range parts {
		s += p + "|"
	}
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(s)).String()
}

func list(v any) []any {
	l, _ := v.([]any)
	if l == nil {
		return []any{}
	}
	return l
}

func str(v any) string { s, _ := v.(string); return s }
