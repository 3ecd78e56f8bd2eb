// Package keystone holds neutrino's auth_strategy=keystone support: the
// [keystone_authtoken] configuration, a Keystone v3 token Validator (service
// token, bounded token cache, negative cache, single flight per token) and
// the HTTP middleware that behaves like keystonemiddleware's auth_token
// filter in front of Neutron (401/503 responses, X-Identity-Status and
// friends, a reqctx.Context for the handlers).
package keystone

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

var (
	// ErrInvalidToken: the token is malformed, unknown, expired or revoked.
	ErrInvalidToken = errors.New("keystone: invalid token")
	// ErrUnavailable: Keystone could not be asked (unreachable, timeout,
	// 5xx or another unexpected status, or the service user cannot
	// authenticate). A token is never taken as valid on this error.
	ErrUnavailable = errors.New("keystone: identity service unavailable")
)

// Identity is what Keystone reports for a valid token. Validators share
// Identities between requests through their cache: treat them as read-only.
type Identity struct {
	UserID, UserName, UserDomainID, UserDomainName             string
	ProjectID, ProjectName, ProjectDomainID, ProjectDomainName string
	DomainID, DomainName                                       string // domain-scoped tokens
	SystemScope                                                string // "all" for system-scoped tokens
	Roles                                                      []string
	IsAdminProject                                             bool // Keystone's is_admin_project (true when absent)
	ExpiresAt, IssuedAt                                        time.Time
	ApplicationCredentialID                                    string
}

// Expired reports whether the token has expired at t.
func (id *Identity) Expired(t time.Time) bool { return !t.Before(id.ExpiresAt) }

// HasAnyRole reports whether id carries one of roles (exact match, as
// keystonemiddleware compares service_token_roles).
func (id *Identity) HasAnyRole(roles []string) bool {
	return slices.ContainsFunc(id.Roles, func(r string) bool { return slices.Contains(roles, r) })
}

// Option customises a Validator.
type Option func(*Validator)

// WithDecorate sets a hook the middleware calls on every reqctx.Context it
// builds, before the next handler runs (e.g. to set IsAdmin from policy).
func WithDecorate(f func(*reqctx.Context)) Option { return func(v *Validator) { v.decorate = f } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(v *Validator) { v.log = l } }

// WithHTTPClient replaces the HTTP client used to talk to Keystone (its
// Timeout is kept as given; TLS options of Config are then ignored).
func WithHTTPClient(c *http.Client) Option { return func(v *Validator) { v.hc = c } }

// tokenKey is the SHA-256 of a token: raw tokens are never cache keys.
type tokenKey [sha256.Size]byte

// negKey: a token Keystone refused, and whether allow_expired was asked.
type negKey struct {
	tok          tokenKey
	allowExpired bool
}

// Validator validates Keystone tokens. It is safe for concurrent use.
type Validator struct {
	cfg      Config
	v3       string // Identity v3 root, no trailing slash
	hc       *http.Client
	log      *slog.Logger
	decorate func(*reqctx.Context)
	timeout  time.Duration
	now      func() time.Time

	cacheTTL time.Duration // 0: no positive cache
	cache    *expirable.LRU[tokenKey, *Identity]
	negTTL   time.Duration // 0: no negative cache
	neg      *expirable.LRU[negKey, struct{}]
	flights  flightGroup

	svcMu      sync.Mutex // serialises service-token fetches
	svcStateMu sync.RWMutex
	svcToken   string
	svcRenewAt time.Time

	calls counters
}

