package db_test

import (
	"context"
	"testing"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestLease: one process at a time holds a named lease: a second holder
// is refused while the first renews it, and gets it once released; other
// names are independent. On every engine.
func TestLease(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			d, err := db.Open(e.URL(t), db.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			if _, err := d.Migrate(ctx, db.Schema()); err != nil {
				t.Fatal(err)
			}
			a, b, other := db.NewLease(d, "x"), db.NewLease(d, "x"), db.NewLease(d, "y")
			if !a.Acquire(ctx) || !a.Acquire(ctx) {
				t.Fatal("the first holder does not get or renew the lease")
			}
			if b.Acquire(ctx) {
				t.Fatal("two holders of one lease")
			}
			if !other.Acquire(ctx) {
				t.Fatal("another lease is not independent")
			}
			a.Release(ctx)
			if !b.Acquire(ctx) || a.Acquire(ctx) {
				t.Fatal("the lease does not pass on after its release")
			}
		})
	}
}
