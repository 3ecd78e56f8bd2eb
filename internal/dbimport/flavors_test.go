package dbimport_test

import (
	"context"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

const (
	refFlavor  = "6a0f4bd6-6f30-4d3d-9b57-1a2b3c4d5e01"
	refProfile = "6a0f4bd6-6f30-4d3d-9b57-1a2b3c4d5e02"
)

// flavorRows add a flavor bound to a service profile (Neutron's schema,
// Neutron's values) to the recorded database.
var flavorRows = []string{
	"INSERT INTO flavors (id, name, description, enabled, service_type) VALUES ('" + refFlavor + "', 'gold', 'd', 0, 'L3_ROUTER_NAT')",
	"INSERT INTO serviceprofiles (id, description, driver, enabled, metainfo) VALUES ('" + refProfile + "', 'p', 'neutron.services.l3_router.service_providers.single_node.SingleNodeDriver', 1, '')",
	"INSERT INTO flavorserviceprofilebindings (service_profile_id, flavor_id) VALUES ('" + refProfile + "', '" + refFlavor + "')",
}

// TestImportFlavors imports flavors, service profiles, their bindings and
// the routers' providers and reads them back through the API; the bound
// profile stays in use.
func TestImportFlavors(t *testing.T) {
	url, dst, rep := importWithRows(t, flavorRows)
	ctx := context.Background()
	for _, c := range rep.NotImported {
		switch c.Table {
		case "flavors", "serviceprofiles", "flavorserviceprofilebindings", "providerresourceassociations":
			t.Errorf("%s not imported", c.Table)
		}
	}
	var provider string
	if err := dst.QueryRow(ctx, "SELECT provider_name FROM providerresourceassociations").Scan(&provider); err != nil || provider != "single_node" {
		t.Errorf("router provider %q (%v)", provider, err)
	}
	base := testutil.StartServer(t, testutil.Options{DB: url, Set: testutil.ReferenceConfig()}).URL
	f := testutil.Do(t, "GET", base+"/v2.0/flavors/"+refFlavor, nil).Expect(t, 200).Obj("flavor")
	if f["name"] != "gold" || f["enabled"] != false || f["service_type"] != "L3_ROUTER_NAT" {
		t.Errorf("imported flavor %v", f)
	}
	if l, _ := f["service_profiles"].([]any); len(l) != 1 || l[0] != refProfile {
		t.Errorf("imported flavor's profiles %v", f["service_profiles"])
	}
	testutil.Do(t, "GET", base+"/v2.0/flavors/"+refFlavor+"/service_profiles/"+refProfile, nil).Expect(t, 200)
	testutil.Do(t, "DELETE", base+"/v2.0/service_profiles/"+refProfile, nil).Expect(t, 409)
}
