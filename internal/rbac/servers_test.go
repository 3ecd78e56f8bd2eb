package rbac_test

import (
	"context"
	"testing"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/rbac"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestObjectTypesPerServer: a callback one server adds to its "network"
// object type does not reach another server in the same process.
func TestObjectTypesPerServer(t *testing.T) {
	a := testutil.StartServer(t, testutil.Options{})
	b := testutil.StartServer(t, testutil.Options{})
	rbac.AddCallback(a.App.Env, "network", rbac.Callback{Name: "test.blocker", Func: func(context.Context, *db.Tx, *rbac.Change) error {
		return nerr.InvalidInput("blocked on server a")
	}})
	for _, s := range []*testutil.Server{a, b} {
		net := testutil.Do(t, "POST", s.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "n"}}).Expect(t, 201).Obj("network")
		body := map[string]any{"rbac_policy": map[string]any{"object_type": "network", "object_id": net["id"],
			"action": "access_as_shared", "target_tenant": "other"}}
		want := 201
		if s == a {
			want = 400
		}
		testutil.Do(t, "POST", s.URL+"/v2.0/rbac-policies", body).Expect(t, want)
	}
}
