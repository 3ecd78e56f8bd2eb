package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Persona is a Keystone user scoped to a project that keystone-mode
// scenarios act as (step key `as:`).
type Persona struct {
	Name     string // as written in scenarios
	User     string // Keystone user name (password = user name, except admin)
	Password string
	Project  string // Keystone project name
	Role     string // role granted on Project ("" = provisioned elsewhere)
}

// Personas are the personas of the isolation matrix. The order matters for
// normalisation: a project shared by two personas is named after the first
// (reader's project is owner's).
var Personas = []Persona{
	{Name: "owner", User: "iso-owner", Password: "iso-owner", Project: "iso-a", Role: "member"},
	{Name: "other", User: "iso-other", Password: "iso-other", Project: "iso-b", Role: "member"},
	{Name: "admin", User: "admin", Password: "admin", Project: "admin"},
	{Name: "reader", User: "iso-reader", Password: "iso-reader", Project: "iso-a", Role: "reader"},
}

// PersonaNames returns the names scenarios may use in `as:`.
func PersonaNames() []string {
	out := make([]string, len(Personas))
	for i, p := range Personas {
		out[i] = p.Name
	}
	return out
}

func personaByName(name string) (Persona, bool) {
	for _, p := range Personas {
		if p.Name == name {
			return p, true
		}
	}
	return Persona{}, false
}

// KeystoneURL is the Keystone keystone-mode scenarios use: $KEYSTONE_URL or
// http://127.0.0.1:5000.
func KeystoneURL() string {
	if u := os.Getenv("KEYSTONE_URL"); u != "" {
		return strings.TrimRight(u, "/")
	}
	return "http://127.0.0.1:5000"
}

// Keystone provisions the personas (idempotently, as admin, through the
// Keystone v3 API) and issues their tokens, cached per persona: Keystone
// takes most of a second per token, so every scenario of a test process
// shares them.
type Keystone struct {
	URL    string
	Client *http.Client

	setupOnce sync.Once
	setupErr  error

	mu     sync.Mutex
	tokens map[string]*personaToken
	ids    map[string]string // "project.owner", "user.owner" → Keystone id
}

type personaToken struct {
	mu      sync.Mutex
	token   string
	expires time.Time
	roles   []string
}

// NewKeystone returns a token source for the Keystone at url.
func NewKeystone(url string) *Keystone {
	return &Keystone{URL: strings.TrimRight(url, "/"), Client: &http.Client{Timeout: 30 * time.Second},
		tokens: map[string]*personaToken{}, ids: map[string]string{}}
}

// Reachable reports whether Keystone answers GET /v3.
func (k *Keystone) Reachable() error {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(k.URL + "/v3")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/v3: %s", k.URL, resp.Status)
	}
	return nil
}

// Setup creates the personas' projects, users and role assignments when
// missing (once per process), then issues every persona's token in
// parallel.
func (k *Keystone) Setup(ctx context.Context) error {
	k.setupOnce.Do(func() { k.setupErr = k.setup(ctx) })
	return k.setupErr
}

func (k *Keystone) setup(ctx context.Context) error {
	if k.tokensAll(ctx) == nil {
		return nil // provisioned before
	}
	if err := k.provision(ctx); err != nil {
		return err
	}
	k.mu.Lock()
	k.tokens = map[string]*personaToken{}
	k.mu.Unlock()
	return k.tokensAll(ctx)
}

