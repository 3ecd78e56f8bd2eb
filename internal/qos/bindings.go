package qos

import (
	"context"
	"database/sql"
	"errors"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

// extDriver is the ML2 "qos" extension driver: qos_policy_id on networks
// (the network row's qos_policy_id column) and ports (a binding row), the
// ports' qos_network_policy_id and resource_request, the project's default
// policy for new networks, and the checks that a policy's rules suit the
// networks and ports it is bound to.
type extDriver struct {
	env *plugin.Env
}

func init() {
	ml2.RegisterExtensionDriver("qos", func() ml2.ExtensionDriver { return &extDriver{} })
	config.Implemented("ml2", "extension_drivers", "qos")
}

type driverKey struct{}

func (d *extDriver) Initialize(env *plugin.Env, p *ml2.Plugin) ([]string, error) {
	d.env = env
	env.Set(driverKey{}, d)
	policyAttr := func() *api.Attribute {
		// enforce_policy: setting it also checks
		// <action>_<resource>:qos_policy_id ("default" unless defined)
		return &api.Attribute{Name: "qos_policy_id", AllowPost: true, AllowPut: true, Default: nil,
			Validate: api.UUIDOrNone, Visible: true, EnforcePolicy: true}
	}
	nets := p.Networks()
	nets.Res.AddAttrs(policyAttr())
	nets.AddColumn(store.Column{Attr: "qos_policy_id"})
	nets.AddHooks(store.Hooks{
		BeforeCreate: d.beforeCreateNetwork,
		AfterCreate:  d.afterCreateNetwork,
		BeforeUpdate: d.beforeUpdateNetwork,
		AfterUpdate:  d.afterUpdateNetwork,
	})
	revs := nets.Revisions
	nets.Revisions = func(old, ch api.Object) int {
		n := 0
		if revs != nil {
			n = revs(old, ch)
		}
		if v, ok := ch["qos_policy_id"]; ok && v != old["qos_policy_id"] {
			n = max(n, 1)
		}
		return n
	}
	ports := p.Ports()
	ports.Res.AddAttrs(policyAttr(), &api.Attribute{Name: "qos_network_policy_id", Visible: true})
	ports.AddColumn(store.Column{Attr: "qos_policy_id",
		Expr: "(SELECT b.policy_id FROM qos_port_policy_bindings b WHERE b.port_id = t.id)"})
	ports.AddColumn(store.Column{Attr: "qos_network_policy_id",
		Expr: "(SELECT n.qos_policy_id FROM networks n WHERE n.id = t.network_id)"})
	ports.AddHooks(store.Hooks{
		BeforeCreate: d.beforeCreatePort,
		AfterCreate:  d.afterCreatePort,
		BeforeUpdate: d.beforeUpdatePort,
		AfterUpdate:  d.afterUpdatePort,
		Load:         loadResourceRequests,
	})
	return nil, nil
}

// ---- access ----

// accessible is QosPolicy.is_accessible / get_policy_obj's visibility: the
// caller is an admin, owns the policy, or it is shared with the caller's
// project. found is false when there is no such policy.
func accessible(ctx context.Context, q db.Querier, id string) (ok, found bool, err error) {
	var project sql.NullString
	err = q.QueryRow(ctx, "SELECT project_id FROM qos_policies WHERE id = ?", id).Scan(&project)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	rc := reqctx.From(ctx)
	if rc == nil || rc.IsAdmin || project.String == rc.ProjectID {
		return true, true, nil
	}
	n, err := sharing.CountFor(ctx, q, objectType, id, rc.ProjectID)
	return n > 0, true, err
}

// CheckPolicy is get_policy_obj as the caller: nil when the policy exists
// and the caller may use it, else QosPolicyNotFound. It locks the policy
// row where the engine has row locks, so that the policy cannot be
// deleted before the caller's binding commits (the L3 plugin calls it for
// floating IPs and router gateways).
func CheckPolicy(ctx context.Context, tx *db.Tx, id string) error {
	if fu := tx.ForUpdate(); fu != "" {
		rows, err := tx.Query(ctx, "SELECT id FROM qos_policies WHERE id = ?"+fu, id)
		if err != nil {
			return err
		}
		rows.Close()
	}
	ok, _, err := accessible(ctx, tx, id)
	if err != nil {
		return err
	}
	if !ok {
		return policyNotFound(id)
	}
	return nil
}

// checkRemove is _check_policy_change_permission: a caller may move an
// object away from a policy only if it can access that policy.
func checkRemove(ctx context.Context, q db.Querier, old any) error {
	id, _ := old.(string)
	if id == "" {
		return nil
	}
	ok, found, err := accessible(ctx, q, id)
	if err != nil || !found || ok {
		return err
	}
	return removeNotAuthorized(id)
}

func str(v any) string { s, _ := v.(string); return s }

// ---- networks ----

func (d *extDriver) beforeCreateNetwork(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	id := str(op.New["qos_policy_id"])
	if id == "" {
		err := tx.QueryRow(ctx, "SELECT qos_policy_id FROM qos_policies_default WHERE project_id = ?", op.New["project_id"]).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if id == "" {
		op.New["qos_policy_id"] = nil
		return nil
	}
	if err := CheckPolicy(ctx, tx, id); err != nil {
		return err
	}
	op.New["qos_policy_id"] = id
	return nil
}

func (d *extDriver) afterCreateNetwork(op *store.Op) error {
	id := str(op.New["qos_policy_id"])
	if id == "" {
		return nil
	}
	return d.validateNetwork(op.Ctx, op.Tx, id, op.ID)
}

func (d *extDriver) beforeUpdateNetwork(op *store.Op) error {
	v, ok := op.New["qos_policy_id"]
	if !ok {
		return nil
	}
	if err := checkRemove(op.Ctx, op.Tx, op.Old["qos_policy_id"]); err != nil {
		return err
	}
	if id := str(v); id != "" {
		return CheckPolicy(op.Ctx, op.Tx, id)
	}
	return nil
}

func (d *extDriver) afterUpdateNetwork(op *store.Op) error {
	id := str(op.New["qos_policy_id"])
	if id == "" || id == str(op.Old["qos_policy_id"]) {
		return nil
	}
	if err := d.validateNetwork(op.Ctx, op.Tx, id, op.ID); err != nil {
		return err
	}
	ports, err := portsForValidation(op.Ctx, op.Tx,
		"t.network_id = ? AND t.id NOT IN (SELECT port_id FROM qos_port_policy_bindings)", op.ID)
	if err != nil {
		return err
	}
	return d.validatePorts(op.Ctx, op.Tx, id, ports)
}

// ---- ports ----

func (d *extDriver) beforeCreatePort(op *store.Op) error {
	if id := str(op.New["qos_policy_id"]); id != "" {
		return CheckPolicy(op.Ctx, op.Tx, id)
	}
	return nil
}

func (d *extDriver) afterCreatePort(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	id := str(op.New["qos_policy_id"])
	if id != "" {
		if _, err := tx.Exec(ctx, "INSERT INTO qos_port_policy_bindings (port_id, policy_id) VALUES (?, ?)", op.ID, id); err != nil {
			return err
		}
	}
	return d.validatePortByID(ctx, tx, op.ID)
}

func (d *extDriver) beforeUpdatePort(op *store.Op) error {
	v, ok := op.New["qos_policy_id"]
	if !ok {
		return nil
	}
	if err := checkRemove(op.Ctx, op.Tx, op.Old["qos_policy_id"]); err != nil {
		return err
	}
	if id := str(v); id != "" {
		return CheckPolicy(op.Ctx, op.Tx, id)
	}
	return nil
}

func (d *extDriver) afterUpdatePort(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	v, ok := op.New["qos_policy_id"]
	if !ok {
		return nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM qos_port_policy_bindings WHERE port_id = ?", op.ID); err != nil {
		return err
	}
	id := str(v)
	if id == "" {
		return nil
	}
	if _, err := tx.Exec(ctx, "INSERT INTO qos_port_policy_bindings (port_id, policy_id) VALUES (?, ?)", op.ID, id); err != nil {
		return err
	}
	if id == str(op.Old["qos_policy_id"]) {
		return nil
	}
	return d.validatePortByID(ctx, tx, op.ID)
}
