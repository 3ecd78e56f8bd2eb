package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/neutrino-os/neutrino/internal/nerr"
)

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
	WriteError(req.w, req.log(), err)
}

// log is the controller's logger naming the request, its user and project.
func (req *request) log() *slog.Logger {
	if req.c.Log == nil {
		return nil
	}
	return req.c.Log.With("request_id", req.rc.RequestID, "user_id", req.rc.UserID, "project_id", req.rc.ProjectID)
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
	b := AppendJSONSpaced(nil, Ordered{M: map[string]any{e.BodyKey(): Ordered{M: map[string]any{
		"type": e.Type, "message": e.Message, "detail": e.Detail,
	}, Order: []string{"type", "message", "detail"}}}, Order: []string{e.BodyKey()}})
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
