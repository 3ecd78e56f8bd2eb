// Package ovnmem serves OVN Northbound and Southbound databases from memory (libovsdb's in-memory
// OVSDB server) on a unix socket, for tests that need an OVN without the lab.
package ovnmem

import (
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/database/inmemory"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"github.com/ovn-kubernetes/libovsdb/server"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
)

// NB serves an empty Northbound database on the unix socket sock until t ends.
func NB(t testing.TB, sock string) *server.OvsdbServer {
	m, err := nbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, sock, m, nbdb.Schema())
}

// SB serves an empty Southbound database on the unix socket sock until t ends.
func SB(t testing.TB, sock string) *server.OvsdbServer {
	m, err := sbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, sock, m, sbdb.Schema())
}

func serve(t testing.TB, sock string, clientModel model.ClientDBModel, schema ovsdb.DatabaseSchema) *server.OvsdbServer {
	t.Helper()
	dbModel, errs := model.NewDatabaseModel(schema, clientModel)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	db := inmemory.NewDatabase(map[string]model.ClientDBModel{clientModel.Name(): clientModel}, nil)
	srv, err := server.NewOvsdbServer(db, nil, dbModel)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve("unix", sock) }()
	deadline := time.Now().Add(5 * time.Second)
	for !srv.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("in-memory OVSDB server not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(srv.Close)
	return srv
}
