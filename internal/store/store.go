// Package store is the generic SQL backend of the API layer (the REST
// "strategy" behind api.Backend): a Table maps a declared resource onto one
// SQL table, builds its filter, sort and keyset-pagination queries, runs
// every create/update/delete as one transaction, and calls the Hooks a
// plugin registers for what is specific to a resource (allocations, in-use
// checks, computed attributes).
package store

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// Kind is how a column's value is stored.
type Kind int

// Column kinds.
const (
	String Kind = iota
	Bool
	Int
	JSON // lists and dicts, stored as JSON text
)

// Column maps an API attribute onto a SQL column.
type Column struct {
	Attr string // API attribute name
	Name string // SQL column name (defaults to Attr)
	Kind Kind
	// Null is what a SQL NULL reads as (e.g. [] for a JSON list).
	Null any
	// Expr, when set, makes this a computed read-only column: an SQL
	// expression over the main table "t", read with the row.
	Expr string
	// Child makes this a read-only list of a child table's values (tags,
	// a port's security groups): a single-row read aggregates it in the
	// row's query (one query per show); a list reads the child table once
	// for all rows.
	Child *ChildList
}

// ChildList names a child table holding (key → value) rows.
type ChildList struct {
	Table, KeyCol, ValueCol string
}

// JSONListOf is a column expression reading a child table's values for
// the row as one JSON list (sorted), so that a show is one query and a
// list needs no per-child-table round trip.
func JSONListOf(d db.Dialect, table, valueCol, keyCol string) string {
	switch d {
	case db.Postgres:
		return "(SELECT json_agg(c." + valueCol + " ORDER BY c." + valueCol + ")::text FROM " + table + " c WHERE c." + keyCol + " = t.id)"
	case db.MySQL:
		return "(SELECT CONCAT('[', GROUP_CONCAT(JSON_QUOTE(c." + valueCol + ") ORDER BY c." + valueCol + " SEPARATOR ','), ']') FROM " + table + " c WHERE c." + keyCol + " = t.id)"
	}
	return "(SELECT json_group_array(v) FROM (SELECT c." + valueCol + " AS v FROM " + table + " c WHERE c." + keyCol + " = t.id ORDER BY c." + valueCol + "))"
}

// Hooks carry a resource's specific behaviour, the owning plugin's (and
// its components'). Every hook but Load runs in the write transaction and
// gets the operation (Op), whose Ctx names the caller (reqctx.From).
// Other plugins and drivers subscribe to the table's events instead
// (internal/events).
type Hooks struct {
	// Lock takes the locks of the row's parents (store.ParentLock), in
	// the schema's lock order (lock.go): it runs first in every create,
	// update and delete of the table, before the row's own lock (op.Old
	// is not read yet; op.Creating tells a create).
	Lock func(op *Op) error
	// BeforeCreate may validate and complete op.New (id and timestamps
	// are set).
	BeforeCreate func(op *Op) error
	// AfterCreate runs once the row exists (child rows, related revisions).
	AfterCreate func(op *Op) error
	// BeforeUpdate sees the locked current state (op.Old) and may edit
	// the changes (op.New).
	BeforeUpdate func(op *Op) error
	// AfterUpdate runs after the row is updated.
	AfterUpdate func(op *Op) error
	// BeforeDelete refuses deletion (in use) or cleans up dependents.
	BeforeDelete func(op *Op) error
	// AfterDelete runs after the row is gone (release allocations).
	AfterDelete func(op *Op) error
	// Result adjusts the answer to a create or update (op.Request is the
	// request's item or changes), for attributes Neutron echoes from the
	// request without storing them as such.
	Result func(op *Op, obj api.Object)
	// Load fills the computed attributes of objs (one query per child
	// table for the whole batch, never one per object).
	Load func(ctx context.Context, q db.Querier, objs []api.Object) error
}

// FilterFunc renders the SQL condition of a filter on a computed attribute;
// t is the main table's alias.
type FilterFunc func(ctx context.Context, values []any) (cond string, args []any)

// Table is the storage of one resource.
type Table struct {
	Name string
	Res  *api.Resource
	DB   *db.DB
	Cols []Column
	// Hooks run in registration order (the owning plugin's first).
	Hooks []Hooks
	// Std: the table has the standard attributes (created_at, updated_at,
	// revision_number) and tags.
	Std bool
	// InitialRevision is the revision_number a new row gets.
	InitialRevision int64
	// Filters handle filters on attributes that are not plain columns.
	Filters map[string]FilterFunc
	// Shared returns an extra visibility condition for non-admin callers
	// besides owning the row (RBAC sharing), or "".
	Shared func(rc *reqctx.Context) (cond string, args []any)
	// NoScope disables project scoping (resources visible to everyone).
	NoScope bool
	// Revisions returns how many times an update bumps revision_number
	// (Neutron bumps once per flushed change set, so it depends on which
	// tables an update touches). nil: once if changes is not empty.
	Revisions func(old, changes api.Object) int
	// IgnoreUnknownMarker pages as if no marker were given when the marker
	// names no row the caller can see: the resources Neutron lists through
	// an OVO Pager (subnets, security groups and rules, subnet pools,
	// address scopes, floating IPs, QoS policies and rules, trunks,
	// segments, address groups, port forwardings, metering labels and
	// rules, flavors, service profiles); otherwise it is the resource's 404
	// (networks, ports, routers: get_marker_obj).
	IgnoreUnknownMarker bool
	// Quota names the quota resource API creates count against ("" = none).
	Quota string
	// Quotas enforces Quota (set by the application).
	Quotas QuotaChecker
	// Bus receives the table's events (set by plugin.Env.AddResource).
	Bus *events.Bus
	// Event is the resource name of the events ("" = the resource's name).
	Event string

	byAttr   map[string]*Column
	selCols  string // every column, child lists aggregated (single-row reads)
	listCols string // without the child lists (lists load them per table)
	children []*Column
	cache    versionCache[api.Object]   // Get results
	lists    versionCache[[]api.Object] // List results
}

