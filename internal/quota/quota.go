// Package quota is Neutron's quota engine: per-project limits with
// [quotas] defaults, overrides stored in the database, usage counted from
// the resource tables, and enforcement inside the create transaction —
// serialized per (project, resource) by a locked row so that concurrent
// creates, in this process or another one on the same database, cannot
// exceed a limit. It also serves /v2.0/quotas.
package quota

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// Known resources and their [quotas] options, in Neutron's order.
var known = []struct {
	name, option, def string
}{
	{"network", "quota_network", "100"},
	{"subnet", "quota_subnet", "100"},
	{"subnetpool", "", ""},
	{"port", "quota_port", "500"},
	{"router", "quota_router", "10"},
	{"floatingip", "quota_floatingip", "50"},
	{"rbac_policy", "quota_rbac_policy", "10"},
	{"security_group", "quota_security_group", "10"},
	{"security_group_rule", "quota_security_group_rule", "100"},
	{"trunk", "", ""},
}

func init() {
	config.Register(&config.Option{Group: "quotas", Name: "default_quota", Type: config.Int, Default: "-1",
		Help: "Default number of resources allowed per project for resources without their own option; -1 = unlimited."})
	for _, k := range known {
		if k.option != "" {
			config.Register(&config.Option{Group: "quotas", Name: k.option, Type: config.Int, Default: k.def,
				Help: fmt.Sprintf("Number of %ss allowed per project; -1 = unlimited.", strings.ReplaceAll(k.name, "_", " "))})
		}
	}
	config.Register(
		&config.Option{Group: "quotas", Name: "quota_driver", Type: config.String, Default: "neutron.db.quota.driver_nolock.DbQuotaNoLockDriver", Ignored: true,
			Help: "Accepted for compatibility; neutrino has one quota driver (database, row-locked)."},
		&config.Option{Group: "quotas", Name: "track_quota_usage", Type: config.Bool, Default: "true", Ignored: true,
			Help: "Accepted for compatibility; usage is always counted."},
	)
}

// Resource is a quota-tracked resource.
type Resource struct {
	Name  string // "port"
	Table string // SQL table counted by project_id
	Def   int64
}

// Engine enforces and serves quotas.
type Engine struct {
	DB   *db.DB
	mu   sync.Mutex
	res  map[string]*Resource
	conf *config.Config
	// lockRows are the quota_usages rows known to exist ("project\nresource").
	lockRows sync.Map
}

// New makes an engine.
func New(c *config.Config, d *db.DB) *Engine {
	return &Engine{DB: d, conf: c, res: map[string]*Resource{}}
}

// Track registers a resource counted in table.
func (e *Engine) Track(name, table string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	def := int64(e.conf.Int("quotas", "default_quota"))
	for _, k := range known {
		if k.name == name && k.option != "" {
			def = int64(e.conf.Int("quotas", k.option))
		}
	}
	e.res[name] = &Resource{Name: name, Table: table, Def: def}
}

// Resources returns the tracked resources in Neutron's order.
func (e *Engine) Resources() []*Resource {
	e.mu.Lock()
	defer e.mu.Unlock()
	order := map[string]int{}
	for i, k := range known {
		order[k.name] = i
	}
	var out []*Resource
	for _, r := range e.res {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		oi, iok := order[out[i].Name]
		oj, jok := order[out[j].Name]
		if iok != jok {
			return iok
		}
		if oi != oj {
			return oi < oj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (e *Engine) resource(name string) *Resource {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.res[name]
}

// limits returns every limit of a project (defaults + overrides).
func (e *Engine) limits(ctx context.Context, q db.Querier, project string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, r := range e.Resources() {
		out[r.Name] = r.Def
	}
	rows, err := q.Query(ctx, "SELECT resource, hard_limit FROM quotas WHERE project_id = ?", project)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		var n int64
		if err := rows.Scan(&r, &n); err != nil {
			return nil, err
		}
		if _, ok := out[r]; ok {
			out[r] = n
		}
	}
	return out, rows.Err()
}

func (e *Engine) usage(ctx context.Context, q db.Querier, r *Resource, project string) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM "+r.Table+" WHERE project_id = ?", project).Scan(&n)
	return n, err
}

// Check enforces the quota of resource for adding delta objects to
// project, inside the creating transaction.
func (e *Engine) Check(ctx context.Context, tx *db.Tx, resource, project string, delta int) error {
	r := e.resource(resource)
	if r == nil || delta <= 0 {
		return nil
	}
	var limit int64 = r.Def
	err := tx.QueryRow(ctx, "SELECT hard_limit FROM quotas WHERE project_id = ? AND resource = ?", project, resource).Scan(&limit)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if limit < 0 {
		return nil
	}
	if tx.Dialect() != db.SQLite {
		if err := e.lock(ctx, tx, resource, project); err != nil {
			return err
		}
	}
	used, err := e.usage(ctx, tx, r, project)
	if err != nil {
		return err
	}
	if used+int64(delta) > limit {
		return OverQuota(resource)
	}
	return nil
}

// Prepare makes sure the quota_usages row that serializes a project's
// creates of a resource exists, in a statement of its own before the
// create's transaction begins (store.Table.Create calls it). Creating the
// row inside the create's transaction let concurrent creates take shared
// locks on the new key and deadlock upgrading them (MySQL), and locking a
// missing row takes a gap lock; with the row in place every create waits
// its turn on one row lock.
func (e *Engine) Prepare(ctx context.Context, resource, project string) error {
	if e.DB.Dialect() == db.SQLite || e.resource(resource) == nil {
		return nil
	}
	key := project + "\n" + resource
	if _, ok := e.lockRows.Load(key); ok {
		return nil
	}
	pre, post := e.DB.Dialect().InsertIgnore()
	if _, err := e.DB.Exec(ctx, pre+" INTO quota_usages (project_id, resource) VALUES (?, ?)"+post, project, resource); err != nil {
		return err
	}
	e.lockRows.Store(key, true)
	return nil
}

// lock takes the project's quota_usages row lock for resource (engines
// with row locks), creating the row in the transaction if Prepare did not.
func (e *Engine) lock(ctx context.Context, tx *db.Tx, resource, project string) error {
	if _, ok := e.lockRows.Load(project + "\n" + resource); !ok {
		pre, post := tx.Dialect().InsertIgnore()
		if _, err := tx.Exec(ctx, pre+" INTO quota_usages (project_id, resource) VALUES (?, ?)"+post, project, resource); err != nil {
			return err
		}
	}
	var p string
	return tx.QueryRow(ctx, "SELECT project_id FROM quota_usages WHERE project_id = ? AND resource = ?"+tx.ForUpdate(), project, resource).Scan(&p)
}

// OverQuota is Neutron's 409 for an exceeded quota.
func OverQuota(resources ...string) error {
	return nerr.Conflict("OverQuota", "Quota exceeded for resources: %s.", pyfmt.Repr(toAny(resources)))
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// MaxLimit is DB_INTEGER_MAX_VALUE.
const MaxLimit = math.MaxInt32
