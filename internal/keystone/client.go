package keystone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// errNotFound: Keystone answered 404 for the subject token.
var errNotFound = errors.New("keystone: token not found")

const (
	userAgent       = "neutrino keystone-authtoken"
	maxBody         = 4 << 20
	minServiceLife  = 120 * time.Second // keystoneauth's MIN_TOKEN_LIFE_SECONDS
	firstRetryDelay = 500 * time.Millisecond
	maxRetryDelay   = 60 * time.Second
)

// counters are for tests and metrics.
type counters struct {
	validations   atomic.Int64 // GET /v3/auth/tokens sent
	serviceTokens atomic.Int64 // POST /v3/auth/tokens sent
	cacheHits     atomic.Int64
}

// Stats is a snapshot of a Validator's counters.
type Stats struct {
	Validations   int64 // validation calls sent to Keystone
	ServiceTokens int64 // service-token requests sent to Keystone
	CacheHits     int64 // validations answered from the positive cache
}

// Stats returns the Validator's counters.
func (v *Validator) Stats() Stats {
	return Stats{v.calls.validations.Load(), v.calls.serviceTokens.Load(), v.calls.cacheHits.Load()}
}

// fetch asks Keystone about token with the service token, renewing the
// service token once if Keystone refuses it (as keystonemiddleware retries
// once on 401).
func (v *Validator) fetch(ctx context.Context, token string, allowExpired bool) (*Identity, error) {
	rejected := ""
	for attempt := 0; ; attempt++ {
		svc, err := v.serviceToken(ctx, rejected)
		if err != nil {
			return nil, err
		}
		u := v.v3 + "/auth/tokens?nocatalog"
		if allowExpired {
			u += "&allow_expired=1"
		}
		v.calls.validations.Add(1)
		status, body, err := v.do(ctx, http.MethodGet, u, map[string]string{
			"X-Auth-Token":    svc,
			"X-Subject-Token": token,
		}, nil)
		if err != nil {
			return nil, err
		}
		switch {
		case status == http.StatusOK:
			id, err := parseToken(body)
			if err != nil {
				v.log.Warn("keystone: invalid token contents", "err", err)
				return nil, ErrInvalidToken
			}
			return id, nil
		case status == http.StatusNotFound:
			return nil, errNotFound
		case status == http.StatusUnauthorized && attempt == 0:
			v.log.Info("keystone: identity server rejected the service token; renewing it")
			rejected = svc
			continue
		case status == http.StatusUnauthorized:
			return nil, fmt.Errorf("%w: identity server rejected authorization necessary to fetch token data", ErrUnavailable)
		default:
			v.log.Error("keystone: bad response code while validating token", "status", status, "body", snippet(body))
			return nil, fmt.Errorf("%w: failed to fetch token data from identity server (HTTP %d)", ErrUnavailable, status)
		}
	}
}

// serviceToken returns a service token valid for a while, fetching a new one
// when there is none, it is about to expire, or it is the one Keystone just
// rejected. One fetch runs at a time.
func (v *Validator) serviceToken(ctx context.Context, rejected string) (string, error) {
	fresh := func() (string, bool) {
		v.svcStateMu.RLock()
		defer v.svcStateMu.RUnlock()
		t := v.svcToken
		return t, t != "" && t != rejected && v.now().Before(v.svcRenewAt)
	}
	if t, ok := fresh(); ok {
		return t, nil
	}
	v.svcMu.Lock()
	defer v.svcMu.Unlock()
	if t, ok := fresh(); ok {
		return t, nil
	}
	tok, exp, issued, err := v.fetchServiceToken(ctx)
	if err != nil {
		v.svcStateMu.Lock()
		v.svcToken = ""
		v.svcStateMu.Unlock()
		return "", err
	}
	margin := minServiceLife
	if life := exp.Sub(issued); life > 0 && life/2 < margin {
		margin = life / 2
	}
	v.svcStateMu.Lock()
	v.svcToken, v.svcRenewAt = tok, exp.Add(-margin)
	v.svcStateMu.Unlock()
	return tok, nil
}

func (v *Validator) fetchServiceToken(ctx context.Context) (tok string, exp, issued time.Time, err error) {
	body, err := json.Marshal(v.passwordAuthBody())
	if err != nil {
		return "", exp, issued, err
	}
	v.calls.serviceTokens.Add(1)
	req := func() (*http.Response, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, v.v3+"/auth/tokens?nocatalog", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json")
		r.Header.Set("User-Agent", userAgent)
		return v.hc.Do(r)
	}
	resp, err := v.withRetries(ctx, req)
	if err != nil {
		return "", exp, issued, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		v.log.Error("keystone: service user cannot authenticate", "status", resp.StatusCode, "body", snippet(data))
		return "", exp, issued, fmt.Errorf("%w: service user authentication failed (HTTP %d)", ErrUnavailable, resp.StatusCode)
	}
	tok = resp.Header.Get("X-Subject-Token")
	id, perr := parseToken(data)
	if tok == "" || perr != nil {
		return "", exp, issued, fmt.Errorf("%w: malformed service token response: %v", ErrUnavailable, perr)
	}
	return tok, id.ExpiresAt, id.IssuedAt, nil
}

