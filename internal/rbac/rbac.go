// Package rbac is the ML2 component serving /v2.0/rbac-policies (Neutron's
// "rbac-policies" extension): policies that share an object (a network, a
// security group, an address scope, a subnet pool, ...) with one project or
// with every project ("*"), stored in the rbac_policies table that the
// owners' visibility conditions read.
//
// Object types are registered (RegisterObjectType) by the packages that own
// the objects; this package registers "network" (access_as_shared,
// access_as_external). Each type gets Neutron's generic checks (those of
// neutron.objects.rbac_db: only admins may share objects they do not own; a
// targeted or wildcard entry cannot go away while projects that are not
// otherwise entitled depend on it, as BoundProjects tells) plus the
// type-specific callbacks it declares. As in Neutron, every callback runs and
// the failures are reported together, named after Neutron's callbacks.
//
// A package registers its type from init with a factory that makes the
// type for one server (ok=false when its owner is not loaded there):
//
//	rbac.RegisterObjectType("security_group", func(env *plugin.Env) (rbac.ObjectType, bool) {
//		return rbac.ObjectType{
//			Name: "security_group", Actions: []string{rbac.AccessShared},
//			Table: "securitygroups", // owner lookup (id, project_id) and row lock
//			BoundProjects: ..., // the projects of the ports using the group
//		}, true
//	})
//
// Each server makes its types the first time it needs them; plugins add
// validations to a type of their server with AddCallback(env, ...) during
// setup. When its own "shared" attribute goes false an owner calls
// CheckUnshare(ctx, tx, env, type, id, "*") before deleting the wildcard
// entry; it deletes its object's policies when the object is deleted
// (internal/sharing), and lists its extension alias (e.g.
// "rbac-security-groups"). Visibility of shared objects stays with the
// owner's table (its Shared condition comes from internal/sharing).
package rbac

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/registry"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
)

// Actions of RBAC policies.
const (
	AccessShared   = "access_as_shared"
	AccessExternal = "access_as_external"
)

// Wildcard is the target meaning "every project".
const Wildcard = "*"

// knownTypes are Neutron Zed's RBAC object types (its RBAC models), in the
// order Neutron lists policies. They are all valid object_type values, even
// when nothing registers them here: objects of an unregistered type never
// exist.
var knownTypes = []string{"security_group", "network", "qos_policy", "subnetpool", "address_scope", "address_group"}

// ovoModules name the Python module of each type's versioned object, which
// names the generic callback in Neutron's error messages.
var ovoModules = map[string]string{
	"network":        "neutron.objects.network",
	"security_group": "neutron.objects.securitygroup",
	"subnetpool":     "neutron.objects.subnetpool",
	"address_scope":  "neutron.objects.address_scope",
	"qos_policy":     "neutron.objects.qos.policy",
	"address_group":  "neutron.objects.address_group",
}

// callbackHash stands for the hash Neutron appends to a callback's name
// (it differs in every neutron-server process).
var callbackHash = map[string]string{
	"network":        "8765727729370",
	"security_group": "8777615926743",
	"subnetpool":     "8777615880472",
	"address_scope":  "8777615875991",
	"qos_policy":     "8777615930146",
	"address_group":  "8777615869034",
}

// Op is the kind of a policy change.
type Op int

// Policy changes.
const (
	Create Op = iota
	Update
	Delete
)

// Policy is one RBAC policy (target_tenant is Target).
type Policy struct {
	ID, ProjectID, ObjectType, ObjectID, Target, Action string
}

// Change is a policy change being validated or applied. Hooks run inside
// the write transaction.
type Change struct {
	Op Op
	// Policy is the requested policy (Create) or the stored one (Update,
	// Delete).
	Policy Policy
	// NewTarget is the target_tenant an update asks for; HasNewTarget is
	// false when the update body has none (Neutron then fails every
	// callback that reads it with KeyError: 'target_project').
	NewTarget    string
	HasNewTarget bool
	// Caller is who asks (an admin when the change is internal).
	Caller *reqctx.Context
	// Env is the plugin environment of the server.
	Env *plugin.Env

	memo map[string]error
}

