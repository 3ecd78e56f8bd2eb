package api

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// Authorizer is the policy engine as the controller uses it.
type Authorizer interface {
	// Authorize is neutron's policy.enforce: the action's rule and, for
	// create/update, the "action:attr" rules of the attributes of res set
	// in body whose attribute enforces policy. A refusal is a 403 error.
	Authorize(ctx context.Context, rc *reqctx.Context, res *Resource, action string, target, body Object) error
	// Check is neutron's policy.check: true when allowed; an action without
	// a rule is allowed when mightNotExist.
	Check(ctx context.Context, rc *reqctx.Context, action string, target Object, mightNotExist bool) bool
}

// Special is a hand-written endpoint for the few Networking API paths that
// Neutron itself does not serve with its resource controller (quotas). It
// gets the path segments after its prefix, a body reader, and the policy
// engine; its answer is written as JSON (spaced, as Neutron's extension
// controllers write it).
type Special interface {
	Serve(ctx context.Context, rc *reqctx.Context, method string, rest []string, body func() (any, error), authz Authorizer) (status int, resp any, err error)
}

// ExtensionInfo is one entry of /v2.0/extensions.
type ExtensionInfo struct {
	Name, Alias, Description, Updated string
}

// Controller serves every declared resource under /v2.0/.
type Controller struct {
	Resources  []*Resource
	Specials   map[string]Special // first path segment → endpoint
	Extensions []ExtensionInfo
	Policy     Authorizer // nil: everything is allowed
	// MaxLimit is pagination_max_limit (<= 0: no limit).
	MaxLimit int
	// LinkPrefix is network_link_prefix.
	LinkPrefix string
	// MaxBulk is max_bulk_items: the most resources one bulk create may
	// hold (<= 0: no bound).
	MaxBulk int
	// NoEmptyStringFiltering: the server lacks empty-string-filtering
	// (ML2/OVN), so "name=" is no filter (get_filters drops empty values).
	NoEmptyStringFiltering bool
	Log                    *slog.Logger

	top     map[string][]*Resource // first path segment → top-level resources
	subs    map[*Resource][]*Resource
	extByID map[string]ExtensionInfo
}

// Init indexes the resources; call it once after setting the fields.
func (c *Controller) Init() {
	c.top = map[string][]*Resource{}
	c.subs = map[*Resource][]*Resource{}
	c.extByID = map[string]ExtensionInfo{}
	for _, e := range c.Extensions {
		c.extByID[e.Alias] = e
	}
	for _, r := range c.Resources {
		if r.attrs == nil {
			r.Finish()
		}
		r.dropEmpty = c.NoEmptyStringFiltering
		if r.Parent != nil {
			c.subs[r.Parent.Resource] = append(c.subs[r.Parent.Resource], r)
			continue
		}
		first, _, _ := strings.Cut(r.Path, "/")
		c.top[first] = append(c.top[first], r)
		for _, a := range append(append([]string(nil), r.PathAliases...), r.TagPathAliases...) {
			first, _, _ := strings.Cut(a, "/")
			c.top[first] = append(c.top[first], r)
		}
	}
	for k, rs := range c.top {
		sort.Slice(rs, func(i, j int) bool { return len(rs[i].Path) > len(rs[j].Path) })
		c.top[k] = rs
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// request is one API call being served.
type request struct {
	c      *Controller
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	rc     *reqctx.Context
	params Params
}

// ServeHTTP serves a path below /v2.0 (the prefix already stripped: path
// starts after "/v2.0").
func (c *Controller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	if rc == nil {
		rc = &reqctx.Context{IsAdmin: true, ProjectID: "fake_project_id"}
	}
	req := &request{c: c, w: w, r: r, ctx: r.Context(), rc: rc, params: ParseParams(r.URL.RawQuery)}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			req.log().Error("panic serving request", "panic", p, "path", r.URL.Path)
			req.fail(nerr.Internal())
		}
	}()
	if err := c.route(req); err != nil {
		req.fail(err)
	}
}

func (c *Controller) route(req *request) error {
	if req.r.URL.Path == "/v2.0" {
		if req.r.Method == http.MethodGet || req.r.Method == http.MethodHead {
			return nerr.HTTPNotFound()
		}
		return nerr.HTTPMethodNotAllowed()
	}
	path := strings.TrimPrefix(req.r.URL.Path, "/v2.0")
	path = strings.Trim(path, "/")
	path = strings.TrimSuffix(path, ".json")
	if path == "" {
		if req.r.Method != http.MethodGet {
			return nerr.HTTPMethodNotAllowed()
		}
		return req.resourceIndex()
	}
	segs := strings.Split(path, "/")
	if segs[0] == "extensions" {
		return req.extensions(segs[1:])
	}
	if sp, ok := c.Specials[segs[0]]; ok {
		return req.serveSpecial(sp, segs[1:])
	}
	for _, res := range c.top[segs[0]] {
		for _, p := range append([]string{res.Path}, res.PathAliases...) {
			n := strings.Count(p, "/") + 1
			if len(segs) < n || strings.Join(segs[:n], "/") != p {
				continue
			}
			return c.dispatch(req, res, "", segs[n:])
		}
		for _, p := range res.TagPathAliases {
			n := strings.Count(p, "/") + 1
			if len(segs) >= n+2 && segs[n+1] == "tags" && strings.Join(segs[:n], "/") == p {
				return c.dispatch(req, res, "", segs[n:])
			}
		}
	}
	return nerr.HTTPNotFound()
}

