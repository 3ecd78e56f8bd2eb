package keystone

// Edge cases against an httptest fake Keystone.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

type fakeKeystone struct {
	t         *testing.T
	URL       string
	mu        sync.Mutex
	validate  func(w http.ResponseWriter, r *http.Request) // GET /v3/auth/tokens
	svcLife   time.Duration
	issued    atomic.Int64
	validated atomic.Int64
	queries   []string
	svcTokens []string
}

func newFake(t *testing.T) *fakeKeystone {
	f := &fakeKeystone{t: t, svcLife: time.Hour}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v3/auth/tokens" {
			http.NotFound(w, r)
			return
		}
		switch r.Method {
		case http.MethodPost:
			n := f.issued.Add(1)
			now := time.Now().UTC()
			w.Header().Set("X-Subject-Token", fmt.Sprintf("svc-%d", n))
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"token": {"issued_at": %q, "expires_at": %q, "user": {"id": "svc", "name": "neutron", "domain": {"id": "default"}}, "roles": [{"id": "1", "name": "admin"}]}}`,
				now.Format(time.RFC3339Nano), now.Add(f.svcLife).Format(time.RFC3339Nano))
		case http.MethodGet:
			f.validated.Add(1)
			f.mu.Lock()
			f.queries = append(f.queries, r.URL.RawQuery)
			f.svcTokens = append(f.svcTokens, r.Header.Get("X-Auth-Token"))
			h := f.validate
			f.mu.Unlock()
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeKeystone) set(h func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	f.validate = h
	f.mu.Unlock()
}

func tokenJSON(expires time.Time, extra string) string {
	return fmt.Sprintf(`{"token": {"methods": ["password"], "expires_at": %q, "issued_at": "2020-01-01T00:00:00.000000Z",
		"user": {"id": "u1", "name": "alice", "domain": {"id": "default", "name": "Default"}},
		"roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}]%s}}`,
		expires.UTC().Format("2006-01-02T15:04:05.000000Z"), extra)
}

func reply(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func fakeConfig(url string) Config {
	c := DefaultConfig()
	c.AuthURL = url + "/v3/"
	c.Username, c.Password, c.UserDomainID = "neutron", "neutron", "default"
	c.ProjectName, c.ProjectDomainID = "service", "default"
	c.HTTPRequestMaxRetries = 0
	return c
}

const projectJSON = `, "project": {"id": "p1", "name": "proj", "domain": {"id": "default", "name": "Default"}}`

func TestFakeExpiredToken(t *testing.T) {
	f := newFake(t)
	f.set(reply(200, tokenJSON(time.Now().Add(-time.Minute), projectJSON)))
	v := mustNew(t, fakeConfig(f.URL))
	if _, err := v.Validate(context.Background(), "tok"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired token: %v", err)
	}
	// With a service token's allow_expired the token is accepted and
	// Keystone is asked with allow_expired=1.
	id, err := v.ValidateAllowExpired(context.Background(), "tok2")
	if err != nil || id.UserID != "u1" || id.ProjectID != "p1" {
		t.Fatalf("allow expired: %+v %v", id, err)
	}
	if q := f.queries[len(f.queries)-1]; q != "nocatalog&allow_expired=1" {
		t.Fatalf("query %q", q)
	}
	// Cached, but expired: invalid without a Keystone call unless allowed.
	n := f.validated.Load()
	if _, err := v.Validate(context.Background(), "tok2"); !errors.Is(err, ErrInvalidToken) {
		t.Fatal(err)
	}
	if _, err := v.ValidateAllowExpired(context.Background(), "tok2"); err != nil {
		t.Fatal(err)
	}
	if f.validated.Load() != n {
		t.Fatal("cache not used")
	}
}

func TestFakeExpiryWhileCached(t *testing.T) {
	f := newFake(t)
	exp := time.Now().Add(time.Hour)
	f.set(reply(200, tokenJSON(exp, projectJSON)))
	v := mustNew(t, fakeConfig(f.URL))
	if _, err := v.Validate(context.Background(), "tok"); err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return exp.Add(time.Second) }
	if _, err := v.Validate(context.Background(), "tok"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token expired while cached: %v", err)
	}
	if f.validated.Load() != 1 {
		t.Fatal("Keystone asked again")
	}
}

func TestFakeMalformedAndErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
		cached bool // negative-cached: a second try does not ask Keystone
	}{
		{"not json", 200, "<html>", ErrInvalidToken, false},
		{"no token", 200, `{"foo": 1}`, ErrInvalidToken, false},
		{"no user", 200, `{"token": {"expires_at": "2999-01-01T00:00:00Z"}}`, ErrInvalidToken, false},
		{"bad expiry", 200, `{"token": {"expires_at": "soon", "user": {"id": "u"}}}`, ErrInvalidToken, false},
		{"404", 404, `{"error": {"code": 404}}`, ErrInvalidToken, true},
		{"500", 500, `oops`, ErrUnavailable, false},
		{"503", 503, `oops`, ErrUnavailable, false},
		{"403", 403, `{}`, ErrUnavailable, false},
		{"400", 400, `{}`, ErrUnavailable, false},
		{"401 twice", 401, `{}`, ErrUnavailable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.set(reply(tc.status, tc.body))
			v := mustNew(t, fakeConfig(f.URL))
			for i := 0; i < 2; i++ {
				if _, err := v.Validate(context.Background(), "tok"); !errors.Is(err, tc.want) {
					t.Fatalf("try %d: %v, want %v", i, err, tc.want)
				}
			}
			perTry := int64(1)
			if tc.status == 401 {
				perTry = 2 // renewed service token, then give up
			}
			want := 2 * perTry
			if tc.cached {
				want = perTry
			}
			if n := f.validated.Load(); n != want {
				t.Fatalf("%d Keystone calls, want %d", n, want)
			}
		})
	}
}

func TestFakeMiddleware503OnKeystoneError(t *testing.T) {
	f := newFake(t)
	f.set(reply(500, "boom"))
	v := mustNew(t, fakeConfig(f.URL))
	rec := &recorder{}
	w := serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Auth-Token": "tok", "Accept": "application/json"})
	want, _ := os.ReadFile("testdata/ref-503.body.json")
	if w.Code != 503 || w.Body.String() != string(want) || w.Header().Get("Content-Type") != "application/json" || rec.calls != 0 {
		t.Fatalf("%d %q calls=%d", w.Code, w.Body, rec.calls)
	}
}

func TestFakeServiceToken401Renewal(t *testing.T) {
	f := newFake(t)
	var first atomic.Bool
	f.set(func(w http.ResponseWriter, r *http.Request) {
		if !first.Swap(true) {
			reply(401, `{}`)(w, r)
			return
		}
		reply(200, tokenJSON(time.Now().Add(time.Hour), projectJSON))(w, r)
	})
	v := mustNew(t, fakeConfig(f.URL))
	if _, err := v.Validate(context.Background(), "tok"); err != nil {
		t.Fatal(err)
	}
	if f.issued.Load() != 2 || f.svcTokens[0] != "svc-1" || f.svcTokens[1] != "svc-2" {
		t.Fatalf("issued %d, used %v", f.issued.Load(), f.svcTokens)
	}
}

func TestFakeServiceTokenRenewedBeforeExpiry(t *testing.T) {
	f := newFake(t)
	f.svcLife = 10 * time.Minute
	f.set(reply(200, tokenJSON(time.Now().Add(time.Hour), projectJSON)))
	c := fakeConfig(f.URL)
	c.TokenCacheTime = -1
	v := mustNew(t, c)
	base := time.Now()
	v.now = func() time.Time { return base }
	for i := 0; i < 3; i++ {
		if _, err := v.Validate(context.Background(), "tok"); err != nil {
			t.Fatal(err)
		}
	}
	if f.issued.Load() != 1 {
		t.Fatalf("issued %d", f.issued.Load())
	}
	// 2 minutes before expiry it is renewed.
	v.now = func() time.Time { return base.Add(8*time.Minute + 30*time.Second) }
	if _, err := v.Validate(context.Background(), "tok"); err != nil {
		t.Fatal(err)
	}
	if f.issued.Load() != 2 || f.svcTokens[len(f.svcTokens)-1] != "svc-2" {
		t.Fatalf("issued %d, used %v", f.issued.Load(), f.svcTokens)
	}
}

func TestFakeScopes(t *testing.T) {
	f := newFake(t)
	f.set(reply(200, tokenJSON(time.Now().Add(time.Hour), `, "domain": {"id": "d1", "name": "Dom"}, "is_admin_project": false`)))
	v := mustNew(t, fakeConfig(f.URL))
	rec := &recorder{}
	if w := serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Auth-Token": "tok"}); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	if rec.ctx.DomainID != "d1" || rec.ctx.ProjectID != "" || rec.ctx.UserDomainID != "default" {
		t.Fatalf("%+v", rec.ctx)
	}
	h := rec.header
	if h.Get("X-Domain-Id") != "d1" || h.Get("X-Domain-Name") != "Dom" || h.Get("X-Is-Admin-Project") != "False" ||
		h.Get("X-Roles") != "member,reader" || h.Get("X-Project-Id") != "" {
		t.Fatalf("%v", h)
	}
}

