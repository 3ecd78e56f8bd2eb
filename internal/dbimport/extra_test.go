package dbimport_test

import (
	"context"
	"testing"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/dbimport"
	"github.com/neutrino-os/neutrino/internal/dbimport/dbimporttest"
)

// importWithRows loads the reference's database plus rows into its copy,
// imports it into a fresh SQLite database and returns that database's URL,
// the open database (closed with the test) and the import's report.
func importWithRows(t *testing.T, rows []string) (string, *db.DB, *dbimport.Report) {
	t.Helper()
	_, src := dbimporttest.LoadReference(t)
	ctx := context.Background()
	for _, q := range rows {
		if _, err := src.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	url := "sqlite:///" + t.TempDir() + "/n.db"
	dst, err := db.Open(url, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	rep, err := dbimport.Import(ctx, src, dst, dbimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return url, dst, rep
}