// tokensAll issues every persona's token in parallel and checks each has
// its role (the reader must not be a member).
func (k *Keystone) tokensAll(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(Personas))
	for i, p := range Personas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, errs[i] = k.Token(ctx, p.Name); errs[i] != nil || p.Role == "" {
				return
			}
			k.mu.Lock()
			roles := k.tokens[p.Name].roles
			k.mu.Unlock()
			has := func(r string) bool {
				for _, x := range roles {
					if x == r {
						return true
					}
				}
				return false
			}
			if !has(p.Role) || p.Role == "reader" && (has("member") || has("admin")) {
				errs[i] = fmt.Errorf("keystone: %s has roles %v, wants %s only", p.Name, roles, p.Role)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// provision creates the personas' projects, users and role assignments.
func (k *Keystone) provision(ctx context.Context) error {
	admin, err := k.Token(ctx, "admin")
	if err != nil {
		return err
	}
	roles := map[string]string{}
	for _, p := range Personas {
		if p.Role == "" {
			continue
		}
		if _, ok := roles[p.Role]; !ok {
			id, err := k.find(ctx, admin, "roles", p.Role, nil)
			if err != nil {
				return err
			}
			if id == "" {
				return fmt.Errorf("keystone: no role %q (run keystone-up.sh)", p.Role)
			}
			roles[p.Role] = id
		}
	}
	projects := map[string]string{}
	for _, p := range Personas {
		if p.Role == "" {
			continue
		}
		pid, ok := projects[p.Project]
		if !ok {
			pid, err = k.ensure(ctx, admin, "projects", "project", p.Project, map[string]any{
				"name": p.Project, "domain_id": "default", "description": "neutrino isolation matrix"})
			if err != nil {
				return err
			}
			projects[p.Project] = pid
		}
		uid, err := k.ensure(ctx, admin, "users", "user", p.User, map[string]any{
			"name": p.User, "domain_id": "default", "password": p.Password, "default_project_id": pid})
		if err != nil {
			return err
		}
		// idempotent (PUT)
		st, body, _, err := k.call(ctx, http.MethodPut, "/v3/projects/"+pid+"/users/"+uid+"/roles/"+roles[p.Role], admin, nil)
		if err != nil {
			return err
		}
		if st != http.StatusNoContent {
			return fmt.Errorf("keystone: granting %s to %s on %s: %d %s", p.Role, p.User, p.Project, st, body)
		}
	}
	return nil
}

// Token returns the persona's project-scoped token (cached until ten
// minutes before it expires; one request per persona at a time).
func (k *Keystone) Token(ctx context.Context, persona string) (string, error) {
	p, ok := personaByName(persona)
	if !ok {
		return "", fmt.Errorf("unknown persona %q", persona)
	}
	k.mu.Lock()
	t := k.tokens[persona]
	if t == nil {
		t = &personaToken{}
		k.tokens[persona] = t
	}
	k.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && time.Until(t.expires) > 10*time.Minute {
		return t.token, nil
	}
	tok, project, user, roles, exp, err := k.issue(ctx, p)
	if err != nil {
		return "", err
	}
	t.token, t.expires, t.roles = tok, exp, roles
	k.mu.Lock()
	k.ids["project."+persona] = project
	k.ids["user."+persona] = user
	k.mu.Unlock()
	return tok, nil
}

// IDs returns the Keystone ids of the personas' projects and users as
// variables ("project.owner" → id, "user.owner" → id), in Personas order
// (projects first).
func (k *Keystone) IDs() []NamedValue {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []NamedValue
	for _, kind := range []string{"project", "user"} {
		for _, p := range Personas {
			if id, ok := k.ids[kind+"."+p.Name]; ok {
				out = append(out, NamedValue{kind + "." + p.Name, id})
			}
		}
	}
	return out
}

// NamedValue is a variable made available to every step.
type NamedValue struct{ Name, Value string }

func (k *Keystone) issue(ctx context.Context, p Persona) (token, project, user string, roles []string, expires time.Time, err error) {
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []any{"password"}, "password": map[string]any{"user": map[string]any{
			"name": p.User, "domain": map[string]any{"id": "default"}, "password": p.Password}}},
		"scope": map[string]any{"project": map[string]any{"name": p.Project, "domain": map[string]any{"id": "default"}}},
	}}
	st, raw, tok, err := k.call(ctx, http.MethodPost, "/v3/auth/tokens?nocatalog", "", body)
	if err != nil {
		return "", "", "", nil, time.Time{}, err
	}
	if st != http.StatusCreated {
		return "", "", "", nil, time.Time{}, fmt.Errorf("keystone: token for %s (%s in %s): %d %s", p.Name, p.User, p.Project, st, raw)
	}
	var out struct {
		Token struct {
			ExpiresAt string `json:"expires_at"`
			Project   struct{ ID string }
			User      struct{ ID string }
			Roles     []struct{ Name string }
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", "", "", nil, time.Time{}, err
	}
	exp, _ := time.Parse(time.RFC3339Nano, out.Token.ExpiresAt)
	if exp.IsZero() {
		exp = time.Now().Add(time.Hour)
	}
	for _, r := range out.Token.Roles {
		roles = append(roles, r.Name)
	}
	return tok, out.Token.Project.ID, out.Token.User.ID, roles, exp, nil
}

