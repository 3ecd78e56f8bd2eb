package api

import (
	"net/http"
	"strings"
	"sync"

	"github.com/neutrino-os/neutrino/internal/nerr"
)

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
	if res.Stream != nil && q.Limit == 0 && q.Marker == "" && !q.PageReverse {
		return req.stream(res, q)
	}
	items, err := res.Backend.List(req.ctx, q)
	if err != nil {
		return err
	}
	items = req.visibleItems(res, items)
	strip := req.hiddenAttrs(res, items)
	b := getBuf()
	defer putBuf(b)
	buf := append(*b, `{"`...)
	buf = append(buf, res.Collection...)
	buf = append(buf, `":[`...)
	buf = res.appendViews(buf, items, res.listFields(q), strip)
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

// listFields are the attributes a list shows of its items.
func (res *Resource) listFields(q *Query) []string {
	fields := viewFields(q.Fields, q.NoFields)
	if res.ListIgnoresFields && len(q.Fields) > 0 {
		fields = res.allButPolicyFields(q.Fields)
	}
	return res.keepFields(fields)
}

// visibleItems keeps the items the caller may see (get_<resource>).
func (req *request) visibleItems(res *Resource, items []Object) []Object {
	if req.c.Policy == nil {
		return items
	}
	action := res.PolicyAction("show")
	kept := items[:0]
	for _, it := range items {
		if req.c.Policy.Check(req.ctx, req.rc, action, it, false) {
			kept = append(kept, it)
		}
	}
	return kept
}

// checkParent makes sure the parent of a sub-resource exists and is visible.
func (req *request) checkParent(res *Resource, parentID string) error {
	if res.Parent.Unchecked {
		return nil
	}
	p := res.Parent.Resource
	obj, err := p.Backend.Get(req.ctx, parentID, nil)
	if err != nil {
		return err
	}
	if req.c.Policy != nil && !req.c.Policy.Check(req.ctx, req.rc, p.PolicyAction("show"), obj, false) {
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
	// (e.g. get_port:resource_request, get_subnet:segment_id); the owner
	// by get_<resource>:tenant_id only, which hides project_id too
	for _, a := range res.Attrs {
		if !a.Visible {
			continue
		}
		if _, ok := obj[a.Name]; !ok {
			continue
		}
		rule := a.Name
		if res.owns(a) {
			rule = "tenant_id"
		}
		if !req.c.Policy.Check(req.ctx, req.rc, show+":"+rule, obj, true) {
			if hidden == nil {
				hidden = map[string]bool{}
			}
			hidden[a.Name] = true
			if res.owns(a) {
				hidden[res.mirror] = true
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
		if res.owns(a) && !hidden[res.mirror] {
			if v, ok := obj[res.mirror]; ok {
				emit(res.mirror, v)
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
	if name == res.mirror && res.owner != nil {
		return res.owner.Visible
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
	fields = res.keepFields(viewFields(fields, len(fields) == 0 && len(req.params.All("fields")) > 0))
	obj, err := req.getChild(res, parentID, id, fields)
	if err != nil {
		return err
	}
	if req.c.Policy != nil {
		if err := req.c.Policy.Authorize(req.ctx, req.rc, res, res.PolicyAction("show"), obj, nil); err != nil {
			return nerr.HTTPNotFound()
		}
	}
	b := getBuf()
	defer putBuf(b)
	buf := append(*b, `{"`...)
	buf = append(buf, res.Name...)
	buf = append(buf, `":`...)
	if res.ShowIgnoresFields {
		fields = nil
	}
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

// allButPolicyFields is what a list shows when the plugin ignores the
// requested fields: every visible attribute but the id and those required
// by policy, unless requested.
func (res *Resource) allButPolicyFields(requested []string) []string {
	asked := map[string]bool{}
	for _, f := range requested {
		asked[f] = true
	}
	var out []string
	for _, a := range res.Attrs {
		if !a.Visible {
			continue
		}
		added := a.PrimaryKey || a.RequiredByPolicy
		if !added || asked[a.Name] {
			out = append(out, a.Name)
		}
		if res.owns(a) && (!added || asked[res.mirror]) {
			out = append(out, res.mirror)
		}
	}
	return out
}

// keepFields adds the resource's KeepFields to requested fields.
func (res *Resource) keepFields(fields []string) []string {
	if len(fields) == 0 || len(res.KeepFields) == 0 || (len(fields) == 1 && fields[0] == "\x00") {
		return fields
	}
	return append(append([]string(nil), fields...), res.KeepFields...)
}
