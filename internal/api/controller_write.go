package api

import (
	"errors"
	"io"
	"maps"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/policy"
)

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
	if err := req.authorizeCreate(res, parentID, items); err != nil {
		return err
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
			if res.BulkView != nil {
				buf = AppendJSON(buf, res.BulkView(o))
				continue
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

// authorizeCreate is the API half of Neutron's create: the ownership
// checks (OwnershipValidationHook), then the create policy on every item,
// and only then the parent of a sub-resource (the plugin's lookup: its
// NotFound, or the parent's when the caller cannot see it). The policy
// reads the parent only when its rule asks for it (the
// "%(ext_parent:...)s" checks, through ext_parent_<member>_id as
// Neutron's _set_parent_id_into_ext_resources_request sets it), so an
// admin-only rule answers 403 for any parent id (Tempest's
// test_rule_create_forbidden_for_regular_tenants).
func (req *request) authorizeCreate(res *Resource, parentID string, items []Object) error {
	for _, it := range items {
		if parentID != "" {
			it[res.Parent.MemberName+"_id"] = parentID
		}
		if res.ValidateCreate != nil {
			if err := res.ValidateCreate(req.ctx, it); err != nil {
				return err
			}
		}
		if req.c.Policy == nil {
			continue
		}
		target := it
		if parentID != "" && policy.IsExtParent(res.Parent.MemberName) {
			target = maps.Clone(it)
			target["ext_parent_"+res.Parent.MemberName+"_id"] = parentID
		}
		if err := req.c.Policy.Authorize(req.ctx, req.rc, res, res.PolicyAction("create"), target, it); err != nil {
			return err
		}
	}
	if parentID != "" {
		return req.checkParent(res, parentID)
	}
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
		for _, k := range res.UpdateTargetOmits {
			delete(target, k)
		}
		if err := req.c.Policy.Authorize(req.ctx, req.rc, res, res.PolicyAction("update"), target, changes); err != nil {
			// Neutron checks get_<resource> on the original object
			// updated with the request's values
			if !req.c.Policy.Check(req.ctx, req.rc, res.PolicyAction("show"), target, false) {
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
		if err := req.c.Policy.Authorize(req.ctx, req.rc, res, res.PolicyAction("delete"), obj, nil); err != nil {
			if !req.c.Policy.Check(req.ctx, req.rc, res.PolicyAction("show"), obj, false) {
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
		if !req.c.Policy.Check(req.ctx, req.rc, res.PolicyAction("show"), obj, false) {
			return nerr.HTTPNotFound()
		}
		// the object is the target and, as in _build_match_rule, its
		// enforce_policy attributes that differ from their defaults add
		// their "<action>:<attr>" rules (add_prefixes:shared)
		if err := req.c.Policy.Authorize(req.ctx, req.rc, res, name, obj, obj); err != nil {
			return err
		}
	}
	m, _ := body.(map[string]any)
	if body != nil && m == nil && !res.ActionsTakeAnyBody {
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
