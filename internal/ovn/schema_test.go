package ovn

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// TestModelsMatchSchemaFiles fails when a schema file in nbdb/ or sbdb/ was replaced without running
// go generate: the models embed the schema they were generated from.
func TestModelsMatchSchemaFiles(t *testing.T) {
	for file, embedded := range map[string]ovsdb.DatabaseSchema{
		"nbdb/ovn-nb.ovsschema": nbdb.Schema(),
		"sbdb/ovn-sb.ovsschema": sbdb.Schema(),
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var s ovsdb.DatabaseSchema
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if s.Name != embedded.Name || s.Version != embedded.Version || !reflect.DeepEqual(s.Tables, embedded.Tables) {
			t.Errorf("%s (%s %s) differs from the generated models (%s %s): run go generate ./internal/ovn/...",
				file, s.Name, s.Version, embedded.Name, embedded.Version)
		}
	}
	// the tables the clients monitor are tables of their schema, and the models validate against it
	nbModel, _ := nbdb.FullDatabaseModel()
	sbModel, _ := sbdb.FullDatabaseModel()
	for _, c := range []struct {
		model  model.ClientDBModel
		schema ovsdb.DatabaseSchema
		tables []model.Model
	}{{nbModel, nbdb.Schema(), NBTables()}, {sbModel, sbdb.Schema(), SBTables()}} {
		dbModel, errs := model.NewDatabaseModel(c.schema, c.model)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", c.schema.Name, errs)
		}
		for _, m := range c.tables {
			name := dbModel.FindTable(reflect.TypeOf(m))
			if _, ok := c.schema.Tables[name]; name == "" || !ok {
				t.Errorf("%T is no table of %s", m, c.schema.Name)
			}
		}
	}
}