// ensure returns the id of the named entity, creating it when missing.
func (k *Keystone) ensure(ctx context.Context, admin, coll, member, name string, create map[string]any) (string, error) {
	id, err := k.find(ctx, admin, coll, name, map[string]string{"domain_id": "default"})
	if err != nil || id != "" {
		return id, err
	}
	st, raw, _, err := k.call(ctx, http.MethodPost, "/v3/"+coll, admin, map[string]any{member: create})
	if err != nil {
		return "", err
	}
	if st == http.StatusConflict { // created concurrently
		return k.find(ctx, admin, coll, name, map[string]string{"domain_id": "default"})
	}
	if st != http.StatusCreated {
		return "", fmt.Errorf("keystone: creating %s %s: %d %s", member, name, st, raw)
	}
	var out map[string]map[string]any
	json.Unmarshal(raw, &out)
	id, _ = out[member]["id"].(string)
	return id, nil
}

func (k *Keystone) find(ctx context.Context, admin, coll, name string, extra map[string]string) (string, error) {
	q := url.Values{"name": {name}}
	for k, v := range extra {
		q.Set(k, v)
	}
	st, raw, _, err := k.call(ctx, http.MethodGet, "/v3/"+coll+"?"+q.Encode(), admin, nil)
	if err != nil {
		return "", err
	}
	if st != http.StatusOK {
		return "", fmt.Errorf("keystone: listing %s: %d %s", coll, st, raw)
	}
	var out map[string]any
	json.Unmarshal(raw, &out)
	list, _ := out[coll].([]any)
	if len(list) == 0 {
		return "", nil
	}
	id, _ := list[0].(map[string]any)["id"].(string)
	return id, nil
}

func (k *Keystone) call(ctx context.Context, method, path, token string, body any) (int, []byte, string, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, "", err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.URL+path, rd)
	if err != nil {
		return 0, nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := k.Client.Do(req)
	if err != nil {
		return 0, nil, "", fmt.Errorf("keystone %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header.Get("X-Subject-Token"), err
}

// TokenCache is a caching proxy in front of Keystone for in-process
// servers: it answers a repeated token request (POST /v3/auth/tokens with
// the same body: a service token) or validation (GET /v3/auth/tokens of the
// same X-Subject-Token) from memory, as a memcached token cache shared by
// several neutron-servers would, and passes everything else through.
// Keystone takes about a second per token request, so the scenarios, each
// with a neutrino of its own, pay once per persona instead of once per
// persona and scenario.
type TokenCache struct {
	target string
	client *http.Client
	ttl    time.Duration

	mu      sync.Mutex
	entries map[string]*cachedAnswer
}

type cachedAnswer struct {
	mu      sync.Mutex // one request in flight per key
	ok      bool
	expires time.Time
	status  int
	header  http.Header
	body    []byte
}

// NewTokenCache proxies to the Keystone at target.
func NewTokenCache(target string) *TokenCache {
	return &TokenCache{target: strings.TrimRight(target, "/"), client: &http.Client{Timeout: 60 * time.Second},
		ttl: 30 * time.Minute, entries: map[string]*cachedAnswer{}}
}

var hopHeaders = map[string]bool{"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Content-Length": true}

// ServeHTTP implements http.Handler.
func (c *TokenCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := ""
	if strings.TrimSuffix(r.URL.Path, "/") == "/v3/auth/tokens" {
		switch r.Method {
		case http.MethodPost:
			key = "POST " + r.URL.RawQuery + " " + string(body)
		case http.MethodGet:
			if s := r.Header.Get("X-Subject-Token"); s != "" {
				key = "GET " + r.URL.RawQuery + " " + s
			}
		}
	}
	if key == "" {
		a, err := c.forward(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		a.write(w)
		return
	}
	c.mu.Lock()
	e := c.entries[key]
	if e == nil {
		e = &cachedAnswer{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ok && time.Now().Before(e.expires) {
		e.write(w)
		return
	}
	a, err := c.forward(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if a.status == http.StatusOK || a.status == http.StatusCreated {
		e.ok, e.expires, e.status, e.header, e.body = true, time.Now().Add(c.ttl), a.status, a.header, a.body
	}
	a.write(w)
}

func (c *TokenCache) forward(r *http.Request, body []byte) (*cachedAnswer, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, c.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		if !hopHeaders[k] {
			req.Header[k] = vs
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for k, vs := range resp.Header {
		if !hopHeaders[k] {
			h[k] = vs
		}
	}
	return &cachedAnswer{status: resp.StatusCode, header: h, body: raw}, nil
}

func (a *cachedAnswer) write(w http.ResponseWriter) {
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}