// dispatch serves rest (the segments after res's path). parentID is set
// for sub-resources.
func (c *Controller) dispatch(req *request, res *Resource, parentID string, rest []string) error {
	m := req.r.Method
	if parentID != "" {
		req.ctx = context.WithValue(req.ctx, parentKey{}, parentID)
	}
	if !res.ExtensionController && !(len(rest) > 1 && rest[1] == "tags") {
		if answered, err := req.coreChecks(); answered || err != nil {
			return err
		}
	}
	if len(rest) > 0 && !ValidText(rest[0]) {
		return res.notFound(rest[0]) // no row has such an id
	}
	switch len(rest) {
	case 0:
		switch m {
		case http.MethodGet:
			return req.list(res, parentID)
		case http.MethodPost:
			if res.NoCreate {
				return nerr.HTTPMethodNotAllowed()
			}
			return req.create(res, parentID)
		case http.MethodPut:
			if res.NoUpdate {
				return nerr.HTTPMethodNotAllowed()
			}
			return res.notFound("None")
		case http.MethodDelete:
			if res.NoDelete {
				return nerr.HTTPMethodNotAllowed()
			}
			return res.notFound("None")
		}
		return nerr.HTTPMethodNotAllowed()
	case 1:
		id := rest[0]
		switch m {
		case http.MethodGet:
			return req.show(res, parentID, id)
		case http.MethodPut:
			if res.NoUpdate {
				return nerr.HTTPMethodNotAllowed()
			}
			return req.update(res, parentID, id)
		case http.MethodDelete:
			if res.NoDelete {
				return nerr.HTTPMethodNotAllowed()
			}
			return req.delete(res, parentID, id)
		}
		return nerr.HTTPMethodNotAllowed()
	}
	return c.member(req, res, parentID, rest)
}

// member serves /<path>/{id}/<sub>[/...]: tags, member actions, hand-written
// endpoints and sub-resources.
func (c *Controller) member(req *request, res *Resource, parentID string, rest []string) error {
	m := req.r.Method
	id, sub := rest[0], rest[1]
	if sub == "tags" && res.Tags {
		return req.tags(res, id, rest[2:])
	}
	if sp, ok := res.MemberSpecials[sub]; ok {
		return req.serveSpecial(sp, append([]string{id}, rest[2:]...))
	}
	if act, ok := res.MemberGets[sub]; ok && len(rest) == 2 && m == http.MethodGet {
		return req.memberAction(res, id, sub, act)
	}
	if act, ok := res.MemberActions[sub]; ok && len(rest) == 2 {
		if m == http.MethodPost && res.ActionPostCreates[sub] {
			return req.create(res, parentID)
		}
		if m != http.MethodPut {
			if res.ActionMethodNotAllowed {
				return nerr.HTTPMethodNotAllowed()
			}
			return nerr.HTTPNotFound()
		}
		return req.memberAction(res, id, sub, act)
	}
	for _, s := range c.subs[res] {
		n := strings.Count(s.Path, "/") + 1
		if len(rest)-1 >= n && strings.Join(rest[1:1+n], "/") == s.Path {
			return c.dispatch(req, s, id, rest[1+n:])
		}
	}
	return nerr.HTTPNotFound()
}

// NullBody is a Special's answer written as the JSON null (Neutron's
// extension controllers serialize a create's None result).
type NullBody struct{}

// serveSpecial serves a hand-written endpoint with the path segments
// after its prefix.
func (req *request) serveSpecial(sp Special, rest []string) error {
	for _, seg := range rest {
		if !ValidText(seg) {
			return nerr.HTTPBadRequest("Invalid input: %s.", textReason(seg))
		}
	}
	status, resp, err := sp.Serve(req.ctx, req.rc, req.r.Method, rest, req.readBody, req.c.Policy)
	if err != nil {
		return err
	}
	if _, ok := resp.(NullBody); ok {
		req.write(status, []byte("null"))
		return nil
	}
	if resp == nil {
		req.w.WriteHeader(status)
		return nil
	}
	req.writeSpaced(status, resp)
	return nil
}

type parentKey struct{}

// ParentID returns the id of the parent resource of the sub-resource a
// request is for (the policy of a QoS rule), or "".
func ParentID(ctx context.Context) string {
	s, _ := ctx.Value(parentKey{}).(string)
	return s
}

func (r *Resource) notFound(id string) error {
	if r.NotFound != nil {
		return r.NotFound(id)
	}
	return nerr.NotFound(typeName(r.Name)+"NotFound", "%s %s could not be found.", humanName(r.Name), id)
}

// NotFoundErr returns the resource's 404 for id.
func (r *Resource) NotFoundErr(id string) error { return r.notFound(id) }

func typeName(name string) string {
	var b strings.Builder
	for _, p := range strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' }) {
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

func humanName(name string) string {
	s := typeName(name)
	return s
}