// passwordAuthBody is keystoneauth's v3 Password plugin request.
func (v *Validator) passwordAuthBody() map[string]any {
	c := v.cfg
	domain := func(id, name string) map[string]any {
		switch {
		case id != "":
			return map[string]any{"id": id}
		case name != "":
			return map[string]any{"name": name}
		case c.DefaultDomainID != "":
			return map[string]any{"id": c.DefaultDomainID}
		case c.DefaultDomainName != "":
			return map[string]any{"name": c.DefaultDomainName}
		}
		return nil
	}
	user := map[string]any{"password": c.Password}
	if c.UserID != "" {
		user["id"] = c.UserID
	} else {
		user["name"] = c.Username
		user["domain"] = domain(c.UserDomainID, c.UserDomainName)
	}
	auth := map[string]any{
		"identity": map[string]any{
			"methods":  []string{"password"},
			"password": map[string]any{"user": user},
		},
	}
	switch {
	case c.ProjectID != "":
		auth["scope"] = map[string]any{"project": map[string]any{"id": c.ProjectID}}
	case c.ProjectName != "":
		auth["scope"] = map[string]any{"project": map[string]any{
			"name": c.ProjectName, "domain": domain(c.ProjectDomainID, c.ProjectDomainName)}}
	case c.DomainID != "":
		auth["scope"] = map[string]any{"domain": map[string]any{"id": c.DomainID}}
	case c.DomainName != "":
		auth["scope"] = map[string]any{"domain": map[string]any{"name": c.DomainName}}
	case c.SystemScope != "":
		auth["scope"] = map[string]any{"system": map[string]any{"all": true}}
	}
	return map[string]any{"auth": auth}
}

// do sends one request (with connection retries) and reads the answer.
func (v *Validator) do(ctx context.Context, method, u string, hdr map[string]string, body []byte) (int, []byte, error) {
	resp, err := v.withRetries(ctx, func() (*http.Response, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		r, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Accept", "application/json")
		r.Header.Set("User-Agent", userAgent)
		for k, val := range hdr {
			r.Header.Set(k, val)
		}
		return v.hc.Do(r)
	})
	if err != nil {
		v.log.Error("keystone: unable to validate token", "err", err)
		return 0, nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: reading response: %v", ErrUnavailable, err)
	}
	return resp.StatusCode, data, nil
}

// withRetries retries connection failures like keystoneauth's
// connect_retries: 0.5s, 1s, 2s, ... between attempts.
func (v *Validator) withRetries(ctx context.Context, send func() (*http.Response, error)) (*http.Response, error) {
	delay := firstRetryDelay
	for attempt := 0; ; attempt++ {
		resp, err := send()
		if err == nil || attempt >= v.cfg.HTTPRequestMaxRetries || !isConnectFailure(err) {
			return resp, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		delay = min(delay*2, maxRetryDelay)
	}
}

// isConnectFailure: the connection could not be made (nothing was sent).
func isConnectFailure(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func snippet(b []byte) string {
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// tokenResponse is the part of Keystone's token body we read.
type tokenResponse struct {
	Token *struct {
		ExpiresAt string `json:"expires_at"`
		IssuedAt  string `json:"issued_at"`
		User      *struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Domain idName `json:"domain"`
		} `json:"user"`
		Project *struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Domain idName `json:"domain"`
		} `json:"project"`
		Domain *idName        `json:"domain"`
		System map[string]any `json:"system"`
		Roles  []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"roles"`
		IsAdminProject *bool `json:"is_admin_project"`
		AppCred        *struct {
			ID string `json:"id"`
		} `json:"application_credential"`
	} `json:"token"`
}

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// parseToken reads a v3 token body ({"token": {...}}).
func parseToken(body []byte) (*Identity, error) {
	var r tokenResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	t := r.Token
	if t == nil {
		return nil, errors.New("no token in response")
	}
	if t.User == nil || t.User.ID == "" {
		return nil, errors.New("token has no user id")
	}
	exp, err := parseTime(t.ExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("expires_at: %w", err)
	}
	id := &Identity{
		UserID: t.User.ID, UserName: t.User.Name,
		UserDomainID: t.User.Domain.ID, UserDomainName: t.User.Domain.Name,
		ExpiresAt: exp, IsAdminProject: true,
		Roles: make([]string, 0, len(t.Roles)),
	}
	if t.IssuedAt != "" {
		id.IssuedAt, _ = parseTime(t.IssuedAt)
	}
	if t.Project != nil {
		id.ProjectID, id.ProjectName = t.Project.ID, t.Project.Name
		id.ProjectDomainID, id.ProjectDomainName = t.Project.Domain.ID, t.Project.Domain.Name
	}
	if t.Domain != nil {
		id.DomainID, id.DomainName = t.Domain.ID, t.Domain.Name
	}
	if all, _ := t.System["all"].(bool); all {
		id.SystemScope = "all"
	}
	for _, r := range t.Roles {
		if r.Name != "" {
			id.Roles = append(id.Roles, r.Name)
		}
	}
	if t.IsAdminProject != nil {
		id.IsAdminProject = *t.IsAdminProject
	}
	if t.AppCred != nil {
		id.ApplicationCredentialID = t.AppCred.ID
	}
	return id, nil
}

// parseTime reads Keystone's ISO 8601 times ("2026-11-25T01:37:50.000000Z";
// no zone means UTC).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unparseable time %q", s)
}
