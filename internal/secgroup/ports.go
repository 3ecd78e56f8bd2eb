package secgroup

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

// This file is the ports side of security groups: the security_groups port
// attribute, its bindings, the default group of new ports, the port
// security interplay (ML2's _portsec_ext_port_*_processing) and the
// security_groups filter (port-security-groups-filtering).

type portSGsKey struct{}

// portSGs is what a port create/update decided about its groups.
type portSGs struct {
	ids []string
}

func (c *Component) setupPorts(env *plugin.Env, t *store.Table) {
	c.ports = t
	t.Res.AddAttrs(&api.Attribute{Name: "security_groups", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
		Convert: api.NoneToEmptyList, Validate: api.UUIDList, IsFilter: true, Visible: true})
	if t.Filters == nil {
		t.Filters = map[string]store.FilterFunc{}
	}
	t.Filters["security_groups"] = func(_ context.Context, values []any) (string, []any) {
		if len(values) == 0 {
			return "", nil
		}
		args := make([]any, len(values))
		for i, v := range values {
			args[i] = pyfmt.Str(v)
		}
		return "t.id IN (SELECT port_id FROM securitygroupportbindings WHERE security_group_id IN (" + store.Placeholders(len(args)) + "))", args
	}
	t.AddHooks(store.Hooks{
		BeforeCreate: c.beforeCreatePort,
		AfterCreate:  c.afterCreatePort,
		BeforeUpdate: c.beforeUpdatePort,
		AfterUpdate:  c.afterUpdatePort,
		AfterDelete: func(op *store.Op) error {
			ctx, tx, port := op.Ctx, op.Tx, op.Old
			_, err := tx.Exec(ctx, "DELETE FROM securitygroupportbindings WHERE port_id = ?", port["id"])
			return err
		},
	})
	// the port's groups come with its row (one query per show)
	t.AddColumn(store.Column{Attr: "security_groups", Kind: store.JSON, Null: []any{},
		Child: &store.ChildList{Table: "securitygroupportbindings", KeyCol: "port_id", ValueCol: "security_group_id"}})
	env.AddExtensions("port-security-groups-filtering")
}

// trusted is net.is_port_trusted: network:* device owners get no groups.
func trusted(port api.Object) bool {
	owner, _ := port["device_owner"].(string)
	return strings.HasPrefix(owner, "network:")
}

func portSecurityRequired() error {
	return nerr.Typed(http.StatusBadRequest, "PortSecurityAndIPRequiredForSecurityGroups",
		"Port security must be enabled and port must have an IP address in order to use security groups.")
}

// portSecurity is the port's port_security_enabled as the port-security
// extension driver determines it.
func (c *Component) portSecurity(ctx context.Context, tx *db.Tx, port api.Object) (bool, error) {
	if trusted(port) {
		// the port-security driver's rule for network:* owners
		return false, nil
	}
	if b, ok := port["port_security_enabled"].(bool); ok {
		return b, nil
	}
	var enabled *bool
	err := tx.QueryRow(ctx, "SELECT port_security_enabled FROM networks WHERE id = ?", port["network_id"]).Scan(&enabled)
	if err != nil || enabled == nil {
		return true, nil
	}
	return *enabled, nil
}

func requestedGroups(v any, present bool) ([]string, bool) {
	if !present || v == api.NotSpecified {
		return nil, false
	}
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, pyfmt.Str(x))
	}
	return out, true
}

