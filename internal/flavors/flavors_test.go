package flavors_test

import (
	"context"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/flavors"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

const singleNode = "neutron.services.l3_router.service_providers.single_node.SingleNodeDriver"

func post(t *testing.T, url, key string, obj map[string]any) *testutil.Response {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj})
}

// TestBindingsUnderConcurrency: one flavor-profile binding made at once
// through two servers on every engine: one 201, the others 409
// FlavorServiceProfileBindingExists; the bound profile is in use until
// its flavor is deleted, which takes the binding.
func TestBindingsUnderConcurrency(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			srv := [2]*testutil.Server{testutil.StartServer(t, testutil.Options{DB: url}), testutil.StartServer(t, testutil.Options{DB: url})}
			base := srv[0].URL + "/v2.0"
			flavors.Of(srv[0].App.Env).AddProviders(flavors.L3Providers()...)
			f := post(t, base+"/flavors", "flavor", map[string]any{"name": "f", "service_type": "FLAVORS"}).Expect(t, 201).Obj("flavor")["id"].(string)
			sp := post(t, base+"/service_profiles", "service_profile", map[string]any{"driver": singleNode}).Expect(t, 201).Obj("service_profile")["id"].(string)
			st := make([]int, 8)
			var wg sync.WaitGroup
			for i := range st {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					st[i] = post(t, srv[i%2].URL+"/v2.0/flavors/"+f+"/service_profiles", "service_profile", map[string]any{"id": sp}).Status
				}(i)
			}
			wg.Wait()
			created := 0
			for _, s := range st {
				switch s {
				case 201:
					created++
				case 409:
				default:
					t.Fatalf("statuses %v", st)
				}
			}
			if created != 1 {
				t.Fatalf("%d bindings created (statuses %v)", created, st)
			}
			got := testutil.Do(t, "GET", base+"/flavors/"+f, nil).Expect(t, 200).Obj("flavor")["service_profiles"]
			if l, _ := got.([]any); len(l) != 1 || l[0] != sp {
				t.Fatalf("service_profiles %v", got)
			}
			if r := testutil.Do(t, "DELETE", base+"/service_profiles/"+sp, nil); r.ErrorType() != "ServiceProfileInUse" {
				t.Fatalf("delete a bound profile: %d %s", r.Status, r.Raw)
			}
			testutil.Do(t, "DELETE", base+"/flavors/"+f, nil).Expect(t, 204)
			testutil.Do(t, "DELETE", base+"/service_profiles/"+sp, nil).Expect(t, 204)
		})
	}
}

// TestRouterProvider: the L3 driver controller's check of a router
// create, from the flavor to its first profile, its driver's provider and
// the flags the provider supports; without a flavor the flags choose.
func TestRouterProvider(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	p := flavors.Of(srv.App.Env)
	p.AddProviders(flavors.L3Providers()...)
	base := srv.URL + "/v2.0"
	newFlavor := func(driver string, enabled bool) string {
		f := post(t, base+"/flavors", "flavor", map[string]any{"name": "f", "service_type": "FLAVORS"}).Expect(t, 201).Obj("flavor")["id"].(string)
		if driver != "" {
			sp := post(t, base+"/service_profiles", "service_profile", map[string]any{"driver": driver, "enabled": enabled}).Expect(t, 201).Obj("service_profile")["id"].(string)
			post(t, base+"/flavors/"+f+"/service_profiles", "service_profile", map[string]any{"id": sp}).Expect(t, 201)
		}
		return f
	}
	single, empty, disabled := newFlavor(singleNode, true), newFlavor("", true), newFlavor(singleNode, false)
	dvr := newFlavor("neutron.services.l3_router.service_providers.dvr.DvrDriver", true)
	for _, c := range []struct {
		router   api.Object
		provider string
		errType  string
		msg      string
	}{
		{api.Object{"flavor_id": single}, "single_node", "", ""},
		{api.Object{"flavor_id": single, "ha": false, "distributed": false}, "single_node", "", ""},
		{api.Object{"flavor_id": single, "ha": true}, "", "InvalidInput", "Invalid input for operation: Provider single_node does not support ha=True."},
		{api.Object{"flavor_id": dvr, "distributed": false}, "", "InvalidInput", "Invalid input for operation: Provider dvr does not support distributed=False."},
		{api.Object{"flavor_id": dvr}, "dvr", "", ""},
		{api.Object{"flavor_id": empty}, "", "FlavorServiceProfileBindingNotFound", "Service Profile  is not associated with flavor " + empty + "."},
		{api.Object{"flavor_id": disabled}, "", "ServiceProfileDisabled", "Service Profile is not enabled."},
		{api.Object{"flavor_id": "nope"}, "", "FlavorNotFound", "Flavor nope could not be found."},
		{api.Object{"flavor_id": nil}, "", "FlavorNotFound", "Flavor None could not be found."},
		{api.Object{}, "single_node", "", ""},
		{api.Object{"ha": true}, "ha", "", ""},
		{api.Object{"ha": true, "distributed": true}, "dvrha", "", ""},
		{api.Object{"distributed": true, "ha": false}, "dvr", "", ""},
	} {
		drv, err := p.RouterProvider(context.Background(), srv.App.DB, c.router)
		if c.errType == "" {
			if err != nil || drv.Name != c.provider {
				t.Errorf("%v: provider %q, error %v; want %s", c.router, drv.Name, err, c.provider)
			}
			continue
		}
		ne, ok := nerr.As(err)
		if !ok || ne.Type != c.errType || ne.Message != c.msg {
			t.Errorf("%v: error %v, want %s %q", c.router, err, c.errType, c.msg)
		}
	}
}
