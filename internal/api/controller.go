package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// Authorizer is the policy engine as the controller uses it.
type Authorizer interface {
	// Authorize is neutron's policy.enforce: the action's rule and, for
	// create/update, the "action:attr" rules of the attributes of res set
	// in body whose attribute enforces policy. A refusal is a 403 error.
	Authorize(rc *reqctx.Context, res *Resource, action string, target, body Object) error
	// Check is neutron's policy.check: true when allowed; an action without
	// a rule is allowed when mightNotExist.
	Check(rc *reqctx.Context, action string, target Object, mightNotExist bool) bool
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
	Log     *slog.Logger

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
		if r.Parent != nil {
			c.subs[r.Parent.Resource] = append(c.subs[r.Parent.Resource], r)
			continue
		}
		first, _, _ := strings.Cut(r.Path, "/")
		c.top[first] = append(c.top[first], r)
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
			c.Log.Error("panic serving request", "panic", p, "path", r.URL.Path)
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
		for _, seg := range segs[1:] {
			if !ValidText(seg) {
				return nerr.HTTPBadRequest("Invalid input: %s.", textReason(seg))
			}
		}
		status, resp, err := sp.Serve(req.ctx, req.rc, req.r.Method, segs[1:], req.readBody, c.Policy)
		if err != nil {
			return err
		}
		if resp == nil {
			req.w.WriteHeader(status)
			return nil
		}
		req.writeSpaced(status, resp)
		return nil
	}
	for _, res := range c.top[segs[0]] {
		n := strings.Count(res.Path, "/") + 1
		if len(segs) < n || strings.Join(segs[:n], "/") != res.Path {
			continue
		}
		return c.dispatch(req, res, "", segs[n:])
	}
	return nerr.HTTPNotFound()
}

