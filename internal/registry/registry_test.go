package registry

import (
	"strings"
	"testing"
)

func TestRegisterLookupAndDuplicates(t *testing.T) {
	Register(Module{ID: "test.things.b", New: func() int { return 2 }, Order: 2})
	Register(Module{ID: "test.things.a", Aliases: []string{"pkg.A"}, New: func() int { return 1 }, Order: 1})
	if m, ok := Get("test.things", "pkg.A"); !ok || m.Name() != "a" || m.Namespace() != "test.things" {
		t.Fatalf("alias lookup: %+v %v", m, ok)
	}
	if got := strings.Join(Names("test.things"), ","); got != "a,b" {
		t.Fatalf("names %q", got)
	}
	if ms := Modules("test.things"); ms[0].Name() != "a" || ms[1].Name() != "b" {
		t.Fatalf("order %v", ms)
	}
	_, err := Lookup("test.things", "c")
	if err == nil || !strings.Contains(err.Error(), `unknown name "c" (available: a, b)`) {
		t.Fatalf("unknown: %v", err)
	}
	for _, m := range []Module{
		{ID: "test.things.a", New: func() {}},
		{ID: "test.things.z", Aliases: []string{"pkg.A"}, New: func() {}},
		{ID: "nonamespace", New: func() {}},
		{ID: "test.things.n"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registering %+v did not panic", m)
				}
			}()
			Register(m)
		}()
	}
	// a nested namespace is not part of its parent's listing
	Register(Module{ID: "test.things.sub.x", New: func() {}})
	if got := strings.Join(Names("test.things"), ","); got != "a,b" {
		t.Fatalf("names with a nested namespace %q", got)
	}
}
