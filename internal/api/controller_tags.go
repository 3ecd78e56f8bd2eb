package api

import (
	"net/http"
	"strings"

	"github.com/neutrino-os/neutrino/internal/nerr"
)

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
	if req.c.Policy != nil && !req.c.Policy.Check(req.ctx, req.rc, res.PolicyAction("show"), obj, false) {
		return notFound
	}
	if len(rest) == 0 {
		return req.tagCollection(tg, id)
	}
	return req.tagMember(tg, id, rest[0])
}

// tagCollection serves /<path>/{id}/tags: the list, its replacement and
// its removal.
func (req *request) tagCollection(tg Tagger, id string) error {
	m := req.r.Method
	if m == http.MethodPut && strings.HasSuffix(req.r.URL.Path, "/") {
		// .../tags/ is the collection, but Neutron refuses a PUT there
		return nerr.InvalidInput("Invalid tags body")
	}
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

// tagMember serves /<path>/{id}/tags/{tag}: check, add and remove one tag.
func (req *request) tagMember(tg Tagger, id, tag string) error {
	if msg := validateTag(tag); msg != "" {
		return nerr.InvalidInput(msg)
	}
	switch req.r.Method {
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