// Memo runs f once per change and key (for checks that several
// callbacks share) and returns its result.
func (c *Change) Memo(key string, f func() error) error {
	if c.memo == nil {
		c.memo = map[string]error{}
	}
	if err, ok := c.memo[key]; ok {
		return err
	}
	err := f()
	c.memo[key] = err
	return err
}

// KeyErrorTarget is what a callback reading the target of an update body
// without one fails with (Python's str(KeyError('target_project'))).
var KeyErrorTarget = callbackError("'target_project'")

// Callback is one validation of a policy change, named as the Neutron
// callback it mirrors ("module.Class.method-hash"). It reports a failure by
// returning a *nerr.Error (whose message is quoted in the answer); any
// other error (database, retry) aborts the request as is.
type Callback struct {
	Name string
	Func func(ctx context.Context, tx *db.Tx, c *Change) error
}

// ObjectType describes a kind of object policies can share.
type ObjectType struct {
	// Name is the object_type ("security_group").
	Name string
	// Actions are the valid actions, in Neutron's order.
	Actions []string
	// Table holds the objects (columns id and project_id) for the owner
	// lookup, unless Owner is set.
	Table string
	// Owner returns the project owning object id, whoever may see it;
	// found is false when there is no such object.
	Owner func(ctx context.Context, q db.Querier, id string) (project string, found bool, err error)
	// BoundProjects returns the projects whose resources use the object
	// (Neutron's get_bound_project_ids, e.g. the projects of the ports in
	// a security group); they keep it from being unshared from them. Nil
	// means none.
	BoundProjects func(ctx context.Context, q db.Querier, id string) ([]string, error)
	// ValidateCreate is an extra check of the generic callback on create,
	// after the ownership check (Neutron's validate_rbac_policy_create
	// overrides, e.g. a subnet pool's address scope must be shared with the
	// target: return InitError(...)).
	ValidateCreate func(ctx context.Context, tx *db.Tx, c *Change) error
	// Callbacks are further validations, run after the generic one.
	Callbacks []Callback
	// After runs once the change is written (the row inserted, updated or
	// deleted), e.g. to bump the object's revision.
	After func(ctx context.Context, tx *db.Tx, c *Change) error
}

// ObjectTypeFactory makes one server's object type; ok is false when the
// type's owner is not loaded in that server.
type ObjectTypeFactory func(env *plugin.Env) (t ObjectType, ok bool)

// RegisterObjectType adds an object type to the registry (namespace
// registry.RBACObjectTypes); owners call it from init. Each server makes
// its types from the factories the first time it needs them, after every
// plugin is set up.
func RegisterObjectType(name string, f ObjectTypeFactory) {
	registry.Register(registry.Module{ID: registry.RBACObjectTypes + "." + name, New: f})
}

// serverTypes are the object types of one server (on its plugin.Env).
type serverTypes struct {
	env       *plugin.Env
	once      sync.Once
	types     map[string]*ObjectType
	callbacks map[string][]Callback
}

type typesKey struct{}

func typesOf(env *plugin.Env) *serverTypes {
	st, _ := env.Value(typesKey{}).(*serverTypes)
	if st == nil {
		st = &serverTypes{env: env, callbacks: map[string][]Callback{}}
		env.Set(typesKey{}, st)
	}
	return st
}

func (st *serverTypes) build() {
	st.once.Do(func() {
		st.types = map[string]*ObjectType{}
		for _, m := range registry.Modules(registry.RBACObjectTypes) {
			t, ok := m.New.(ObjectTypeFactory)(st.env)
			if !ok {
				continue
			}
			if t.Name != m.Name() || len(t.Actions) == 0 {
				panic("rbac: object type " + m.Name() + " needs its name and actions")
			}
			t.Callbacks = append(slices.Clip(t.Callbacks), st.callbacks[t.Name]...)
			st.types[t.Name] = &t
		}
	})
}

// AddCallback appends a validation to a server's object type (e.g. the
// router plugin's check that routers do not depend on an
// access_as_external entry); plugins call it during setup.
func AddCallback(env *plugin.Env, objectType string, cb Callback) {
	st := typesOf(env)
	if st.types != nil {
		panic("rbac: AddCallback after the object types were made")
	}
	st.callbacks[objectType] = append(st.callbacks[objectType], cb)
}

