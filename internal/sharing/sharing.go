// Package sharing owns the rbac_policies table's SQL: every check of
// whether an object (a network, a security group, a subnet pool, ...) is
// shared with a project, and every grant or revocation of such access,
// goes through it. The RBAC API and its validation live in internal/rbac;
// this package is the storage level under it and under the owners'
// visibility conditions.
package sharing

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Actions of RBAC policies, and the target meaning every project.
const (
	Shared   = "access_as_shared"
	External = "access_as_external"
	Wildcard = "*"
)

// VisibleCond is the SQL condition "object idExpr of objType has a policy
// of action ("" = any action) for project or for every project": what
// makes an object the caller does not own visible to it.
func VisibleCond(objType, idExpr, project, action string) (string, []any) {
	if action == "" {
		return idExpr + " IN (SELECT object_id FROM rbac_policies WHERE object_type = ? AND target_project IN ('*', ?))",
			[]any{objType, project}
	}
	return idExpr + " IN (SELECT object_id FROM rbac_policies WHERE object_type = ? AND action = ? AND target_project IN ('*', ?))",
		[]any{objType, action, project}
}

// SharedCond is the SQL condition "object idExpr of objType is shared
// (access_as_shared) with project or with every project": the value of an
// object's "shared" attribute for project.
func SharedCond(objType, idExpr, project string) (string, []any) {
	return "EXISTS (SELECT 1 FROM rbac_policies r WHERE r.object_type = ? AND r.object_id = " + idExpr +
		" AND r.action = 'access_as_shared' AND r.target_project IN ('*', ?))", []any{objType, project}
}

// SharedWith returns which of ids are shared with project (or every
// project), for filling "shared" in a page of objects.
func SharedWith(ctx context.Context, q db.Querier, objType, project string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT DISTINCT object_id FROM rbac_policies WHERE object_type = ? AND action = 'access_as_shared' AND target_project IN ('*', ?) AND object_id IN ("+ph+")",
			append([]any{objType, project}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out[id] = true
		}
		return rows.Err()
	})
	return out, err
}

// Grant gives target (a project or Wildcard) action on an object owned by
// owner, unless that policy exists.
func Grant(ctx context.Context, tx *db.Tx, objType, objID string, owner any, target, action string) error {
	pre, post := tx.Dialect().InsertIgnore()
	_, err := tx.Exec(ctx, pre+" INTO rbac_policies (id, project_id, object_type, object_id, target_project, action) VALUES (?, ?, ?, ?, ?, ?)"+post,
		store.NewID(), owner, objType, objID, target, action)
	return err
}

// Revoke removes the object's policies of action, for target only unless
// target is "" (every target).
func Revoke(ctx context.Context, tx *db.Tx, objType, objID, action, target string) error {
	q := "DELETE FROM rbac_policies WHERE object_type = ? AND object_id = ? AND action = ?"
	args := []any{objType, objID, action}
	if target != "" {
		q += " AND target_project = ?"
		args = append(args, target)
	}
	_, err := tx.Exec(ctx, q, args...)
	return err
}

// RevokeAll removes every policy of an object (it is being deleted).
func RevokeAll(ctx context.Context, tx *db.Tx, objType, objID string) error {
	_, err := tx.Exec(ctx, "DELETE FROM rbac_policies WHERE object_type = ? AND object_id = ?", objType, objID)
	return err
}

// Count counts the object's policies of action ("" = any) for target ("" =
// any target).
func Count(ctx context.Context, q db.Querier, objType, objID, action, target string) (int, error) {
	query := "SELECT COUNT(*) FROM rbac_policies WHERE object_type = ? AND object_id = ?"
	args := []any{objType, objID}
	if action != "" {
		query += " AND action = ?"
		args = append(args, action)
	}
	if target != "" {
		query += " AND target_project = ?"
		args = append(args, target)
	}
	var n int
	err := q.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// CountFor counts the object's policies (any action) for project or for
// every project.
func CountFor(ctx context.Context, q db.Querier, objType, objID, project string) (int, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM rbac_policies WHERE object_type = ? AND object_id = ? AND target_project IN ('*', ?)",
		objType, objID, project).Scan(&n)
	return n, err
}

// TargetsExcept lists the targets of the object's policies of action,
// but except.
func TargetsExcept(ctx context.Context, q db.Querier, objType, objID, action, except string) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT target_project FROM rbac_policies WHERE object_type = ? AND object_id = ? AND action = ? AND target_project <> ?",
		objType, objID, action, except)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Filter is the condition of a "shared" list filter over objects idExpr
// of objType for project: true, false, both (no condition) or no valid
// value (nothing matches).
func Filter(objType, idExpr, project string, values []any) (string, []any) {
	want := map[bool]bool{}
	for _, v := range values {
		if b, ok := api.ParseBool(v); ok {
			want[b] = true
		}
	}
	cond, args := SharedCond(objType, idExpr, project)
	switch {
	case want[true] && want[false]:
		return "", nil
	case want[true]:
		return cond, args
	case want[false]:
		return "NOT " + cond, args
	}
	return "1 = 0", nil
}
