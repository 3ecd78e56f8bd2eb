package rpc

import "github.com/neutrino-os/neutrino/internal/api"

// trunkOVO is a Trunk 1.1 primitive of an API trunk, with its SubPort 1.0 sub-ports.
func trunkOVO(t api.Object) ovo {
	id := str(t["id"])
	subs := []ovo{}
	for _, s := range list(t["sub_ports"]) {
		m, _ := s.(map[string]any)
		subs = append(subs, subportOVO(id, m))
	}
	d := map[string]any{"id": id, "project_id": t["project_id"], "name": t["name"], "description": t["description"],
		"admin_state_up": t["admin_state_up"], "port_id": t["port_id"], "status": t["status"], "sub_ports": subs,
		"revision_number": t["revision_number"], "created_at": t["created_at"], "updated_at": t["updated_at"]}
	return primitive("Trunk", "1.1", d)
}

// subportOVO is a SubPort 1.0 primitive of a trunk's sub-port.
func subportOVO(trunk string, s map[string]any) ovo {
	return primitive("SubPort", "1.0", map[string]any{"port_id": s["port_id"], "trunk_id": trunk,
		"segmentation_type": s["segmentation_type"], "segmentation_id": s["segmentation_id"]})
}

// ovoData is the data of a primitive, or the object itself when it is a plain dict (the server's
// serializer turns either into an object the methods index alike).
func ovoData(v any) map[string]any {
	m, _ := v.(map[string]any)
	if d, ok := m["versioned_object.data"].(map[string]any); ok {
		return d
	}
	return m
}