// Lookup returns a server's object type, or nil.
func Lookup(env *plugin.Env, name string) *ObjectType {
	st := typesOf(env)
	st.build()
	return st.types[name]
}

// typeFor returns the type of a valid object_type: the server's or, for a
// Neutron type no loaded plugin owns, one without objects.
func typeFor(env *plugin.Env, name string) *ObjectType {
	if t := Lookup(env, name); t != nil {
		return t
	}
	return &ObjectType{Name: name, Actions: []string{AccessShared},
		Owner: func(context.Context, db.Querier, string) (string, bool, error) { return "", false, nil }}
}

// ValidType reports whether name is an object_type Neutron accepts.
func ValidType(name string) bool {
	_, registered := registry.Get(registry.RBACObjectTypes, name)
	return slices.Contains(knownTypes, name) || registered
}

func typeOrder(name string) int {
	if i := slices.Index(knownTypes, name); i >= 0 {
		return i
	}
	return len(knownTypes)
}

func (t *ObjectType) owner(ctx context.Context, q db.Querier, id string) (string, bool, error) {
	if t.Owner != nil {
		return t.Owner(ctx, q, id)
	}
	if t.Table == "" {
		return "", false, nil
	}
	var p sql.NullString
	err := q.QueryRow(ctx, "SELECT project_id FROM "+t.Table+" WHERE id = ?", id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return p.String, true, nil
}

// lock takes the object's row lock (engines with row locks), so that
// changes of the policies of one object are serialized and each one's
// checks see what the previous one committed.
func (t *ObjectType) lock(ctx context.Context, tx *db.Tx, id string) error {
	if t.Table == "" || tx.ForUpdate() == "" {
		return nil
	}
	rows, err := tx.Query(ctx, "SELECT id FROM "+t.Table+" WHERE id = ?"+tx.ForUpdate(), id)
	if err != nil {
		return err
	}
	return rows.Close()
}

func (t *ObjectType) genericName() string {
	mod := ovoModules[t.Name]
	if mod == "" {
		mod = "neutron.objects." + t.Name
	}
	h := callbackHash[t.Name]
	if h == "" {
		h = "8777615900000"
	}
	return mod + ".RbacNeutronDbObjectMixin.validate_rbac_policy_change-" + h
}

// ---- errors ----

// callbackError is a failure message as a callback reports it.
func callbackError(msg string) *nerr.Error {
	return nerr.New(500, "CallbackError", "%s", msg)
}

// PolicyInUse is Neutron's RbacPolicyInUse (409).
func PolicyInUse(objectID, details string) *nerr.Error {
	return nerr.Conflict("RbacPolicyInUse",
		"RBAC policy on object %s cannot be removed because other objects depend on it.\nDetails: %s", objectID, details)
}

// InitError is Neutron's RbacPolicyInitError, for ValidateCreate.
func InitError(objectID, reason string) *nerr.Error {
	return nerr.Typed(500, "RbacPolicyInitError", "Failed to create RBAC policy on object %s because %s.", objectID, reason)
}

// NotFound is Neutron's RbacPolicyNotFound: the type of a policy the
// caller cannot see is "unknown".
func NotFound(id string) error {
	return nerr.NotFound("RbacPolicyNotFound", "RBAC policy of type unknown with ID %s not found", id)
}

// Duplicate is Neutron's DuplicateRbacPolicy.
func Duplicate() error {
	return nerr.Conflict("DuplicateRbacPolicy", "An RBAC policy already exists with those values.")
}

func invalidAction(action, typ string, valid []string) error {
	parts := make([]string, len(valid))
	for i, a := range valid {
		parts[i] = pyfmt.Repr(a)
	}
	tuple := "(" + strings.Join(parts, ", ")
	if len(parts) == 1 {
		tuple += ","
	}
	tuple += ")"
	return nerr.Typed(400, "InvalidActionForType", "Invalid action '%s' for object type '%s'. Valid actions: %s", action, typ, tuple)
}

// ownershipError is the InvalidInput a callback raises for a caller who
// does not own the object ("objects" or "networks").
func ownershipError(what string) *nerr.Error {
	return nerr.InvalidInput("Only admins can manipulate policies on " + what + " they do not own")
}

// noneSubscript is what Neutron's generic callback fails with for a
// missing object.
var noneSubscript = callbackError("'NoneType' object is not subscriptable")

// failures collects what callbacks report, as neutron_lib's CallbackFailure.
type failures []string

func (f failures) String() string { return strings.Join(f, ",") }

// run locks the object, then calls the type's callbacks in order,
// collecting their failures; it stops at an error that is not a failure.
func run(ctx context.Context, tx *db.Tx, c *Change, t *ObjectType) (failures, error) {
	if err := t.lock(ctx, tx, c.Policy.ObjectID); err != nil {
		return nil, err
	}
	cbs := t.callbacks()
	var fs failures
	for _, cb := range cbs {
		err := cb.Func(ctx, tx, c)
		if err == nil {
			continue
		}
		e, ok := nerr.As(err)
		if !ok {
			return nil, err
		}
		fs = append(fs, fmt.Sprintf("Callback %s failed with \"%s\"", cb.Name, e.Message))
	}
	return fs, nil
}

// callbacks returns the type's validations: the generic one first.
func (t *ObjectType) callbacks() []Callback {
	out := []Callback{{Name: t.genericName(), Func: t.generic}}
	return append(out, t.Callbacks...)
}

// ---- the generic callback (neutron.objects.rbac_db) ----

// generic is RbacNeutronDbObjectMixin.validate_rbac_policy_change.
func (t *ObjectType) generic(ctx context.Context, tx *db.Tx, c *Change) error {
	owner, found, err := t.owner(ctx, tx, c.Policy.ObjectID)
	if err != nil {
		return err
	}
	if c.Op != Delete && !c.Caller.IsAdmin {
		if !found {
			return noneSubscript
		}
		if owner != c.Caller.ProjectID {
			return ownershipError("objects")
		}
	}
	switch c.Op {
	case Create:
		if t.ValidateCreate != nil && found {
			return t.ValidateCreate(ctx, tx, c)
		}
		return nil
	case Update:
		if !c.HasNewTarget {
			return KeyErrorTarget
		}
		if c.Policy.Target == c.NewTarget || c.NewTarget == Wildcard {
			return nil
		}
	}
	if c.Policy.Action != AccessShared || !found || owner == c.Policy.Target {
		return nil
	}
	return CheckUnshare(ctx, tx, c.Env, t.Name, c.Policy.ObjectID, c.Policy.Target)
}

// CheckUnshare is Neutron's _validate_rbac_policy_delete: it refuses with
// RbacPolicyInUse (details "project_id=<target>") to remove the
// access_as_shared entry of objectID for target ("*" or a project) while a
// project bound to the object (ObjectType.BoundProjects) would lose access.
// Components call it when their object's "shared" goes false (target "*").
func CheckUnshare(ctx context.Context, q db.Querier, env *plugin.Env, objectType, objectID, target string) error {
	t := typeFor(env, objectType)
	var bound []string
	if t.BoundProjects != nil {
		var err error
		if bound, err = t.BoundProjects(ctx, q, objectID); err != nil {
			return err
		}
	}
	inUse := PolicyInUse(objectID, "project_id="+target)
	if target != Wildcard {
		n, err := sharing.Count(ctx, q, objectType, objectID, AccessShared, Wildcard)
		if err != nil || n > 0 {
			return err
		}
		if slices.Contains(bound, target) {
			return inUse
		}
		return nil
	}
	if len(bound) == 0 {
		return nil
	}
	others, err := sharing.TargetsExcept(ctx, q, objectType, objectID, AccessShared, Wildcard)
	if err != nil {
		return err
	}
	for _, p := range bound {
		if !slices.Contains(others, p) {
			return inUse
		}
	}
	return nil
}

// ---- small query helpers ----

func count(ctx context.Context, q db.Querier, query string, args ...any) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// strings1 returns the first column of every row.
func strings1(ctx context.Context, q db.Querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s.String)
	}
	return out, rows.Err()
}
