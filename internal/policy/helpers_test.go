package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// newTestEnforcer builds an enforcer that never reads the working
// directory's policy files, with the fake resolver installed.
func newTestEnforcer(t testing.TB, o Options) *Enforcer {
	t.Helper()
	if o.ConfigDir == "" && o.PolicyFile == "" {
		o.ConfigDir = t.TempDir()
	}
	if o.PolicyDirs == nil {
		o.PolicyDirs = []string{}
	}
	e, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.SetResolver(fakeResolver(nil))
	return e
}

// fake parent resources: network n1 belongs to p1, n3 is p3's shared
// network, sg1 and fip1 belong to p1.
var fakeDB = map[string]map[string]map[string]any{
	"network": {
		"n1": {"tenant_id": "p1", "shared": false},
		"n2": {"tenant_id": "p2", "shared": false},
		"n3": {"tenant_id": "p3", "shared": true},
	},
	"security_group": {"sg1": {"tenant_id": "p1"}},
	"floatingip":     {"fip1": {"tenant_id": "p1"}},
	"router":         {"r1": {"tenant_id": "p1"}},
}

var errNotFound = errors.New("not found")

// fakeResolver looks parents up in fakeDB, counting calls in *calls.
func fakeResolver(calls *int) Resolver {
	return func(_ context.Context, resource, field string, target map[string]any) (any, error) {
		if calls != nil {
			*calls++
		}
		key := resource + "_id"
		if resource != "network" && resource != "security_group" {
			key = "ext_parent_" + resource + "_id"
		}
		id, _ := target[key].(string)
		row, ok := fakeDB[resource][id]
		if !ok {
			return nil, fmt.Errorf("%s %q: %w", resource, id, errNotFound)
		}
		return row[field], nil
	}
}

// Personas.
var (
	adminCtx = &reqctx.Context{UserID: "admin", ProjectID: "pa", Roles: []string{"admin", "member", "reader"}, IsAdmin: true}
	// ownerCtx is a member of p1, the project owning the test resources.
	ownerCtx = &reqctx.Context{UserID: "u1", ProjectID: "p1", Roles: []string{"member", "reader"}}
	// otherCtx is a member of another project.
	otherCtx = &reqctx.Context{UserID: "u2", ProjectID: "p2", Roles: []string{"member", "reader"}}
	// readerCtx only reads p1.
	readerCtx = &reqctx.Context{UserID: "u3", ProjectID: "p1", Roles: []string{"reader"}}
	// noRoleCtx has a p1 token without any of the new default roles.
	noRoleCtx = &reqctx.Context{UserID: "u4", ProjectID: "p1", Roles: []string{"_member_"}}
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// owned returns a target owned by project.
func owned(project string, kv ...any) map[string]any {
	m := map[string]any{"project_id": project, "tenant_id": project}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}
