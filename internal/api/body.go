package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// DecodeJSON decodes a request body into generic values: objects become
// map[string]any, arrays []any, integral numbers int64, other numbers float64.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return normalizeNumbers(v), nil
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := x.Int64(); err == nil {
				return n
			}
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeNumbers(x[k])
		}
	}
	return v
}

// PrepareBody is neutron's Controller.prepare_request_body (as the pecan
// front end of Neutron Zed answers): it checks the shape of a create/update
// body, fills defaults (create), rejects unknown, read-only and missing
// attributes, converts and validates values. It returns the items (one
// unless bulk) and whether the body was a bulk one. An empty request body
// is passed as an empty object; a JSON null as nil.
func (r *Resource) PrepareBody(rc *reqctx.Context, body any, create bool) ([]Object, bool, error) {
	m, isMap := body.(map[string]any)
	if !isMap {
		return nil, false, nerr.HTTPBadRequest("Body contains invalid data")
	}
	if len(m) == 0 && r.ExtensionController {
		// an extension's controller refuses an empty body as such (the
		// core resources' looks for the resource key)
		return nil, false, nerr.HTTPBadRequest("Resource body required")
	}
	// Neutron takes the bulk key to be the member name plus "s" (policys,
	// rbac_policys): a body keyed by the real collection name is no bulk
	if coll, ok := m[r.Name+"s"]; ok {
		if !r.AllowBulk || !create {
			return nil, false, nerr.HTTPBadRequest("Bulk operation not supported")
		}
		if isEmptyBody(coll) {
			return nil, false, nerr.HTTPBadRequest("Resources required")
		}
		list, isList := coll.([]any)
		if !isList {
			// Neutron iterates over the keys or characters and finds no object
			return nil, false, nerr.HTTPBadRequest("Object '%s' contains invalid data", r.Name)
		}
		items := make([]Object, 0, len(list))
		for _, it := range list {
			var wrapped map[string]any
			switch x := it.(type) {
			case map[string]any:
				if _, has := x[r.Name]; has {
					wrapped = x
				} else {
					wrapped = map[string]any{r.Name: x}
				}
			case string, []any:
				wrapped = map[string]any{r.Name: x}
			default:
				return nil, false, nerr.HTTPBadRequest("Body contains invalid data")
			}
			obj, err := r.prepareItem(rc, wrapped, create)
			if err != nil {
				return nil, false, err
			}
			items = append(items, obj)
		}
		return items, true, nil
	}
	obj, err := r.prepareItem(rc, m, create)
	if err != nil {
		return nil, false, err
	}
	return []Object{obj}, false, nil
}

func (r *Resource) prepareItem(rc *reqctx.Context, body map[string]any, create bool) (Object, error) {
	raw, ok := body[r.Name]
	if !ok || raw == nil {
		return nil, nerr.HTTPBadRequest("Unable to find '%s' in request body", r.Name)
	}
	res, ok := raw.(map[string]any)
	if !ok {
		return nil, nerr.HTTPBadRequest("Object '%s' contains invalid data", r.Name)
	}
	hasTenant := r.owner != nil
	// Neutron populates the project on every create, also for resources
	// without tenant_id (whose body is then refused as unrecognized)
	if hasTenant || create {
		if err := populateProject(rc, res, create); err != nil {
			return nil, err
		}
	}
	var extra []string
	for k := range res {
		if r.Attr(k) == nil && !(k == r.mirror && hasTenant) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, nerr.HTTPBadRequest("Unrecognized attribute(s) '%s'", strings.Join(extra, ", "))
	}
	if create {
		for _, a := range r.Attrs {
			_, present := res[a.Name]
			if !a.AllowPost {
				if present {
					return nil, nerr.HTTPBadRequest("Attribute '%s' not allowed in POST", a.Name)
				}
				continue
			}
			if a.Required {
				if !present {
					return nil, nerr.HTTPBadRequest("Failed to parse request. Required attribute '%s' not specified", a.Name)
				}
				continue
			}
			if a.Default == NotSpecified {
				continue
			}
			if !present || (a.DefaultOverridesNone && res[a.Name] == nil) {
				res[a.Name] = cloneDefault(a.Default)
			}
		}
	} else {
		for _, a := range r.Attrs {
			if _, present := res[a.Name]; present && !a.AllowPut {
				return nil, nerr.HTTPBadRequest("Cannot update read-only attribute %s", a.Name)
			}
		}
		if _, present := res[r.mirror]; present && hasTenant && !r.owner.AllowPut {
			return nil, nerr.HTTPBadRequest("Cannot update read-only attribute %s", r.mirror)
		}
	}
	for _, a := range r.Attrs {
		v, present := res[a.Name]
		if !present {
			continue
		}
		if err := convertValidate(a, &v); err != nil {
			return nil, err
		}
		res[a.Name] = v
	}
	if p, ok := res[r.mirror]; ok && hasTenant {
		if msg := r.owner.Validate; msg != nil {
			if m := msg(p); m != "" {
				return nil, nerr.HTTPBadRequest("Invalid input for %s. Reason: %s.", r.mirror, m)
			}
		}
	}
	return res, nil
}

func convertValidate(a *Attribute, v *any) error {
	if a.Convert != nil {
		c, err := a.Convert(*v)
		if err != nil {
			return err
		}
		*v = c
	}
	if a.Validate != nil {
		if msg := a.Validate(*v); msg != "" {
			return nerr.HTTPBadRequest("Invalid input for %s. Reason: %s.", a.Name, msg)
		}
	}
	if a.Check != nil {
		return a.Check(*v)
	}
	return nil
}

// populateProject is neutron-lib's populate_project_id.
func populateProject(rc *reqctx.Context, res map[string]any, create bool) error {
	t, hasT := res["tenant_id"]
	p, hasP := res["project_id"]
	switch {
	case hasT && !hasP:
		res["project_id"] = t
		p, hasP = t, true
	case hasP && !hasT:
		res["tenant_id"] = p
		t, hasT = p, true
	}
	if hasT && !jsonScalarEqual(t, p) {
		return nerr.HTTPBadRequest("'project_id' and 'tenant_id' do not match")
	}
	if hasP && rc != nil && !(rc.IsAdmin || rc.IsAdvsvc) && !jsonScalarEqual(p, rc.ProjectID) {
		return nerr.HTTPBadRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin or advsvc privileges")
	}
	if create && !hasP {
		if rc != nil && rc.ProjectID != "" {
			res["project_id"] = rc.ProjectID
			res["tenant_id"] = rc.ProjectID
		} else {
			return nerr.HTTPBadRequest("Running without keystone AuthN requires that tenant_id is specified")
		}
	}
	return nil
}

func jsonScalarEqual(a, b any) bool { return pyfmt.Repr(a) == pyfmt.Repr(b) }

func cloneDefault(v any) any {
	switch x := v.(type) {
	case []any:
		return append([]any{}, x...)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneDefault(e)
		}
		return m
	}
	return v
}

// isEmptyBody is Python's "not value" for decoded JSON.
func isEmptyBody(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	case bool:
		return !x
	case int64:
		return x == 0
	case float64:
		return x == 0
	}
	return false
}

// checkBulkSize refuses a bulk create of more than max resources (one
// transaction holding its locks, on SQLite the write lock, while it runs).
func checkBulkSize(r *Resource, body any, max int) error {
	m, _ := body.(map[string]any)
	list, _ := m[r.Collection].([]any)
	if max > 0 && len(list) > max {
		return nerr.HTTPBadRequest("Bulk operation of %d %s exceeds the limit of %d (max_bulk_items)", len(list), r.Collection, max)
	}
	return nil
}
