package keystone

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// Responses of keystonemiddleware 10.1 in front of neutron-server 21 (Zed),
// recorded from the reference (testdata/reference-responses.txt).
const (
	// Body401 is sent, with WWW-Authenticate and Content-Type
	// application/json, for a missing, invalid, expired or revoked token.
	Body401 = `{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}`

	// webob's HTTPServiceUnavailable('The Keystone service is temporarily
	// unavailable.') rendered for the three Accept outcomes.
	body503HTML = "<html>\n <head>\n  <title>503 Service Unavailable</title>\n </head>\n <body>\n" +
		"  <h1>503 Service Unavailable</h1>\n" +
		"  The server is currently unavailable. Please try again at a later time.<br /><br />\n" +
		"The Keystone service is temporarily unavailable.\n\n\n </body>\n</html>"
	body503JSON = `{"message": "The server is currently unavailable. Please try again at a later time.<br /><br />\n` +
		`The Keystone service is temporarily unavailable.\n\n", "code": "503 Service Unavailable", "title": "Service Unavailable"}`
	body503Text = "503 Service Unavailable\n\n" +
		"The server is currently unavailable. Please try again at a later time.\n\n" +
		" The Keystone service is temporarily unavailable.  "
)

// webob's HTTPUnauthorized() (Neutron's keystonecontext filter) rendered
// for the three Accept outcomes (testdata/ref-context-401.body.*).
const (
	unauthorizedExplanation = "This server could not verify that you are authorized to access the document you requested. " +
		"Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required."
	bodyCtx401HTML = "<html>\n <head>\n  <title>401 Unauthorized</title>\n </head>\n <body>\n" +
		"  <h1>401 Unauthorized</h1>\n  " + unauthorizedExplanation + "<br /><br />\n\n\n\n </body>\n</html>"
	bodyCtx401JSON = `{"message": "` + unauthorizedExplanation + `<br /><br />\n\n\n", "code": "401 Unauthorized", "title": "Unauthorized"}`
	bodyCtx401Text = "401 Unauthorized\n\n" + unauthorizedExplanation + "\n\n   "
)

// Header values of X-Identity-Status / X-Service-Identity-Status.
const (
	Confirmed = "Confirmed"
	Invalid   = "Invalid"
)

// authHeaders are the headers keystonemiddleware sets for the application;
// a client's copies are removed first so they cannot be spoofed.
var authHeaders = func() []string {
	h := []string{
		"X-Service-Catalog", "X-Identity-Status", "X-Service-Identity-Status",
		"X-Is-Admin-Project", "OpenStack-System-Scope",
		"X-Role", "X-User", "X-Tenant-Id", "X-Tenant-Name", "X-Tenant",
	}
	for _, p := range []string{"X", "X-Service"} {
		for _, s := range []string{"-Domain-Id", "-Domain-Name", "-Project-Id", "-Project-Name",
			"-Project-Domain-Id", "-Project-Domain-Name", "-User-Id", "-User-Name",
			"-User-Domain-Id", "-User-Domain-Name", "-Roles"} {
			h = append(h, p+s)
		}
	}
	return h
}()