func TestFakeDownstream401GetsWWWAuthenticate(t *testing.T) {
	f := newFake(t)
	f.set(reply(200, tokenJSON(time.Now().Add(time.Hour), projectJSON)))
	c := fakeConfig(f.URL)
	c.WWWAuthenticateURI = "https://keystone.example/"
	v := mustNew(t, c)
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	w := serve(h, http.MethodGet, map[string]string{"X-Auth-Token": "tok"})
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Keystone uri="https://keystone.example/"` {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}

func TestFakeBadTokenCharacters(t *testing.T) {
	f := newFake(t)
	v := mustNew(t, fakeConfig(f.URL))
	for _, tok := range []string{"", "  ", "a\nb", "a\x00b", "a\x7fb"} {
		if _, err := v.Validate(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("%q: %v", tok, err)
		}
	}
	if f.validated.Load() != 0 {
		t.Fatal("Keystone asked")
	}
}

func TestFakeCacheKeyIsHash(t *testing.T) {
	f := newFake(t)
	f.set(reply(200, tokenJSON(time.Now().Add(time.Hour), projectJSON)))
	v := mustNew(t, fakeConfig(f.URL))
	const tok = "secret-token-value"
	if _, err := v.Validate(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	for _, k := range v.cache.Keys() {
		if strings.Contains(string(k[:]), tok) {
			t.Fatal("raw token in cache key")
		}
	}
	if v.cache.Len() != 1 {
		t.Fatalf("cache len %d", v.cache.Len())
	}
}

func TestFakeCacheBounded(t *testing.T) {
	f := newFake(t)
	f.set(reply(200, tokenJSON(time.Now().Add(time.Hour), projectJSON)))
	c := fakeConfig(f.URL)
	c.CacheSize = 3
	v := mustNew(t, c)
	for i := 0; i < 10; i++ {
		if _, err := v.Validate(context.Background(), fmt.Sprint("tok", i)); err != nil {
			t.Fatal(err)
		}
	}
	if v.cache.Len() != 3 {
		t.Fatalf("cache len %d", v.cache.Len())
	}
}

func TestFakeFlightSurvivesLeaderCancel(t *testing.T) {
	f := newFake(t)
	release := make(chan struct{})
	f.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		reply(200, tokenJSON(time.Now().Add(time.Hour), projectJSON))(w, r)
	})
	v := mustNew(t, fakeConfig(f.URL))
	ctx, cancel := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() { _, err := v.Validate(ctx, "tok"); leader <- err }()
	for f.validated.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	follower := make(chan error, 1)
	go func() { _, err := v.Validate(context.Background(), "tok"); follower <- err }()
	cancel()
	if err := <-leader; !errors.Is(err, ErrUnavailable) {
		t.Fatalf("cancelled leader: %v", err)
	}
	close(release)
	if err := <-follower; err != nil {
		t.Fatalf("follower: %v", err)
	}
	if f.validated.Load() != 1 {
		t.Fatalf("%d calls", f.validated.Load())
	}
}

func TestFakeDecorateAndRequestID(t *testing.T) {
	f := newFake(t)
	f.set(reply(200, tokenJSON(time.Now().Add(time.Hour), projectJSON)))
	var seen *reqctx.Context
	v := mustNew(t, fakeConfig(f.URL), WithDecorate(func(c *reqctx.Context) { c.IsAdvsvc = true; seen = c }))
	rec := &recorder{}
	serve(v.Middleware(rec), http.MethodGet, map[string]string{"X-Auth-Token": "tok"})
	if seen == nil || rec.ctx != seen || !rec.ctx.IsAdvsvc || rec.ctx.ProjectName != "proj" {
		t.Fatalf("%+v", rec.ctx)
	}
}

// TestWireHEAD checks what a real Go server puts on the wire for HEAD.
func TestWireHEAD(t *testing.T) {
	v := mustNew(t, fakeConfig(closedPort(t)))
	srv := httptest.NewServer(v.Middleware(&recorder{}))
	defer srv.Close()
	for hdr, want := range map[string]struct {
		code int
		cl   int64
		ct   string
	}{
		"":         {401, 114, "application/json"},
		"some-tok": {503, 0, "text/html; charset=UTF-8"},
	} {
		req, _ := http.NewRequest(http.MethodHead, srv.URL+"/v2.0/networks", nil)
		if hdr != "" {
			req.Header.Set("X-Auth-Token", hdr)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want.code || resp.ContentLength != want.cl || resp.Header.Get("Content-Type") != want.ct {
			t.Errorf("HEAD token %q: %d len=%d %q", hdr, resp.StatusCode, resp.ContentLength, resp.Header.Get("Content-Type"))
		}
	}
}