// New checks cfg and returns a Validator. It does not contact Keystone: the
// service token is obtained with the first validation.
func New(cfg Config, opts ...Option) (*Validator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	v3, _ := identityV3(cfg.AuthURL)
	v := &Validator{cfg: cfg, v3: v3, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(v)
	}
	v.timeout = DefaultHTTPTimeout
	if cfg.HTTPConnectTimeout > 0 {
		v.timeout = time.Duration(cfg.HTTPConnectTimeout) * time.Second
	}
	if v.hc == nil {
		hc, err := newHTTPClient(cfg, v.timeout)
		if err != nil {
			return nil, err
		}
		v.hc = hc
	}
	if cfg.TokenCacheTime > 0 {
		v.cacheTTL = time.Duration(cfg.TokenCacheTime) * time.Second
		v.cache = expirable.NewLRU[tokenKey, *Identity](cfg.CacheSize, nil, v.cacheTTL)
	}
	if cfg.TokenCacheTime > 0 && cfg.NegativeCacheTime > 0 {
		v.negTTL = time.Duration(cfg.NegativeCacheTime) * time.Second
		v.neg = expirable.NewLRU[negKey, struct{}](cfg.CacheSize, nil, v.negTTL)
	}
	return v, nil
}

func newHTTPClient(cfg Config, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	tlsc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure} //nolint:gosec // operator's choice
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("keystone: [%s] cafile: %w", Section, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("keystone: [%s] cafile: no PEM certificate in %s", Section, cfg.CAFile)
		}
		tlsc.RootCAs = pool
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("keystone: [%s] certfile/keyfile: %w", Section, err)
		}
		tlsc.Certificates = []tls.Certificate{cert}
	}
	tr.TLSClientConfig = tlsc
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// Keystone never redirects token calls; do not follow with our token.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// WWWAuthenticate returns the WWW-Authenticate header value for 401s.
func (v *Validator) WWWAuthenticate() string {
	return fmt.Sprintf("Keystone uri=%q", v.cfg.WWWAuthenticateURI)
}

// Validate checks a user token, as for an X-Auth-Token without a service
// token: expired tokens are invalid. It returns ErrInvalidToken or
// ErrUnavailable (possibly wrapped) on failure.
func (v *Validator) Validate(ctx context.Context, token string) (*Identity, error) {
	return v.validate(ctx, token, false)
}

// ValidateAllowExpired is Validate for requests that carry a service token
// with one of service_token_roles: Keystone is asked with allow_expired=1
// and an expired token is accepted.
func (v *Validator) ValidateAllowExpired(ctx context.Context, token string) (*Identity, error) {
	return v.validate(ctx, token, true)
}

func (v *Validator) validate(ctx context.Context, token string, allowExpired bool) (*Identity, error) {
	token = strings.TrimSpace(token)
	if token == "" || !validHeaderValue(token) {
		return nil, ErrInvalidToken
	}
	key := tokenKey(sha256.Sum256([]byte(token)))
	if id, err, ok := v.cached(key, allowExpired); ok {
		return id, err
	}
	fk := negKey{key, allowExpired}
	return v.flights.do(ctx, fk, func(ctx context.Context) (*Identity, error) {
		// A flight that finished just before ours may have filled the cache.
		if id, err, ok := v.cached(key, allowExpired); ok {
			return id, err
		}
		id, err := v.fetch(ctx, token, allowExpired)
		switch {
		case err == nil:
			if v.cache != nil {
				v.cache.Add(key, id)
			}
			if !allowExpired && id.Expired(v.now()) {
				return nil, ErrInvalidToken
			}
			return id, nil
		case errors.Is(err, errNotFound):
			if v.neg != nil {
				v.neg.Add(fk, struct{}{})
			}
			return nil, ErrInvalidToken
		}
		return nil, err
	})
}

// cached answers from the caches: ok is false on a miss.
func (v *Validator) cached(key tokenKey, allowExpired bool) (*Identity, error, bool) {
	if v.cache != nil {
		if id, ok := v.cache.Get(key); ok {
			if !allowExpired && id.Expired(v.now()) {
				return nil, ErrInvalidToken, true
			}
			v.calls.cacheHits.Add(1)
			return id, nil, true
		}
	}
	if v.neg != nil {
		// Refused even with allow_expired: refused for everyone.
		if _, ok := v.neg.Get(negKey{key, true}); ok {
			return nil, ErrInvalidToken, true
		}
		if !allowExpired {
			if _, ok := v.neg.Get(negKey{key, false}); ok {
				return nil, ErrInvalidToken, true
			}
		}
	}
	return nil, nil, false
}

// validHeaderValue reports whether s can be sent as an HTTP header value.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}