// Init prepares the table and installs it as the resource's backend.
func (t *Table) Init() *Table {
	if t.Std && t.byAttr == nil {
		t.Cols = append(t.Cols, Column{Attr: "tags", Kind: JSON, Null: []any{},
			Child: &ChildList{Table: "tags", KeyCol: "resource_id", ValueCol: "tag"}})
	}
	// child-list columns go last, so that list scans can leave them out
	sort.SliceStable(t.Cols, func(i, j int) bool { return t.Cols[i].Child == nil && t.Cols[j].Child != nil })
	t.byAttr = map[string]*Column{}
	t.cache.max, t.lists.max = maxCachedBytes, maxListedBytes
	var names, listNames []string
	t.children = t.children[:0]
	for i := range t.Cols {
		c := &t.Cols[i]
		if c.Name == "" {
			c.Name = c.Attr
		}
		t.byAttr[c.Attr] = c
		switch {
		case c.Child != nil:
			c.Expr = JSONListOf(t.DB.Dialect(), c.Child.Table, c.Child.ValueCol, c.Child.KeyCol)
			names = append(names, c.Expr)
			t.children = append(t.children, c)
		case c.Expr != "":
			names = append(names, c.Expr)
			listNames = append(listNames, c.Expr)
		default:
			names = append(names, "t."+quoteIdent(c.Name))
			listNames = append(listNames, "t."+quoteIdent(c.Name))
		}
	}
	t.selCols = strings.Join(names, ", ")
	t.listCols = strings.Join(listNames, ", ")
	if t.Res != nil && t.Res.Backend == nil {
		t.Res.Backend = t
	}
	if t.Res != nil {
		// whole lists stream in batches, unless a wrapper of the table
		// answers lists its own way
		t.Res.Stream = nil
		if t.Res.Backend == api.Backend(t) {
			t.Res.Stream = t.ListBatches
		}
	}
	return t
}

func quoteIdent(s string) string {
	// every column name we use is a plain identifier
	return s
}

// AddColumn adds a column (typically an Expr column of an extension) before
// Init.
func (t *Table) AddColumn(c Column) { t.Cols = append(t.Cols, c) }

// AddHooks registers more behaviour (e.g. an extension's attributes).
func (t *Table) AddHooks(h Hooks) { t.Hooks = append(t.Hooks, h) }

// QuotaChecker enforces quotas inside a create transaction.
type QuotaChecker interface {
	// Prepare runs before the create's transaction (outside it).
	Prepare(ctx context.Context, resource, project string) error
	// Check runs in the create's transaction, before any row is written.
	Check(ctx context.Context, tx *db.Tx, resource, project string, delta int) error
}

// Col returns the column of an attribute, or nil.
func (t *Table) Col(attr string) *Column { return t.byAttr[attr] }

// Now is the timestamp format of created_at/updated_at.
func Now() string { return time.Now().UTC().Format("2006-01-02T15:04:05Z") }

// NewID returns a random (v4) UUID.
func NewID() string { return uuid.NewString() }

// ---- helpers ----

// Placeholders returns "?, ?, ..." (n of them).
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// IDs returns the ids of objs.
func IDs(objs []api.Object) []string {
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i], _ = o["id"].(string)
	}
	return ids
}

// IndexByID maps id → object.
func IndexByID(objs []api.Object) map[string]api.Object {
	m := make(map[string]api.Object, len(objs))
	for _, o := range objs {
		if id, ok := o["id"].(string); ok {
			m[id] = o
		}
	}
	return m
}

// ChunkSize bounds the number of ids in one IN (...) list.
const ChunkSize = 500

// ForChunks calls fn for each chunk of ids with its placeholders and args.
func ForChunks(ids []string, fn func(placeholders string, args []any) error) error {
	for start := 0; start < len(ids); start += ChunkSize {
		end := min(start+ChunkSize, len(ids))
		args := make([]any, end-start)
		for i, id := range ids[start:end] {
			args[i] = id
		}
		if err := fn(Placeholders(len(args)), args); err != nil {
			return err
		}
	}
	return nil
}