// Middleware authenticates requests like keystonemiddleware's auth_token:
//
//   - client-sent identity headers (X-Identity-Status, X-User-Id, X-Roles,
//     X-Service-*, ...) are removed;
//   - X-Service-Token, when present, is validated; with one of
//     service_token_roles it lets the user token be expired (allow_expired),
//     without one it fails the request when service_token_roles_required;
//   - X-Auth-Token (or X-Storage-Token) is validated;
//   - a missing or invalid token, or an invalid service token, gets 401 with
//     WWW-Authenticate and Body401; Keystone being unavailable gets 503 with
//     webob's ServiceUnavailable body; next is not called in either case;
//   - otherwise next runs with the identity headers set (X-Identity-Status,
//     X-User-Id, X-Project-Id, X-Roles, ...; X-Service-* for a service
//     token) and a *reqctx.Context (reqctx.With; RequestID kept from a
//     Context already in the request, else a new "req-<uuid>"), after the
//     WithDecorate hook; a 401 from next also gets WWW-Authenticate.
//
// With delay_auth_decision, keystonemiddleware lets failures through
// (Keystone being unavailable counts as an invalid token) and Neutron's
// keystonecontext filter decides: without a valid user token the answer is
// webob's 401 (HTTPUnauthorized, with WWW-Authenticate); with one, next runs
// as that user even when the service token is invalid (X-Service-* and the
// service roles are then left out). next never runs without a
// reqctx.Context.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range authHeaders {
			r.Header.Del(h)
		}
		ctx := r.Context()
		delay := v.cfg.DelayAuthDecision

		var svcID *Identity
		svcToken := headerValue(r.Header, "X-Service-Token")
		svcValid, allowExpired := true, false
		if svcToken != "" {
			id, err := v.validate(ctx, svcToken, false)
			switch {
			case err == nil:
				passed := id.HasAnyRole(v.cfg.ServiceTokenRoles)
				svcValid = passed || !v.cfg.ServiceTokenRolesRequired
				allowExpired = passed
				svcID = id
			case errors.Is(err, ErrInvalidToken) || delay:
				v.log.Info("keystone: invalid service token", "err", err)
				svcValid = false
			default:
				v.log.Error("keystone: unable to validate token", "err", err)
				write503(w, r)
				return
			}
			r.Header.Set("X-Service-Identity-Status", status(svcValid))
		}

		var userID *Identity
		// As webob: X-Auth-Token if present (even empty), else X-Storage-Token.
		userToken := headerValue(r.Header, "X-Auth-Token")
		if _, ok := r.Header["X-Auth-Token"]; !ok {
			userToken = headerValue(r.Header, "X-Storage-Token")
		}
		if userToken != "" {
			id, err := v.validate(ctx, userToken, allowExpired)
			switch {
			case err == nil:
				userID = id
			case errors.Is(err, ErrInvalidToken) || delay:
				v.log.Info("keystone: invalid user token", "err", err)
			default:
				v.log.Error("keystone: unable to validate token", "err", err)
				write503(w, r)
				return
			}
		}
		r.Header.Set("X-Identity-Status", status(userID != nil))

		if userID == nil || !svcValid {
			if !delay {
				v.write401(w, r)
				return
			}
		}
		if userID == nil {
			// delay_auth_decision: Neutron's keystonecontext filter
			// refuses a request without an established user
			v.writeContext401(w, r)
			return
		}
		setUserHeaders(r.Header, userID)
		if svcID != nil && svcValid {
			setIdentityHeaders(r.Header, "X-Service", svcID)
		} else {
			svcID = nil
		}
		r = r.WithContext(reqctx.With(ctx, v.context(ctx, userID, svcID, userToken)))
		next.ServeHTTP(&authWriter{ResponseWriter: w, wwwAuth: v.WWWAuthenticate()}, r)
	})
}

// setUserHeaders sets keystonemiddleware's user headers and their
// deprecated aliases (X-Role, X-User, X-Tenant-*).
func setUserHeaders(h http.Header, id *Identity) {
	setIdentityHeaders(h, "X", id)
	h.Set("X-Is-Admin-Project", "False")
	if id.IsAdminProject {
		h.Set("X-Is-Admin-Project", "True")
	}
	if id.SystemScope != "" {
		h.Set("OpenStack-System-Scope", id.SystemScope)
	}
	for old, cur := range map[string]string{"X-Role": "X-Roles", "X-User": "X-User-Name",
		"X-Tenant-Id": "X-Project-Id", "X-Tenant-Name": "X-Project-Name", "X-Tenant": "X-Project-Name"} {
		if vals := h.Values(cur); len(vals) > 0 {
			h.Set(old, vals[0])
		}
	}
}

// context is the caller of a request made with a valid user token (and a
// valid service token, or svc nil), decorated by the WithDecorate hook.
func (v *Validator) context(ctx context.Context, user, svc *Identity, token string) *reqctx.Context {
	rc := &reqctx.Context{
		UserID:          user.UserID,
		UserName:        user.UserName,
		UserDomainID:    user.UserDomainID,
		ProjectID:       user.ProjectID,
		ProjectName:     user.ProjectName,
		ProjectDomainID: user.ProjectDomainID,
		DomainID:        user.DomainID,
		SystemScope:     user.SystemScope,
		Roles:           slices.Clone(user.Roles),
		AuthToken:       strings.TrimSpace(token),
	}
	if old := reqctx.From(ctx); old != nil && old.RequestID != "" {
		rc.RequestID = old.RequestID
	} else {
		rc.RequestID = "req-" + uuid.NewString()
	}
	if svc != nil {
		rc.ServiceRoles = slices.Clone(svc.Roles)
		rc.ServiceUserID = svc.UserID
		rc.ServiceProjectID = svc.ProjectID
	}
	if v.decorate != nil {
		v.decorate(rc)
	}
	return rc
}

// headerValue reads a header as WSGI sees it: repeated headers joined by ",".
func headerValue(h http.Header, name string) string {
	return strings.Join(h.Values(name), ",")
}

func status(ok bool) string {
	if ok {
		return Confirmed
	}
	return Invalid
}

// setIdentityHeaders sets keystonemiddleware's X<prefix>-* headers; empty
// values are left out.
func setIdentityHeaders(h http.Header, prefix string, id *Identity) {
	h.Set(prefix+"-Roles", strings.Join(id.Roles, ","))
	for suffix, val := range map[string]string{
		"-Domain-Id": id.DomainID, "-Domain-Name": id.DomainName,
		"-Project-Id": id.ProjectID, "-Project-Name": id.ProjectName,
		"-Project-Domain-Id": id.ProjectDomainID, "-Project-Domain-Name": id.ProjectDomainName,
		"-User-Id": id.UserID, "-User-Name": id.UserName,
		"-User-Domain-Id": id.UserDomainID, "-User-Domain-Name": id.UserDomainName,
	} {
		if val != "" {
			h.Set(prefix+suffix, val)
		}
	}
}

