package keystone

// Tests against the real Keystone (Zed) that
// scripts/harness/keystone-up.sh runs on 127.0.0.1:5000 (or
// $KEYSTONE_URL). They skip when it does not answer, unless CI=true, where
// they fail: run testdata/ensure-keystone.sh first.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

func keystoneURL() string {
	if u := os.Getenv("KEYSTONE_URL"); u != "" {
		return strings.TrimRight(u, "/")
	}
	return "http://127.0.0.1:5000"
}

var (
	ksOnce sync.Once
	ksErr  error
)

// requireKeystone skips (fails under CI=true) when Keystone is not there.
func requireKeystone(t *testing.T) {
	t.Helper()
	ksOnce.Do(func() {
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(keystoneURL() + "/v3")
		if err != nil {
			ksErr = err
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			ksErr = errors.New(resp.Status)
			return
		}
		// The users keystone-up.sh creates must exist.
		if _, err := issue("neutron", "service"); err != nil {
			ksErr = err
		}
	})
	if ksErr != nil {
		msg := "Keystone not usable at " + keystoneURL() + " (run internal/keystone/testdata/ensure-keystone.sh): " + ksErr.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// issue gets a project-scoped token for user (password = user name), or a
// system-scoped one when project is "".
func issue(user, project string) (string, error) {
	scope := `{"system": {"all": true}}`
	if project != "" {
		scope = `{"project": {"name": "` + project + `", "domain": {"id": "default"}}}`
	}
	body := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "` + user +
		`", "domain": {"id": "default"}, "password": "` + user + `"}}}, "scope": ` + scope + `}}`
	resp, err := http.Post(keystoneURL()+"/v3/auth/tokens?nocatalog", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return "", errors.New("issue token for " + user + ": " + resp.Status + " " + string(b))
	}
	return resp.Header.Get("X-Subject-Token"), nil
}

func mustIssue(t *testing.T, user, project string) string {
	t.Helper()
	tok, err := issue(user, project)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var (
	adminOnce  sync.Once
	adminToken string
	adminErr   error
)

func revoke(t *testing.T, tok string) {
	t.Helper()
	adminOnce.Do(func() { adminToken, adminErr = issue("admin", "admin") })
	if adminErr != nil {
		t.Fatal(adminErr)
	}
	admin := adminToken
	req, _ := http.NewRequest(http.MethodDelete, keystoneURL()+"/v3/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", admin)
	req.Header.Set("X-Subject-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %s", resp.Status)
	}
}

// realConfig is the service user of refneutron-ks-up.sh.
func realConfig(authURL string) Config {
	c := DefaultConfig()
	c.WWWAuthenticateURI = keystoneURL()
	c.AuthURL = authURL
	c.Username, c.Password, c.UserDomainName = "neutron", "neutron", "Default"
	c.ProjectName, c.ProjectDomainName = "service", "Default"
	c.RegionName = "RegionOne"
	c.ServiceTokenRolesRequired = true
	c.HTTPRequestMaxRetries = 0
	return c
}

// proxy is a counting reverse proxy in front of the real Keystone.
type proxy struct {
	URL        string
	validates  atomic.Int64 // GET /v3/auth/tokens
	issues     atomic.Int64 // POST /v3/auth/tokens
	delay      time.Duration
	mu         sync.Mutex
	validateQs []string
}

func newProxy(t *testing.T, delay time.Duration) *proxy {
	t.Helper()
	target, _ := url.Parse(keystoneURL())
	rp := httputil.NewSingleHostReverseProxy(target)
	p := &proxy{delay: delay}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v3/auth/tokens" {
			switch r.Method {
			case http.MethodGet:
				p.validates.Add(1)
				p.mu.Lock()
				p.validateQs = append(p.validateQs, r.URL.RawQuery)
				p.mu.Unlock()
				time.Sleep(p.delay)
			case http.MethodPost:
				p.issues.Add(1)
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// recorder is a next handler that remembers what it saw.
type recorder struct {
	mu     sync.Mutex
	calls  int
	ctx    *reqctx.Context
	header http.Header
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.calls++
	rec.ctx = reqctx.From(r.Context())
	rec.header = r.Header.Clone()
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"networks": []}`))
}

func serve(h http.Handler, method string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/v2.0/networks", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func mustNew(t *testing.T, c Config, opts ...Option) *Validator {
	t.Helper()
	v, err := New(c, append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRealAdminToken(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	v := mustNew(t, realConfig(keystoneURL()), WithDecorate(func(c *reqctx.Context) { c.IsAdmin = c.HasRole("admin") }))
	rec := &recorder{}
	h := v.Middleware(rec)
	tok := mustIssue(t, "admin", "admin")

	req := httptest.NewRequest(http.MethodGet, "/v2.0/networks", nil)
	req.Header.Set("X-Auth-Token", tok)
	// Spoofing attempts: all must be replaced or removed.
	for _, h := range []string{"X-Identity-Status", "X-Service-Identity-Status", "X-User-Id", "X-Roles",
		"X-Service-Roles", "X-Service-User-Id", "X-Domain-Id", "X-Tenant-Id", "OpenStack-System-Scope", "X-Is-Admin-Project"} {
		req.Header.Set(h, "spoofed")
	}
	req = req.WithContext(reqctx.With(req.Context(), &reqctx.Context{RequestID: "req-kept"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK || rec.calls != 1 {
		t.Fatalf("status %d, next called %d times, body %s", w.Code, rec.calls, w.Body)
	}
	c := rec.ctx
	if c == nil {
		t.Fatal("no reqctx.Context")
	}
	if c.RequestID != "req-kept" || c.UserName != "admin" || c.UserID == "" || c.UserDomainID != "default" ||
		c.ProjectName != "admin" || c.ProjectID == "" || c.ProjectDomainID != "default" ||
		!c.HasRole("admin") || !c.IsAdmin || c.AuthToken != tok || c.DomainID != "" || c.SystemScope != "" ||
		c.ServiceRoles != nil || c.ServiceUserID != "" {
		t.Fatalf("context %+v", c)
	}
	hd := rec.header
	want := map[string]string{
		"X-Identity-Status": "Confirmed", "X-User-Id": c.UserID, "X-User-Name": "admin",
		"X-User-Domain-Id": "default", "X-User-Domain-Name": "Default", "X-Project-Id": c.ProjectID,
		"X-Project-Name": "admin", "X-Project-Domain-Id": "default", "X-Project-Domain-Name": "Default",
		"X-Tenant-Id": c.ProjectID, "X-Tenant-Name": "admin", "X-Tenant": "admin", "X-User": "admin",
		"X-Is-Admin-Project": "True", "X-Roles": strings.Join(c.Roles, ","), "X-Role": strings.Join(c.Roles, ","),
	}
	for k, val := range want {
		if got := hd.Get(k); got != val {
			t.Errorf("downstream %s = %q, want %q", k, got, val)
		}
	}
	for _, k := range []string{"X-Service-Identity-Status", "X-Service-Roles", "X-Service-User-Id", "X-Domain-Id", "OpenStack-System-Scope"} {
		if vals := hd.Values(k); len(vals) != 0 {
			t.Errorf("spoofed %s still there: %q", k, vals)
		}
	}
	if len(hd.Values("X-Roles")) != 1 {
		t.Errorf("X-Roles %q", hd.Values("X-Roles"))
	}

	// Without a context in the request a request ID is made.
	w = serve(h, http.MethodGet, map[string]string{"X-Auth-Token": tok})
	if w.Code != 200 || !strings.HasPrefix(rec.ctx.RequestID, "req-") || len(rec.ctx.RequestID) != 40 {
		t.Fatalf("status %d, request id %q", w.Code, rec.ctx.RequestID)
	}
}

func TestRealDemoToken(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	v := mustNew(t, realConfig(keystoneURL()))
	rec := &recorder{}
	tok := mustIssue(t, "demo", "demo")
	// X-Storage-Token is the legacy spelling.
	w := serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Storage-Token": tok})
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	c := rec.ctx
	if c.UserName != "demo" || c.ProjectName != "demo" || !c.HasRole("member") || c.HasRole("admin") || c.IsAdmin {
		t.Fatalf("context %+v", c)
	}
	id, err := v.Validate(context.Background(), tok)
	if err != nil || id.UserName != "demo" || !slices.Contains(id.Roles, "member") || time.Until(id.ExpiresAt) < time.Hour {
		t.Fatalf("Validate: %+v, %v", id, err)
	}
}

func TestRealSystemScopedToken(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	v := mustNew(t, realConfig(keystoneURL()))
	rec := &recorder{}
	w := serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Auth-Token": mustIssue(t, "admin", "")})
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	if c := rec.ctx; c.SystemScope != "all" || c.ProjectID != "" || !c.HasRole("admin") {
		t.Fatalf("context %+v", c)
	}
	if got := rec.header.Get("OpenStack-System-Scope"); got != "all" {
		t.Fatalf("OpenStack-System-Scope %q", got)
	}
	if rec.header.Get("X-Project-Id") != "" {
		t.Fatal("X-Project-Id set for a system-scoped token")
	}
}

func check401(t *testing.T, w *httptest.ResponseRecorder, head bool) {
	t.Helper()
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401; body %s", w.Code, w.Body)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != `Keystone uri="`+keystoneURL()+`"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
	if got := w.Header().Get("Content-Type"); got != "application/json" {
		t.Fatalf("Content-Type %q", got)
	}
	if got := w.Header().Get("Content-Length"); got != "114" {
		t.Fatalf("Content-Length %q", got)
	}
	want, _ := os.ReadFile("testdata/ref-401.body.json")
	if head {
		want = nil
	}
	if !bytes.Equal(w.Body.Bytes(), want) {
		t.Fatalf("body %q, want %q", w.Body, want)
	}
}

func TestRealRejections(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	v := mustNew(t, realConfig(keystoneURL()))
	rec := &recorder{}
	h := v.Middleware(rec)
	for name, hdr := range map[string]map[string]string{
		"missing":      nil,
		"empty":        {"X-Auth-Token": ""},
		"garbage":      {"X-Auth-Token": "garbage"},
		"long garbage": {"X-Auth-Token": strings.Repeat("a", 3000)},
		"spoofed":      {"X-Identity-Status": "Confirmed", "X-User-Id": "x", "X-Roles": "admin"},
		"service only": {"X-Service-Token": mustIssue(t, "neutron", "service")},
	} {
		t.Run(name, func(t *testing.T) {
			check401(t, serve(h, http.MethodGet, hdr), false)
		})
	}
	check401(t, serve(h, http.MethodHead, nil), true)
	if rec.calls != 0 {
		t.Fatalf("next called %d times", rec.calls)
	}
	if _, err := v.Validate(context.Background(), "garbage"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Validate(garbage) = %v", err)
	}
}

func TestRealRevokedAfterCacheExpiry(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	c := realConfig(keystoneURL())
	c.TokenCacheTime = 3
	v := mustNew(t, c)
	rec := &recorder{}
	h := v.Middleware(rec)
	tok := mustIssue(t, "demo", "demo")
	revoke(t, mustIssue(t, "demo", "demo")) // warm up the admin token
	before := time.Now()
	if w := serve(h, http.MethodGet, map[string]string{"X-Auth-Token": tok}); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	cachedAt := time.Now() // the entry was added between before and now
	revoke(t, tok)
	// Still cached, as keystonemiddleware (unless revoking took longer
	// than the cache time on a loaded machine).
	if time.Since(before) < 2*time.Second {
		if w := serve(h, http.MethodGet, map[string]string{"X-Auth-Token": tok}); w.Code != 200 {
			t.Fatalf("cached revoked token: status %d", w.Code)
		}
		if s := v.Stats(); s.Validations != 1 || s.CacheHits != 1 {
			t.Fatalf("stats %+v", s)
		}
	}
	time.Sleep(time.Until(cachedAt.Add(3200 * time.Millisecond)))
	check401(t, serve(h, http.MethodGet, map[string]string{"X-Auth-Token": tok}), false)

	// Without cache a revoked token is refused at once.
	c.TokenCacheTime = -1
	v = mustNew(t, c)
	tok = mustIssue(t, "demo", "demo")
	if _, err := v.Validate(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	revoke(t, tok)
	if _, err := v.Validate(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("revoked token: %v", err)
	}
}

// closedPort returns a local URL nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestUnreachableKeystone(t *testing.T) {
	t.Parallel()
	// Needs no Keystone: nothing listens at auth_url.
	c := realConfig(closedPort(t))
	v := mustNew(t, c)
	rec := &recorder{}
	h := v.Middleware(rec)
	for accept, file := range map[string]string{
		"":                                "testdata/ref-503.body.txt",
		"*/*":                             "testdata/ref-503.body.html",
		"application/json":                "testdata/ref-503.body.json",
		"application/json, text/html":     "testdata/ref-503.body.html",
		"text/*;q=0.5, application/json":  "testdata/ref-503.body.json",
		"application/xml":                 "testdata/ref-503.body.txt",
		";;;":                             "testdata/ref-503.body.html",
		"text/html;q=0, application/json": "testdata/ref-503.body.json",
	} {
		hdr := map[string]string{"X-Auth-Token": "some-token"}
		if accept != "" {
			hdr["Accept"] = accept
		}
		w := serve(h, http.MethodGet, hdr)
		want, _ := os.ReadFile(file)
		if w.Code != http.StatusServiceUnavailable || w.Body.String() != string(want) {
			t.Errorf("Accept %q: status %d body %q, want %s", accept, w.Code, w.Body, file)
		}
		if w.Header().Get("WWW-Authenticate") != "" {
			t.Errorf("503 with WWW-Authenticate")
		}
	}
	w := serve(h, http.MethodHead, map[string]string{"X-Auth-Token": "t"})
	if w.Code != 503 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "0" {
		t.Fatalf("HEAD: %d %q", w.Code, w.Body)
	}
	// No token: 401 without asking Keystone.
	check401(t, serve(h, http.MethodGet, nil), false)
	if rec.calls != 0 {
		t.Fatalf("next called %d times", rec.calls)
	}
	if _, err := v.Validate(context.Background(), "t"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Validate: %v", err)
	}
	// Unavailability is never cached: still 503 and never valid.
	if w := serve(h, http.MethodGet, map[string]string{"X-Auth-Token": "some-token"}); w.Code != 503 {
		t.Fatalf("second try: %d", w.Code)
	}

	// Connection retries, as keystoneauth: 0.5 s then 1 s.
	c.HTTPRequestMaxRetries = 2
	v = mustNew(t, c)
	start := time.Now()
	if _, err := v.Validate(context.Background(), "t"); !errors.Is(err, ErrUnavailable) {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 1400*time.Millisecond || d > 5*time.Second {
		t.Fatalf("2 retries took %v", d)
	}
}

func TestRealServiceUserCannotAuthenticate(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	c := realConfig(keystoneURL())
	c.Password = "wrong"
	v := mustNew(t, c)
	rec := &recorder{}
	w := serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Auth-Token": mustIssue(t, "demo", "demo"), "Accept": "application/json"})
	if w.Code != 503 || rec.calls != 0 {
		t.Fatalf("status %d, next called %d", w.Code, rec.calls)
	}
	if _, err := v.Validate(context.Background(), "x"); !errors.Is(err, ErrUnavailable) {
		t.Fatal(err)
	}
}

func TestRealCacheHitAndNegativeCache(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	p := newProxy(t, 0)
	v := mustNew(t, realConfig(p.URL))
	rec := &recorder{}
	h := v.Middleware(rec)
	tok := mustIssue(t, "demo", "demo")
	for i := 0; i < 5; i++ {
		if w := serve(h, http.MethodGet, map[string]string{"X-Auth-Token": tok}); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
	}
	if n := p.validates.Load(); n != 1 {
		t.Fatalf("%d validation calls for 5 requests, want 1", n)
	}
	if n := p.issues.Load(); n != 1 {
		t.Fatalf("%d service-token requests, want 1", n)
	}
	if s := v.Stats(); s.Validations != 1 || s.ServiceTokens != 1 || s.CacheHits != 4 {
		t.Fatalf("stats %+v", s)
	}
	// An invalid token is asked about once, then remembered.
	for i := 0; i < 5; i++ {
		check401(t, serve(h, http.MethodGet, map[string]string{"X-Auth-Token": "garbage-token"}), false)
	}
	if n := p.validates.Load(); n != 2 {
		t.Fatalf("%d validation calls after 5 garbage requests, want 2", n)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range p.validateQs {
		if q != "nocatalog" {
			t.Fatalf("validation query %q", q)
		}
	}
}

func TestRealSingleflight(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	p := newProxy(t, 300*time.Millisecond)
	v := mustNew(t, realConfig(p.URL))
	if _, err := v.serviceToken(context.Background(), ""); err != nil { // warm up
		t.Fatal(err)
	}
	rec := &recorder{}
	h := v.Middleware(rec)
	tok := mustIssue(t, "demo", "demo")
	var wg sync.WaitGroup
	var bad atomic.Int64
	start := make(chan struct{})
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if w := serve(h, http.MethodGet, map[string]string{"X-Auth-Token": tok}); w.Code != 200 {
				bad.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d requests failed", bad.Load())
	}
	if n := p.validates.Load(); n != 1 {
		t.Fatalf("%d validation calls for 50 parallel requests, want 1", n)
	}
	if rec.calls != 50 {
		t.Fatalf("next called %d times", rec.calls)
	}
}

func TestRealServiceToken(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	user := mustIssue(t, "demo", "demo")
	svc := mustIssue(t, "neutron", "service") // roles admin, member, reader

	// Default service_token_roles=[service], required: the neutron user's
	// token is no service token -> 401 like the reference.
	p := newProxy(t, 0)
	v := mustNew(t, realConfig(p.URL))
	rec := &recorder{}
	check401(t, serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Auth-Token": user, "X-Service-Token": svc}), false)
	check401(t, serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Auth-Token": user, "X-Service-Token": "garbage"}), false)
	if rec.calls != 0 {
		t.Fatal("next called")
	}

	// service_token_roles=admin: valid, and the user token is validated
	// with allow_expired.
	c := realConfig(p.URL)
	c.ServiceTokenRoles = []string{"admin"}
	v = mustNew(t, c)
	w := serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Auth-Token": user, "X-Service-Token": svc})
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	rc := rec.ctx
	if rc.UserName != "demo" || !slices.Contains(rc.ServiceRoles, "admin") || rc.ServiceUserID == "" ||
		rc.ServiceProjectID == "" || rc.ServiceProjectID == rc.ProjectID || rc.HasRole("admin") {
		t.Fatalf("context %+v", rc)
	}
	hd := rec.header
	if hd.Get("X-Service-Identity-Status") != "Confirmed" || !strings.Contains(hd.Get("X-Service-Roles"), "admin") ||
		hd.Get("X-Service-User-Name") != "neutron" || hd.Get("X-Service-Project-Name") != "service" ||
		hd.Get("X-Project-Name") != "demo" {
		t.Fatalf("headers %v", hd)
	}
	p.mu.Lock()
	last := p.validateQs[len(p.validateQs)-1]
	p.mu.Unlock()
	if last != "nocatalog&allow_expired=1" {
		t.Fatalf("user validation query %q", last)
	}

	// Not required: a service token without the roles still passes.
	c = realConfig(keystoneURL())
	c.ServiceTokenRolesRequired = false
	v = mustNew(t, c)
	if w := serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Auth-Token": user, "X-Service-Token": svc}); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	if !slices.Contains(rec.ctx.ServiceRoles, "admin") {
		t.Fatalf("service roles %v", rec.ctx.ServiceRoles)
	}
}

func TestRealServiceTokenRenewedOn401(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	p := newProxy(t, 0)
	v := mustNew(t, realConfig(p.URL))
	if _, err := v.Validate(context.Background(), mustIssue(t, "demo", "demo")); err != nil {
		t.Fatal(err)
	}
	v.svcStateMu.RLock()
	old := v.svcToken
	v.svcStateMu.RUnlock()
	revoke(t, old)
	id, err := v.Validate(context.Background(), mustIssue(t, "admin", "admin"))
	if err != nil || id.UserName != "admin" {
		t.Fatalf("after service token revocation: %v", err)
	}
	if n := p.issues.Load(); n != 2 {
		t.Fatalf("%d service-token requests, want 2", n)
	}
}

func TestRealTokenBody(t *testing.T) {
	t.Parallel()
	requireKeystone(t)
	// The service token body as Keystone returns it parses.
	v := mustNew(t, realConfig(keystoneURL()))
	tok, exp, issued, err := v.fetchServiceToken(context.Background())
	if err != nil || tok == "" || !exp.After(issued) {
		t.Fatalf("%q %v %v %v", tok, exp, issued, err)
	}
}
