package keystone

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
)

// checkContext401 asserts the answer of Neutron's keystonecontext filter to
// a request without a user: webob's HTTPUnauthorized in the form the
// Accept header picks, with auth_token's WWW-Authenticate.
func checkContext401(t *testing.T, w *httptest.ResponseRecorder, file, ctype string) {
	t.Helper()
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401; body %s", w.Code, w.Body)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != `Keystone uri="`+keystoneURL()+`"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
	if got := w.Header().Get("Content-Type"); got != ctype {
		t.Fatalf("Content-Type %q, want %q", got, ctype)
	}
	want := []byte{}
	if file != "" {
		want, _ = os.ReadFile(file)
	}
	if w.Body.String() != string(want) {
		t.Fatalf("body %q, want %s", w.Body, file)
	}
}

// TestDelayAuthDecisionAnonymous: with delay_auth_decision, a request
// without a token, with a bad token, or with a token Keystone cannot
// validate because it is down, never reaches the API: keystonemiddleware
// defers (Keystone unavailable counts as an invalid token) and Neutron's
// keystonecontext answers 401. It used to run anonymously (200 with every
// shared network).
func TestDelayAuthDecisionAnonymous(t *testing.T) {
	t.Parallel()
	// Needs no Keystone: nothing listens at auth_url.
	c := realConfig(closedPort(t))
	c.DelayAuthDecision = true
	v := mustNew(t, c)
	rec := &recorder{}
	h := v.Middleware(rec)
	for _, hdr := range []map[string]string{
		{},
		{"X-Auth-Token": "garbage"},
		{"X-Auth-Token": ""},
		{"X-Service-Token": "garbage"},
		{"X-Identity-Status": "Confirmed", "X-User-Id": "u", "X-Roles": "admin", "X-Project-Id": "p"},
	} {
		checkContext401(t, serve(h, http.MethodGet, hdr), "testdata/ref-context-401.body.txt", "text/plain; charset=UTF-8")
	}
	for accept, file := range map[string]string{
		"*/*":              "testdata/ref-context-401.body.html",
		"application/json": "testdata/ref-context-401.body.json",
		"application/xml":  "testdata/ref-context-401.body.txt",
	} {
		ct := map[string]string{"testdata/ref-context-401.body.html": "text/html; charset=UTF-8",
			"testdata/ref-context-401.body.json": "application/json",
			"testdata/ref-context-401.body.txt":  "text/plain; charset=UTF-8"}[file]
		checkContext401(t, serve(h, http.MethodGet, map[string]string{"X-Auth-Token": "t", "Accept": accept}), file, ct)
	}
	checkContext401(t, serve(h, http.MethodHead, nil), "", "text/html; charset=UTF-8")
	if rec.calls != 0 {
		t.Fatalf("next called %d times", rec.calls)
	}
}

// TestRealDelayAuthDecision: with delay_auth_decision and a real Keystone,
// a valid user token is served as that user, also beside an invalid
// service token (as keystonemiddleware sets the user headers and Neutron's
// context reads them), without the service identity; a revoked or garbage
// token gets keystonecontext's 401.
func TestRealDelayAuthDecision(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	c := realConfig(keystoneURL())
	c.DelayAuthDecision = true
	v := mustNew(t, c)
	rec := &recorder{}
	h := v.Middleware(rec)
	user := mustIssue(t, "demo", "demo")
	w := serve(h, http.MethodGet, map[string]string{"X-Auth-Token": user})
	if w.Code != 200 || rec.ctx == nil || rec.ctx.UserName != "demo" || rec.ctx.ProjectID == "" {
		t.Fatalf("valid token: %d ctx %+v", w.Code, rec.ctx)
	}
	w = serve(h, http.MethodGet, map[string]string{"X-Auth-Token": user, "X-Service-Token": "garbage"})
	if w.Code != 200 || rec.ctx == nil || rec.ctx.UserName != "demo" || len(rec.ctx.ServiceRoles) != 0 ||
		rec.header.Get("X-Service-Identity-Status") != "Invalid" || rec.header.Get("X-Service-User-Id") != "" {
		t.Fatalf("invalid service token: %d ctx %+v headers %v", w.Code, rec.ctx, rec.header)
	}
	// demo's token is valid but lacks service_token_roles: not a service
	w = serve(h, http.MethodGet, map[string]string{"X-Auth-Token": user, "X-Service-Token": user})
	if w.Code != 200 || slices.Contains(rec.ctx.ServiceRoles, "member") {
		t.Fatalf("service token without roles: %d ctx %+v", w.Code, rec.ctx)
	}
	calls := rec.calls
	checkContext401(t, serve(h, http.MethodGet, map[string]string{"X-Auth-Token": "garbage"}),
		"testdata/ref-context-401.body.txt", "text/plain; charset=UTF-8")
	if rec.calls != calls {
		t.Fatal("next called for a garbage token")
	}
}