// write401 sends keystonemiddleware's rejection.
func (v *Validator) write401(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("WWW-Authenticate", v.WWWAuthenticate())
	h.Set("Content-Length", strconv.Itoa(len(Body401)))
	w.WriteHeader(http.StatusUnauthorized)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(Body401))
	}
}

// write503 sends webob's HTTPServiceUnavailable as keystonemiddleware
// raises it, in the form the Accept header picks.
func write503(w http.ResponseWriter, r *http.Request) {
	writeWebob(w, r, http.StatusServiceUnavailable, body503HTML, body503JSON, body503Text)
}

// writeContext401 sends the webob HTTPUnauthorized() that Neutron's
// keystonecontext filter returns for a request without a user (possible
// only with delay_auth_decision), with auth_token's WWW-Authenticate.
func (v *Validator) writeContext401(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", v.WWWAuthenticate())
	writeWebob(w, r, http.StatusUnauthorized, bodyCtx401HTML, bodyCtx401JSON, bodyCtx401Text)
}

// writeWebob writes a webob HTTP exception rendered as html, json or
// text, in the form the Accept header picks (HEAD: no body, HTML type).
func writeWebob(w http.ResponseWriter, r *http.Request, status int, html, json, text string) {
	h := w.Header()
	if r.Method == http.MethodHead {
		h.Set("Content-Type", "text/html; charset=UTF-8")
		h.Set("Content-Length", "0")
		w.WriteHeader(status)
		return
	}
	var ct, body string
	switch negotiate(r.Header) {
	case "text/html":
		ct, body = "text/html; charset=UTF-8", html
	case "application/json":
		ct, body = "application/json", json
	default:
		ct, body = "text/plain; charset=UTF-8", text
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// negotiate picks "text/html", "application/json" or "" (plain text) from
// the Accept header as webob's acceptable_offers does: no header or an
// empty one gives plain text, an unparseable one the first offer (HTML),
// else the offer with the highest q from its most specific matching range,
// ties going to HTML.
func negotiate(h http.Header) string {
	offers := []string{"text/html", "application/json"}
	vals := h.Values("Accept")
	accept := strings.TrimSpace(strings.Join(vals, ","))
	if accept == "" {
		return ""
	}
	type rng struct {
		typ, sub string
		q        float64
		params   bool
	}
	var ranges []rng
	for _, el := range strings.Split(accept, ",") {
		el = strings.TrimSpace(el)
		if el == "" {
			continue
		}
		parts := strings.Split(el, ";")
		typ, sub, ok := strings.Cut(strings.TrimSpace(parts[0]), "/")
		if !ok || !isToken(typ) || !isToken(sub) || (typ == "*" && sub != "*") {
			return offers[0]
		}
		rg := rng{typ: strings.ToLower(typ), sub: strings.ToLower(sub), q: 1}
		for _, p := range parts[1:] {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			k = strings.TrimSpace(k)
			if !ok || !isToken(k) {
				return offers[0]
			}
			if strings.EqualFold(k, "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil || q < 0 || q > 1 {
					return offers[0]
				}
				rg.q = q
				break // the rest are accept-ext
			}
			rg.params = true
		}
		ranges = append(ranges, rg)
	}
	best, bestQ := "", 0.0
	for _, o := range offers {
		ot, os, _ := strings.Cut(o, "/")
		spec, q := 0, 0.0
		for _, rg := range ranges {
			s := 0
			switch {
			case rg.typ == ot && rg.sub == os:
				s = 3
			case rg.typ == ot && rg.sub == "*":
				s = 2
			case rg.typ == "*" && rg.sub == "*":
				s = 1
			}
			if s == 0 || (rg.params && s == 3) {
				continue
			}
			if s > spec || (s == spec && rg.q > q) {
				spec, q = s, rg.q
			}
		}
		if q > bestQ {
			best, bestQ = o, q
		}
	}
	return best
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// authWriter adds WWW-Authenticate to 401s written by the next handler, as
// keystonemiddleware's process_response does.
type authWriter struct {
	http.ResponseWriter
	wwwAuth string
	wrote   bool
}

func (a *authWriter) WriteHeader(code int) {
	if !a.wrote {
		a.wrote = true
		if code == http.StatusUnauthorized {
			a.Header().Add("WWW-Authenticate", a.wwwAuth)
		}
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *authWriter) Write(b []byte) (int, error) {
	if !a.wrote {
		a.WriteHeader(http.StatusOK)
	}
	return a.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (a *authWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// Flush passes through to the real writer.
func (a *authWriter) Flush() {
	if f, ok := a.ResponseWriter.(http.Flusher); ok {
		if !a.wrote {
			a.WriteHeader(http.StatusOK)
		}
		f.Flush()
	}
}

// Hijack passes through to the real writer.
func (a *authWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(a.ResponseWriter).Hijack()
}
