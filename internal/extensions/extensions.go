// Package extensions is the catalogue of Networking API extension
// descriptors (name, description, updated) exactly as Neutron Zed publishes
// them on /v2.0/extensions; plugins say which aliases they implement and
// the server lists those, described from here.
package extensions

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/neutrino-os/neutrino/internal/api"
)

// zed.json is what the reference Neutron (Zed) answers on GET /v2.0/extensions,
// plus the descriptors of the extensions of plugins its configuration does
// not load (metering, metering_source_and_destination_fields).
//
//go:embed zed.json
var zedJSON []byte

var catalogue = func() map[string]api.ExtensionInfo {
	var doc struct {
		Extensions []api.ExtensionInfo `json:"extensions"`
	}
	if err := json.Unmarshal(zedJSON, &doc); err != nil {
		panic(err)
	}
	m := map[string]api.ExtensionInfo{}
	for _, e := range doc.Extensions {
		m[e.Alias] = e
	}
	return m
}()

// List describes aliases, in Neutron's order (sorted by alias' extension
// class name is Neutron's; we sort by name as the reference list does).
func List(aliases []string) ([]api.ExtensionInfo, error) {
	var out []api.ExtensionInfo
	for _, a := range aliases {
		e, ok := catalogue[a]
		if !ok {
			return nil, fmt.Errorf("extension %q has no descriptor", a)
		}
		out = append(out, e)
	}
	order := map[string]int{}
	for i, a := range referenceOrder() {
		order[a] = i
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i].Alias] < order[out[j].Alias] })
	return out, nil
}

func referenceOrder() []string {
	var doc struct {
		Extensions []api.ExtensionInfo `json:"extensions"`
	}
	json.Unmarshal(zedJSON, &doc)
	out := make([]string, len(doc.Extensions))
	for i, e := range doc.Extensions {
		out[i] = e.Alias
	}
	return out
}