// dispatch serves rest (the segments after res's path). parentID is set
// for sub-resources.
func (c *Controller) dispatch(req *request, res *Resource, parentID string, rest []string) error {
	m := req.r.Method
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
	id, sub := rest[0], rest[1]
	if sub == "tags" && res.Tags {
		return req.tags(res, id, rest[2:])
	}
	if act, ok := res.MemberActions[sub]; ok && len(rest) == 2 {
		if m != http.MethodPut {
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

// ---- verbs ----

func (req *request) baseURL() string {
	scheme := "http"
	if req.r.TLS != nil {
		scheme = "https"
	}
	if p := req.r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = p
	}
	u := scheme + "://" + req.r.Host + req.r.URL.Path
	if req.c.LinkPrefix != "" {
		u = strings.TrimRight(req.c.LinkPrefix, "/") + req.r.URL.Path
	}
	return u
}

func (req *request) list(res *Resource, parentID string) error {
	q, err := res.ParseQuery(req.params, req.c.MaxLimit)
	if err != nil {
		return err
	}
	if parentID != "" {
		if err := req.checkParent(res, parentID); err != nil {
			return err
		}
		q.Filters = append(q.Filters, Filter{Attr: res.Parent.MemberName + "_id", Values: []any{parentID}})
	}
	items, err := res.Backend.List(req.ctx, q)
	if err != nil {
		return err
	}
	if req.c.Policy != nil {
		action := res.PolicyAction("show")
		kept := items[:0]
		for _, it := range items {
			if req.c.Policy.Check(req.rc, action, it, false) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	strip := req.hiddenAttrs(res, items)
	b := getBuf()
	defer putBuf(b)
	buf := append(*b, `{"`...)
	buf = append(buf, res.Collection...)
	buf = append(buf, `":[`...)
	buf = res.appendViews(buf, items, viewFields(q.Fields, q.NoFields), strip)
	buf = append(buf, ']')
	if links := Links(req.baseURL(), req.params, items, q, res.PrimaryKey()); links != nil {
		buf = append(buf, `,"`...)
		buf = append(buf, res.Collection...)
		buf = append(buf, `_links":`...)
		buf = AppendJSON(buf, links)
	}
	buf = append(buf, '}')
	*b = buf
	req.write(http.StatusOK, buf)
	return nil
}

// checkParent makes sure the parent of a sub-resource exists and is visible.
func (req *request) checkParent(res *Resource, parentID string) error {
	p := res.Parent.Resource
	obj, err := p.Backend.Get(req.ctx, parentID, nil)
	if err != nil {
		return err
	}
	if req.c.Policy != nil && !req.c.Policy.Check(req.rc, p.PolicyAction("show"), obj, false) {
		return p.notFound(parentID)
	}
	return nil
}

// hiddenAttrs is _exclude_attributes_by_policy, evaluated on the first item
// as Neutron does.
func (req *request) hiddenAttrs(res *Resource, items []Object) map[string]bool {
	if req.c.Policy == nil || len(items) == 0 {
		return nil
	}
	return req.hiddenFor(res, items[0])
}

func (req *request) hiddenFor(res *Resource, obj Object) map[string]bool {
	if req.c.Policy == nil {
		return nil
	}
	var hidden map[string]bool
	show := res.PolicyAction("show")
	// every visible attribute, as _exclude_attributes_by_policy checks
	// get_<resource>:<attr> whether or not the attribute enforces policy
	// (e.g. get_port:resource_request, get_subnet:segment_id)
	for _, a := range res.Attrs {
		if !a.Visible {
			continue
		}
		if _, ok := obj[a.Name]; !ok {
			continue
		}
		if !req.c.Policy.Check(req.rc, show+":"+a.Name, obj, true) {
			if hidden == nil {
				hidden = map[string]bool{}
			}
			hidden[a.Name] = true
			if a.Name == "tenant_id" {
				hidden["project_id"] = true
			}
		}
	}
	return hidden
}

// parallelViews is the list size from which views are rendered on several
// goroutines (a whole collection of ports is megabytes of JSON).
const parallelViews = 1000

// appendViews writes the comma-separated views of items.
func (res *Resource) appendViews(b []byte, items []Object, fields []string, hidden map[string]bool) []byte {
	if len(items) < parallelViews {
		for i, it := range items {
			if i > 0 {
				b = append(b, ',')
			}
			b = res.appendView(b, it, fields, hidden)
		}
		return b
	}
	const parts = 4
	bufs := make([][]byte, parts)
	panics := make([]any, parts)
	var wg sync.WaitGroup
	per := (len(items) + parts - 1) / parts
	for p := 0; p < parts; p++ {
		lo, hi := p*per, min((p+1)*per, len(items))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(p, lo, hi int) {
			defer wg.Done()
			// a panic here would kill the process: hand it to the
			// request's goroutine, whose recovery answers 500
			defer func() { panics[p] = recover() }()
			var pb []byte
			for i := lo; i < hi; i++ {
				if i > lo {
					pb = append(pb, ',')
				}
				pb = res.appendView(pb, items[i], fields, hidden)
			}
			bufs[p] = pb
		}(p, lo, hi)
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	first := true
	for _, pb := range bufs {
		if len(pb) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, pb...)
	}
	return b
}

// appendView writes the API view of obj: visible attributes, in the
// declared order, restricted to fields when given, minus hidden ones.
func (res *Resource) appendView(b []byte, obj Object, fields []string, hidden map[string]bool) []byte {
	b = append(b, '{')
	first := true
	emit := func(k string, v any) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		b = AppendJSON(b, v)
	}
	if len(fields) > 0 {
		done := map[string]bool{}
		for _, f := range fields {
			if done[f] || hidden[f] {
				continue
			}
			done[f] = true
			if !res.visible(f) {
				continue
			}
			if v, ok := obj[f]; ok {
				emit(f, v)
			}
		}
		return append(b, '}')
	}
	for _, a := range res.Attrs {
		if !a.Visible || hidden[a.Name] {
			continue
		}
		if v, ok := obj[a.Name]; ok {
			emit(a.Name, v)
		}
		if a.Name == "tenant_id" && !hidden["project_id"] {
			if v, ok := obj["project_id"]; ok {
				emit("project_id", v)
			}
		}
	}
	return append(b, '}')
}

// viewFields returns the fields to render; "fields=" (only empty values)
// renders nothing, as Neutron does.
func viewFields(fields []string, none bool) []string {
	if none {
		return []string{"\x00"}
	}
	return fields
}

func (res *Resource) visible(name string) bool {
	if name == "project_id" {
		a := res.Attr("tenant_id")
		return a != nil && a.Visible
	}
	a := res.Attr(name)
	return a != nil && a.Visible
}

// View returns the API view of obj as a map (for callers that post-process).
func (res *Resource) View(obj Object) Object {
	out := make(Object, len(obj))
	for k, v := range obj {
		if res.visible(k) {
			out[k] = v
		}
	}
	return out
}

func (req *request) show(res *Resource, parentID, id string) error {
	if !res.ExtensionController {
		// the core controller parses a show's query as a list's (filters,
		// limit, sorting) and refuses what it would refuse there
		if _, err := res.ParseQuery(req.params, req.c.MaxLimit); err != nil {
			return err
		}
	}
	if parentID != "" {
		if err := req.checkParent(res, parentID); err != nil {
			return err
		}
	}
	fields := req.params.NonEmpty("fields")
	fields = viewFields(fields, len(fields) == 0 && len(req.params.All("fields")) > 0)
	obj, err := req.getChild(res, parentID, id, fields)
	if err != nil {
		return err
	}
	if req.c.Policy != nil {
		if err := req.c.Policy.Authorize(req.rc, res, res.PolicyAction("show"), obj, nil); err != nil {
			return nerr.HTTPNotFound()
		}
	}
	b := getBuf()
	defer putBuf(b)
	buf := append(*b, `{"`...)
	buf = append(buf, res.Name...)
	buf = append(buf, `":`...)
	buf = res.appendView(buf, obj, fields, req.hiddenFor(res, obj))
	buf = append(buf, '}')
	*b = buf
	req.write(http.StatusOK, buf)
	return nil
}

// getChild fetches id, checking it belongs to parentID for sub-resources.
func (req *request) getChild(res *Resource, parentID, id string, fields []string) (Object, error) {
	obj, err := res.Backend.Get(req.ctx, id, fields)
	if err != nil {
		return nil, err
	}
	if parentID != "" {
		if pv, _ := obj[res.Parent.MemberName+"_id"].(string); pv != "" && pv != parentID {
			return nil, res.notFound(id)
		}
	}
	return obj, nil
}

func (req *request) readBody() (any, error) { return req.readBodyFor(nil) }

// readBodyFor reads a JSON request body for res. Neutron answers a body it
// cannot parse according to who parses it: the core resources' controller
// with HTTPBadRequest, the extension controllers (ExtensionController) with
// MalformedRequestBody; text that is not UTF-8 is refused as well.
func (req *request) readBodyFor(res *Resource) (any, error) {
	malformed := func(core string) error {
		if res == nil || res.ExtensionController {
			return nerr.MalformedRequestBody()
		}
		return nerr.HTTPBadRequest("%s", core)
	}
	data, err := io.ReadAll(io.LimitReader(req.r.Body, 16<<20))
	if err != nil {
		return nil, nerr.HTTPBadRequest("Body contains invalid data")
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return map[string]any{}, nil
	}
	if !utf8.Valid(data) {
		return nil, malformed("The server could not comply with the request since it is either malformed or otherwise incorrect.")
	}
	v, err := DecodeJSON(data)
	if err != nil {
		return nil, malformed("Body contains invalid data")
	}
	if err := checkBodyText(v); err != nil {
		return nil, err
	}
	return v, nil
}

func (req *request) create(res *Resource, parentID string) error {
	body, err := req.readBodyFor(res)
	if err != nil {
		return err
	}
	if err := checkBulkSize(res, body, req.c.MaxBulk); err != nil {
		return err
	}
	items, bulk, err := res.PrepareBody(req.rc, body, true)
	if err != nil {
		return err
	}
	if parentID != "" {
		if err := req.checkParent(res, parentID); err != nil {
			return err
		}
		for _, it := range items {
			it[res.Parent.MemberName+"_id"] = parentID
		}
	}
	for _, it := range items {
		if res.ValidateCreate != nil {
			if err := res.ValidateCreate(req.ctx, it); err != nil {
				return err
			}
		}
		if req.c.Policy != nil {
			if err := req.c.Policy.Authorize(req.rc, res, res.PolicyAction("create"), it, it); err != nil {
				return err
			}
		}
	}
	out, err := res.Backend.Create(req.ctx, items)
	if err != nil {
		return err
	}
	b := getBuf()
	defer putBuf(b)
	buf := *b
	if bulk {
		buf = append(buf, `{"`...)
		buf = append(buf, res.Collection...)
		buf = append(buf, `":[`...)
		var hidden map[string]bool
		if len(out) > 0 {
			hidden = req.hiddenFor(res, out[0])
		}
		for i, o := range out {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = res.appendView(buf, o, nil, hidden)
		}
		buf = append(buf, "]}"...)
	} else {
		buf = append(buf, `{"`...)
		buf = append(buf, res.Name...)
		buf = append(buf, `":`...)
		buf = res.appendView(buf, out[0], nil, req.hiddenFor(res, out[0]))
		buf = append(buf, '}')
	}
	*b = buf
	req.write(http.StatusCreated, buf)
	return nil
}

func (res *Resource) enforced(attr string) bool {
	a := res.Attr(attr)
	return a != nil && a.EnforcePolicy
}

// Enforced reports whether attr has enforce_policy.
func (res *Resource) Enforced(attr string) bool { return res.enforced(attr) }

var etagRE = regexp.MustCompile(`(?:^|\s)(W/)?"((?:\\"|.)*?)"`)

// IfMatch parses "If-Match: revision_number=N" (neutron's
// check_request_for_revision_constraint over webob's ETag parsing: quoted
// strong etags when there are any, else the whole header as one etag).
func IfMatch(h http.Header) (*int64, error) {
	value := strings.TrimSpace(strings.Join(h.Values("If-Match"), ", "))
	if value == "" || value == "*" {
		return nil, nil
	}
	var tags []string
	if m := etagRE.FindAllStringSubmatch(value, -1); len(m) > 0 {
		for _, x := range m {
			if x[1] == "" {
				tags = append(tags, x[2])
			}
		}
	} else {
		tags = []string{value}
	}
	var found *int64
	for _, tag := range tags {
		if !strings.HasPrefix(tag, "revision_number=") {
			continue
		}
		if found != nil {
			return nil, nerr.BadRequest("if-match", "Multiple revision_number etags are not supported.")
		}
		n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(tag, "revision_number=")), 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			// an integer to Python, just one no revision reaches: 412
			n, err = math.MaxInt64, nil
		}
		if err != nil {
			return nil, nerr.BadRequest("if-match", "Revision number etag must be in the format of revision_number=<int>")
		}
		found = &n
	}
	return found, nil
}

func (req *request) update(res *Resource, parentID, id string) error {
	body, err := req.readBodyFor(res)
	if err != nil {
		return err
	}
	items, _, err := res.PrepareBody(req.rc, body, false)
	if err != nil {
		return err
	}
	changes := items[0]
	ifMatch, err := IfMatch(req.r.Header)
	if err != nil {
		return err
	}
	if parentID != "" {
		if err := req.checkParent(res, parentID); err != nil {
			return err
		}
	}
	orig, err := req.getChild(res, parentID, id, nil)
	if err != nil {
		return err
	}
	if req.c.Policy != nil {
		target := make(Object, len(orig)+len(changes))
		for k, v := range orig {
			target[k] = v
		}
		for k, v := range changes {
			target[k] = v
		}
		if err := req.c.Policy.Authorize(req.rc, res, res.PolicyAction("update"), target, changes); err != nil {
			// Neutron checks get_<resource> on the original object
			// updated with the request's values
			if !req.c.Policy.Check(req.rc, res.PolicyAction("show"), target, false) {
				return nerr.HTTPNotFound()
			}
			return err
		}
	}
	out, err := res.Backend.Update(req.ctx, id, changes, ifMatch)
	if err != nil {
		return err
	}
	b := getBuf()
	defer putBuf(b)
	buf := append(*b, `{"`...)
	buf = append(buf, res.Name...)
	buf = append(buf, `":`...)
	buf = res.appendView(buf, out, nil, req.hiddenFor(res, out))
	buf = append(buf, '}')
	*b = buf
	req.write(http.StatusOK, buf)
	return nil
}

func (req *request) delete(res *Resource, parentID, id string) error {
	data, _ := io.ReadAll(io.LimitReader(req.r.Body, 1<<20))
	if len(data) > 0 {
		return nerr.HTTPBadRequest("Request body is not supported in DELETE.")
	}
	ifMatch, err := IfMatch(req.r.Header)
	if err != nil {
		return err
	}
	if parentID != "" {
		if err := req.checkParent(res, parentID); err != nil {
			return err
		}
	}
	obj, err := req.getChild(res, parentID, id, nil)
	if err != nil {
		return err
	}
	if req.c.Policy != nil {
		if err := req.c.Policy.Authorize(req.rc, res, res.PolicyAction("delete"), obj, nil); err != nil {
			if !req.c.Policy.Check(req.rc, res.PolicyAction("show"), obj, false) {
				return nerr.HTTPNotFound()
			}
			return err
		}
	}
	if err := res.Backend.Delete(req.ctx, id, ifMatch); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (req *request) memberAction(res *Resource, id, name string, act MemberAction) error {
	body, err := req.readBody()
	if err != nil {
		return err
	}
	obj, err := res.Backend.Get(req.ctx, id, nil)
	if err != nil {
		return err
	}
	if req.c.Policy != nil {
		if !req.c.Policy.Check(req.rc, res.PolicyAction("show"), obj, false) {
			return nerr.HTTPNotFound()
		}
		// the object is the target and, as in _build_match_rule, its
		// enforce_policy attributes that differ from their defaults add
		// their "<action>:<attr>" rules (add_prefixes:shared)
		if err := req.c.Policy.Authorize(req.rc, res, name, obj, obj); err != nil {
			return err
		}
	}
	m, _ := body.(map[string]any)
	if body != nil && m == nil {
		return nerr.HTTPBadRequest("Body contains invalid data")
	}
	out, err := act(req.ctx, res, id, m)
	if err != nil {
		return err
	}
	b := getBuf()
	defer putBuf(b)
	*b = AppendJSON(*b, out)
	req.write(http.StatusOK, *b)
	return nil
}

// ---- tags (standard-attr-tag) ----

// tags serves /<path>/{id}/tags[/{tag}]. Neutron Zed's tag plugin has no
// policy rules: whoever can see the resource can tag it.
func (req *request) tags(res *Resource, id string, rest []string) error {
	tg, ok := res.Backend.(Tagger)
	if !ok || len(rest) > 1 {
		return nerr.HTTPNotFound()
	}
	notFound := nerr.NotFound("TagResourceNotFound", "Resource %s %s could not be found.", res.Collection, id)
	obj, err := res.Backend.Get(req.ctx, id, nil)
	if err != nil {
		if e, ok := nerr.As(err); ok && e.Status == http.StatusNotFound {
			return notFound
		}
		return err
	}
	if req.c.Policy != nil && !req.c.Policy.Check(req.rc, res.PolicyAction("show"), obj, false) {
		return notFound
	}
	m := req.r.Method
	if len(rest) == 0 && m == http.MethodPut && strings.HasSuffix(req.r.URL.Path, "/") {
		// .../tags/ is the collection, but Neutron refuses a PUT there
		return nerr.InvalidInput("Invalid tags body")
	}
	if len(rest) == 0 {
		switch m {
		case http.MethodGet:
			tags, err := tg.GetTags(req.ctx, id)
			if err != nil {
				return err
			}
			req.writeSpaced(http.StatusOK, map[string]any{"tags": tags})
			return nil
		case http.MethodPut:
			body, err := req.readBody() // no body: "Invalid tags body"
			if err != nil {
				return err
			}
			tags, err := tagListFromBody(body)
			if err != nil {
				return err
			}
			out, err := tg.ReplaceTags(req.ctx, id, tags)
			if err != nil {
				return err
			}
			req.writeSpaced(http.StatusOK, map[string]any{"tags": out})
			return nil
		case http.MethodDelete:
			if err := tg.RemoveAllTags(req.ctx, id); err != nil {
				return err
			}
			req.w.WriteHeader(http.StatusNoContent)
			return nil
		case http.MethodPost:
			return nerr.New(http.StatusNotFound, "HTTPNotFound", "not supported")
		}
		return nerr.HTTPMethodNotAllowed()
	}
	tag := rest[0]
	if msg := validateTag(tag); msg != "" {
		return nerr.InvalidInput(msg)
	}
	switch m {
	case http.MethodGet, http.MethodPost:
		tags, err := tg.GetTags(req.ctx, id)
		if err != nil {
			return err
		}
		if !contains(tags, tag) {
			return TagNotFound(tag)
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodPut:
		if err := tg.AddTag(req.ctx, id, tag); err != nil {
			return err
		}
		req.write(http.StatusCreated, []byte("null"))
		return nil
	case http.MethodDelete:
		if err := tg.RemoveTag(req.ctx, id, tag); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return nerr.HTTPMethodNotAllowed()
}

// TagNotFound is the tagging extension's 404.
func TagNotFound(tag string) error {
	return nerr.NotFound("TagNotFound", "Tag %s could not be found.", tag)
}

// MaxTagLen is the tag length limit (neutron's MAX_TAG_LEN).
const MaxTagLen = 255

func validateTag(tag string) string {
	return validateString(tag, MaxTagLen)
}

func tagListFromBody(body any) ([]string, error) {
	m, ok := body.(map[string]any)
	raw, has := m["tags"]
	if !ok || !has {
		return nil, nerr.InvalidInput("Invalid tags body")
	}
	if msg := ListOf(String(MaxTagLen))(raw); msg != "" {
		return nil, nerr.InvalidInput(msg)
	}
	list := raw.([]any)
	out := make([]string, len(list))
	for i, t := range list {
		out[i] = t.(string)
	}
	return out, nil
}

// ---- static documents ----

func (req *request) resourceIndex() error {
	if answered, err := req.coreChecks(); answered || err != nil {
		return err
	}
	base := req.baseURL()
	base = strings.TrimRight(base, "/")
	var rs []any
	for _, name := range []string{"network", "subnet", "subnetpool", "port"} {
		for _, r := range req.c.Resources {
			if r.Name == name && r.Parent == nil {
				rs = append(rs, Ordered{M: map[string]any{
					"name": r.Name, "collection": r.Collection,
					"links": []any{Ordered{M: map[string]any{"rel": "self", "href": base + "/" + r.Path}, Order: []string{"rel", "href"}}},
				}, Order: []string{"name", "collection", "links"}})
			}
		}
	}
	if rs == nil {
		rs = []any{}
	}
	req.writeSpaced(http.StatusOK, map[string]any{"resources": rs})
	return nil
}

func extJSON(e ExtensionInfo) Ordered {
	return Ordered{M: map[string]any{
		"name": e.Name, "alias": e.Alias, "description": e.Description,
		"updated": e.Updated, "links": []any{},
	}, Order: []string{"name", "alias", "description", "updated", "links"}}
}

func (req *request) extensions(rest []string) error {
	switch req.r.Method {
	case http.MethodGet:
	case http.MethodPost: // no route: the router's own 404
		WebobNotFound(req.w, req.r, "Resource not found.")
		return nil
	default:
		return nerr.HTTPNotFound()
	}
	switch len(rest) {
	case 0:
		list := make([]any, 0, len(req.c.Extensions))
		for _, e := range req.c.Extensions {
			list = append(list, extJSON(e))
		}
		req.writeSpaced(http.StatusOK, map[string]any{"extensions": list})
		return nil
	case 1:
		e, ok := req.c.extByID[rest[0]]
		if !ok {
			WebobNotFound(req.w, req.r, "Extension with alias "+rest[0]+" does not exist")
			return nil
		}
		req.writeSpaced(http.StatusOK, map[string]any{"extension": extJSON(e)})
		return nil
	}
	return nerr.HTTPNotFound()
}

// ---- output ----

func (req *request) write(status int, body []byte) {
	h := req.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	req.w.WriteHeader(status)
	req.w.Write(body)
}

func (req *request) writeSpaced(status int, v any) {
	b := getBuf()
	defer putBuf(b)
	*b = AppendJSONSpaced(*b, v)
	req.write(status, *b)
}

func (req *request) fail(err error) {
	WriteError(req.w, req.c.Log, err)
}

// WriteError renders err as a Neutron error response. Errors that are not
// *nerr.Error are logged and become a 500 without details.
func WriteError(w http.ResponseWriter, log *slog.Logger, err error) {
	e, ok := nerr.As(err)
	if !ok {
		if errors.Is(err, context.Canceled) {
			e = nerr.New(499, "ClientClosedRequest", "client closed request")
		} else {
			if log != nil {
				log.Error("unexpected error", "error", err)
			}
			e = nerr.Internal()
		}
	}
	b := AppendJSONSpaced(nil, Ordered{M: map[string]any{"NeutronError": Ordered{M: map[string]any{
		"type": e.Type, "message": e.Message, "detail": e.Detail,
	}, Order: []string{"type", "message", "detail"}}}, Order: []string{"NeutronError"}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	w.Write(b)
}

// coreChecks are what Neutron's core controller (and webob under it)
// refuses before routing: an Accept header without JSON (406) and a query
// string that is not UTF-8 (webob's 400, written here: answered).
func (req *request) coreChecks() (answered bool, err error) {
	if !AcceptsJSON(req.r.Header) {
		return false, nerr.HTTPNotAcceptable()
	}
	if !queryUTF8(req.r.URL.RawQuery) {
		WebobBadRequest(req.w, req.r)
		return true, nil
	}
	return false, nil
}

// AcceptsJSON is webob's legacy Accept matching as Neutron's core
// controller uses it: true without an Accept header, when no media range in
// it is well-formed, or when one matches application/json (quality values
// are not weighed).
func AcceptsJSON(h http.Header) bool {
	valid := false
	for _, v := range h.Values("Accept") {
		for _, r := range strings.Split(v, ",") {
			r, _, _ = strings.Cut(r, ";")
			r = strings.ToLower(strings.TrimSpace(r))
			typ, sub, ok := strings.Cut(r, "/")
			if !ok || typ == "" || sub == "" {
				continue
			}
			valid = true
			if (typ == "application" || typ == "*") && (sub == "json" || sub == "*") {
				return true
			}
		}
	}
	return !valid
}

// queryUTF8 reports whether every name and value of a query string decodes
// to UTF-8 (webob refuses the request otherwise).
func queryUTF8(raw string) bool {
	for part := range strings.SplitSeq(raw, "&") {
		for kv := range strings.SplitSeq(part, "=") {
			s, err := url.QueryUnescape(kv)
			if err == nil && !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}
