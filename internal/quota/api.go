package quota

import (
	"context"
	"net/http"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// quotaRequest is one call of /v2.0/quotas.
type quotaRequest struct {
	ctx   context.Context
	rc    *reqctx.Context
	authz api.Authorizer
}

// check enforces a quota policy action on the caller's own project.
func (q quotaRequest) check(action string) error {
	if q.authz == nil {
		return nil
	}
	return q.authz.Authorize(q.ctx, q.rc, nil, action, api.Object{"project_id": q.rc.ProjectID, "tenant_id": q.rc.ProjectID}, nil)
}

// Serve answers /v2.0/quotas[/{project_id}[/details|/default]] as
// Neutron's quotasv2 controller does (api.Special).
func (e *Engine) Serve(ctx context.Context, rc *reqctx.Context, method string, rest []string, body func() (any, error), authz api.Authorizer) (int, any, error) {
	q := quotaRequest{ctx: ctx, rc: rc, authz: authz}
	switch {
	case len(rest) == 0 && method == http.MethodGet:
		if err := q.check("get_quota"); err != nil {
			return 0, nil, err
		}
		list, err := e.all(ctx)
		return http.StatusOK, map[string]any{"quotas": list}, err
	case len(rest) == 0 && method == http.MethodPost:
		return 0, nil, nerr.Typed(http.StatusNotImplemented, "HTTPNotImplemented", "POST requests are not supported on this resource.")
	case len(rest) == 0:
		return 0, nil, nerr.HTTPMethodNotAllowed()
	case len(rest) == 1 && (rest[0] == "project" || rest[0] == "tenant") && method == http.MethodGet:
		if rc.ProjectID == "" {
			return 0, nil, nerr.Typed(http.StatusBadRequest, "QuotaMissingTenant", "Tenant-id was missing from quota request.")
		}
		return http.StatusOK, map[string]any{rest[0]: map[string]any{rest[0] + "_id": rc.ProjectID}}, nil
	case len(rest) == 2 && method == http.MethodGet:
		return e.serveProjectView(q, rest[0], rest[1])
	case len(rest) != 1:
		return 0, nil, nerr.HTTPNotFound()
	}
	return e.serveProject(q, method, rest[0], body)
}

// serveProjectView answers GET /quotas/{project_id}/default|details.
func (e *Engine) serveProjectView(q quotaRequest, project, view string) (int, any, error) {
	if project != q.rc.ProjectID && view == "details" && !q.rc.IsAdmin {
		// DetailQuotaSetsController.details: admins only, no policy
		return 0, nil, nerr.Typed(http.StatusForbidden, "AdminRequired",
			"User does not have admin privileges: Only admin is authorized to access quotas for another project.")
	}
	if project != q.rc.ProjectID && view != "details" {
		if err := q.check("get_quota"); err != nil {
			return 0, nil, err
		}
	}
	switch view {
	case "default":
		return http.StatusOK, map[string]any{"quota": e.defaults()}, nil
	case "details":
		d, err := e.details(q.ctx, project)
		return http.StatusOK, map[string]any{"quota": d}, err
	}
	return 0, nil, nerr.HTTPNotFound()
}

// serveProject answers GET, PUT and DELETE /quotas/{project_id}.
func (e *Engine) serveProject(q quotaRequest, method, project string, body func() (any, error)) (int, any, error) {
	switch method {
	case http.MethodGet:
		if project != q.rc.ProjectID {
			if err := q.check("get_quota"); err != nil {
				return 0, nil, err
			}
		}
		l, err := e.limits(q.ctx, e.DB, project)
		return http.StatusOK, map[string]any{"quota": e.ordered(l)}, err
	case http.MethodDelete:
		if err := q.check("delete_quota"); err != nil {
			return 0, nil, err
		}
		res, err := e.DB.Exec(q.ctx, "DELETE FROM quotas WHERE project_id = ?", project)
		if err != nil {
			return 0, nil, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// delete_tenant_quota finds no explicit limit to remove
			return 0, nil, nerr.NotFound("TenantQuotaNotFound", "Quota for tenant %s could not be found.", project)
		}
		return http.StatusNoContent, nil, nil
	case http.MethodPut:
		if err := q.check("update_quota"); err != nil {
			return 0, nil, err
		}
		b, err := body()
		if err != nil {
			return 0, nil, err
		}
		l, err := e.update(q.ctx, q.rc, project, b)
		return http.StatusOK, map[string]any{"quota": l}, err
	}
	return 0, nil, nerr.HTTPMethodNotAllowed()
}

func (e *Engine) ordered(l map[string]int64) api.Ordered {
	m := map[string]any{}
	var order []string
	for _, r := range e.Resources() {
		m[r.Name] = l[r.Name]
		order = append(order, r.Name)
	}
	return api.Ordered{M: m, Order: order}
}

func (e *Engine) defaults() api.Ordered {
	l := map[string]int64{}
	for _, r := range e.Resources() {
		l[r.Name] = r.Def
	}
	return e.ordered(l)
}

func (e *Engine) all(ctx context.Context) ([]any, error) {
	projects, err := db.Strings(ctx, e.DB, "SELECT DISTINCT project_id FROM quotas ORDER BY project_id")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, p := range projects {
		l, err := e.limits(ctx, e.DB, p)
		if err != nil {
			return nil, err
		}
		o := e.ordered(l)
		o.M["project_id"], o.M["tenant_id"] = p, p
		o.Order = append(o.Order, "project_id", "tenant_id")
		out = append(out, o)
	}
	return out, nil
}

func (e *Engine) details(ctx context.Context, project string) (api.Ordered, error) {
	l, err := e.limits(ctx, e.DB, project)
	if err != nil {
		return api.Ordered{}, err
	}
	m := map[string]any{}
	var order []string
	for _, r := range e.Resources() {
		used, err := e.usage(ctx, e.DB, r, project)
		if err != nil {
			return api.Ordered{}, err
		}
		m[r.Name] = api.Ordered{M: map[string]any{"limit": l[r.Name], "used": used, "reserved": int64(0)},
			Order: []string{"limit", "used", "reserved"}}
		order = append(order, r.Name)
	}
	return api.Ordered{M: m, Order: order}, nil
}

// quotaResource is the attribute map PUT /quotas/{id} is checked against.
func (e *Engine) quotaResource() *api.Resource {
	r := &api.Resource{Name: "quota", Collection: "quotas"}
	for _, q := range e.Resources() {
		r.Attrs = append(r.Attrs, &api.Attribute{Name: q.Name, AllowPut: true, Convert: api.ToInt,
			Validate: api.Range(-1, MaxLimit), Visible: true})
	}
	return r.Finish()
}

func (e *Engine) update(ctx context.Context, rc *reqctx.Context, project string, body any) (api.Ordered, error) {
	var checkLimit bool
	if m, ok := body.(map[string]any); ok {
		if q, ok := m["quota"].(map[string]any); ok {
			delete(q, "force")
			if v, ok := q["check_limit"]; ok {
				checkLimit, _ = api.ParseBool(v)
				delete(q, "check_limit")
			}
		}
	}
	items, _, err := e.quotaResource().PrepareBody(rc, body, false)
	if err != nil {
		return api.Ordered{}, err
	}
	changes := items[0]
	err = e.DB.Write(ctx, func(tx *db.Tx) error {
		for name, v := range changes {
			limit := v.(int64)
			if checkLimit {
				used, err := e.usage(ctx, tx, e.resource(name), project)
				if err != nil {
					return err
				}
				if used > limit {
					return nerr.HTTPBadRequest("Quota limit %d for %s must be greater than or equal to already used %d", limit, name, used)
				}
			}
			if _, err := tx.Exec(ctx, "DELETE FROM quotas WHERE project_id = ? AND resource = ?", project, name); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)", project, name, limit); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return api.Ordered{}, err
	}
	l, err := e.limits(ctx, e.DB, project)
	return e.ordered(l), err
}
