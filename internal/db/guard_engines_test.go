package db_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestEngineDataErrorIs400: a value an engine refuses in a table the guard
// does not know (too long, out of range) is a 400, not a 500.
func TestEngineDataErrorIs400(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		if e.Name == "sqlite" {
			continue // stores anything
		}
		t.Run(e.Name, func(t *testing.T) {
			d, err := db.Open(e.URL(t), db.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			if _, err := d.Exec(ctx, "CREATE TABLE guard_probe (c VARCHAR(3), n INTEGER)"); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]any{{"abcd", 1}, {"abc", int64(1) << 40}} {
				err := d.Write(ctx, func(tx *db.Tx) error {
					_, err := tx.Exec(ctx, "INSERT INTO guard_probe (c, n) VALUES (?, ?)", args...)
					return err
				})
				if ne, ok := nerr.As(err); !ok || ne.Status != http.StatusBadRequest {
					t.Errorf("%v: %v, want a 400", args, err)
				}
			}
		})
	}
}