// validateGroups is _get_security_groups_on_port: the groups exist and
// are the port project's or shared with it (any, for an admin or a request
// without a project), and are all stateful or all stateless.
func (c *Component) validateGroups(ctx context.Context, tx *db.Tx, ids []string, project string) error {
	if len(ids) == 0 {
		return nil
	}
	rc := callerCtx(ctx)
	var extra []any
	scope := ""
	if !rc.IsAdmin {
		// what the caller sees
		cond, args := sharedWith("id", rc.ProjectID)
		scope += " AND (project_id = ? OR " + cond + ")"
		extra = append(append(extra, rc.ProjectID), args...)
	}
	if !rc.IsAdmin && project != "" {
		cond, args := sharedWith("id", project)
		scope += " AND (project_id = ? OR " + cond + ")"
		extra = append(append(extra, project), args...)
	}
	found := map[string]bool{}
	stateful := map[bool]bool{}
	unique := make([]string, 0, len(ids))
	for _, id := range ids {
		if !found[id] {
			found[id] = false
			unique = append(unique, id)
		}
	}
	err := store.ForChunks(unique, func(ph string, args []any) error {
		rows, err := tx.Query(ctx, "SELECT id, stateful FROM securitygroups WHERE id IN ("+ph+")"+scope+shareLock(tx), append(args, extra...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var st bool
			if err := rows.Scan(&id, &st); err != nil {
				return err
			}
			found[id] = true
			stateful[st] = true
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return sgNotFound(strings.Join(missing, ", "))
	}
	if len(stateful) > 1 {
		return nerr.Conflict("SecurityGroupConflict", "Error %s while attempting the operation.",
			"Cannot apply both stateful and stateless security groups on the same port at the same time")
	}
	return nil
}

// shareLock keeps the groups from going away until the bindings are
// written (a shared row lock where the engine has one).
func shareLock(tx *db.Tx) string {
	switch tx.Dialect() {
	case db.Postgres:
		return " FOR SHARE"
	case db.MySQL:
		return " LOCK IN SHARE MODE"
	}
	return ""
}

func (c *Component) beforeCreatePort(op *store.Op) error {
	ctx, tx, port := op.Ctx, op.Tx, op.New
	project := pyfmt.Str(port["project_id"])
	defaultID, err := c.ensureDefaultTx(ctx, tx, project)
	if err != nil {
		return err
	}
	secure, err := c.portSecurity(ctx, tx, port)
	if err != nil {
		return err
	}
	v, present := port["security_groups"]
	ids, given := requestedGroups(v, present)
	implicit := false
	if secure {
		if !given && !trusted(port) && defaultID != "" {
			// the project's default group, already read and share-locked
			ids, given, implicit = []string{defaultID}, true, true
		}
	} else if given && len(ids) > 0 {
		return portSecurityRequired()
	}
	if !given || trusted(port) {
		ids = nil
	} else if !implicit {
		if err := c.validateGroups(ctx, tx, ids, project); err != nil {
			return err
		}
	}
	op.Set(portSGsKey{}, &portSGs{ids: ids})
	return nil
}

func (c *Component) afterCreatePort(op *store.Op) error {
	ctx, tx, port := op.Ctx, op.Tx, op.New
	st, ok := op.Value(portSGsKey{}).(*portSGs)
	if !ok {
		return nil
	}
	return bind(ctx, tx, port["id"], st.ids)
}

func bind(ctx context.Context, tx *db.Tx, portID any, ids []string) error {
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := tx.Exec(ctx, "INSERT INTO securitygroupportbindings (port_id, security_group_id) VALUES (?, ?)", portID, id); err != nil {
			return err
		}
	}
	return nil
}

func sameElements(a []any, b []string) bool {
	x := make([]string, 0, len(a))
	for _, v := range a {
		x = append(x, pyfmt.Str(v))
	}
	y := append([]string{}, b...)
	sort.Strings(x)
	sort.Strings(y)
	return strings.Join(x, ",") == strings.Join(y, ",")
}

func (c *Component) beforeUpdatePort(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	if _, err := c.ensureDefaultTx(ctx, tx, pyfmt.Str(old["project_id"])); err != nil {
		return err
	}
	secure := true
	if b, ok := ch["port_security_enabled"].(bool); ok {
		secure = b
	} else if b, ok := old["port_security_enabled"].(bool); ok {
		secure = b
	}
	v, present := ch["security_groups"]
	ids, given := requestedGroups(v, present)
	if !secure {
		if given && len(ids) > 0 {
			return portSecurityRequired()
		}
		if !given {
			bound, _ := old["security_groups"].([]any)
			if len(bound) > 0 {
				return nerr.Conflict("PortSecurityPortHasSecurityGroup", "Port has security group associated. Cannot disable port security or IP address until security group is removed.")
			}
		}
	}
	if !given {
		return nil
	}
	oldIDs, _ := old["security_groups"].([]any)
	if sameElements(oldIDs, ids) {
		return nil
	}
	if trusted(ch) {
		ids = nil
	} else if err := c.validateGroups(ctx, tx, ids, pyfmt.Str(old["project_id"])); err != nil {
		return err
	}
	op.Set(portSGsKey{}, &portSGs{ids: ids})
	return nil
}

func (c *Component) afterUpdatePort(op *store.Op) error {
	ctx, tx, old := op.Ctx, op.Tx, op.Old
	st, ok := op.Value(portSGsKey{}).(*portSGs)
	if !ok {
		return nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM securitygroupportbindings WHERE port_id = ?", old["id"]); err != nil {
		return err
	}
	return bind(ctx, tx, old["id"], st.ids)
}
