package keystone

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Section is the neutron.conf section keystonemiddleware reads.
const Section = "keystone_authtoken"

// Defaults, as keystonemiddleware 10.1 (Zed) has them unless noted.
const (
	DefaultTokenCacheTime        = 300   // seconds (token_cache_time)
	DefaultCacheSize             = 10000 // entries; not a keystonemiddleware option
	DefaultNegativeCacheTime     = 10    // seconds; keystonemiddleware has no negative cache
	DefaultHTTPRequestMaxRetries = 3     // http_request_max_retries
	// DefaultHTTPTimeout applies when http_connect_timeout is unset.
	// keystonemiddleware then waits forever; we do not.
	DefaultHTTPTimeout = 30 * time.Second
)

// Config holds the [keystone_authtoken] options neutrino understands.
//
// Zero values mean "default" for TokenCacheTime, NegativeCacheTime,
// CacheSize, AuthType, ServiceTokenRoles (nil) and HTTPConnectTimeout;
// DefaultConfig and ConfigFromINI fill every default explicitly.
//
// Deviations from keystonemiddleware, all deliberate:
//   - Tokens are validated against AuthURL (normalised to its /v3 root), not
//     against the identity endpoint found in the service catalog; Interface
//     and RegionName are accepted but unused.
//   - Only auth_type=password is supported.
//   - Validation asks for no catalog, so X-Service-Catalog is never set.
//   - Application-credential tokens with access rules are refused (Keystone
//     answers 404 because we do not announce access-rule support); this is
//     what keystonemiddleware does when service_type is unset, as in Neutron.
//   - Invalid tokens are remembered for NegativeCacheTime seconds.
//   - Only the in-process cache exists (memcached_servers is ignored).
//   - enforce_token_bind supports only "permissive" (default) and "disabled",
//     and token bind data is never checked (keystonemiddleware's permissive
//     mode would refuse a kerberos-bound token on a non-kerberos request;
//     Keystone binds tokens only when [token] bind is configured).
//   - token_cache_time = 0 in neutron.conf disables caching (in
//     keystonemiddleware it caches without a time limit).
type Config struct {
	// WWWAuthenticateURI is sent as WWW-Authenticate: Keystone uri="..." on
	// 401s (www_authenticate_uri, legacy auth_uri). Empty: AuthURL.
	WWWAuthenticateURI string

	AuthURL  string // auth_url: Keystone, with or without the /v3 suffix
	AuthType string // auth_type: only "password"

	UserID            string // user_id
	Username          string // username
	Password          string // password
	UserDomainID      string // user_domain_id
	UserDomainName    string // user_domain_name
	ProjectID         string // project_id
	ProjectName       string // project_name
	ProjectDomainID   string // project_domain_id
	ProjectDomainName string // project_domain_name
	DomainID          string // domain_id (domain-scoped service token)
	DomainName        string // domain_name
	SystemScope       string // system_scope ("all")
	DefaultDomainID   string // default_domain_id: fallback user/project domain
	DefaultDomainName string // default_domain_name

	RegionName string // region_name (accepted, unused)
	Interface  string // interface (accepted, unused)

	// TokenCacheTime is how long (seconds) a valid token is cached, never
	// past its expiry. -1 disables caching (positive and negative).
	TokenCacheTime int
	// NegativeCacheTime is how long (seconds) a token Keystone rejected is
	// remembered as invalid. -1 disables it.
	NegativeCacheTime int
	// CacheSize bounds the number of cached tokens (each cache).
	CacheSize int

	// HTTPConnectTimeout (seconds) bounds each request to Keystone
	// (http_connect_timeout; keystoneauth uses it as the whole-request
	// timeout). 0: DefaultHTTPTimeout.
	HTTPConnectTimeout int
	// HTTPRequestMaxRetries is how often a connection failure is retried
	// (http_request_max_retries), with 0.5s, 1s, 2s... between tries.
	HTTPRequestMaxRetries int
	Insecure              bool   // insecure: skip TLS verification
	CAFile                string // cafile
	CertFile              string // certfile (client certificate)
	KeyFile               string // keyfile

	// ServiceTokenRoles: an X-Service-Token carrying any of these roles may
	// ask for expired user tokens to be accepted (allow_expired). nil means
	// ["service"].
	ServiceTokenRoles []string
	// ServiceTokenRolesRequired: an X-Service-Token without any of
	// ServiceTokenRoles makes the request fail with 401.
	ServiceTokenRolesRequired bool
	// DelayAuthDecision: instead of answering 401 (or 503 when Keystone is
	// down), pass the request on with X-Identity-Status: Invalid and no
	// reqctx.Context; the next handler must then refuse it.
	DelayAuthDecision bool
	// EnforceTokenBind: "", "permissive" or "disabled".
	EnforceTokenBind string
}

// DefaultConfig returns a Config with keystonemiddleware's defaults and no
// credentials.
func DefaultConfig() Config {
	return Config{
		AuthType:              "password",
		TokenCacheTime:        DefaultTokenCacheTime,
		NegativeCacheTime:     DefaultNegativeCacheTime,
		CacheSize:             DefaultCacheSize,
		HTTPRequestMaxRetries: DefaultHTTPRequestMaxRetries,
		ServiceTokenRoles:     []string{"service"},
		EnforceTokenBind:      "permissive",
	}
}

// withDefaults fills zero values.
func (c Config) withDefaults() Config {
	if c.AuthType == "" {
		c.AuthType = "password"
	}
	if c.TokenCacheTime == 0 {
		c.TokenCacheTime = DefaultTokenCacheTime
	}
	if c.NegativeCacheTime == 0 {
		c.NegativeCacheTime = DefaultNegativeCacheTime
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.ServiceTokenRoles == nil {
		c.ServiceTokenRoles = []string{"service"}
	}
	if c.EnforceTokenBind == "" {
		c.EnforceTokenBind = "permissive"
	}
	if c.WWWAuthenticateURI == "" {
		c.WWWAuthenticateURI = c.AuthURL
	}
	return c
}

// validate checks a Config that has its defaults; errors name the option.
func (c Config) validate() error {
	bad := func(opt, format string, a ...any) error {
		return fmt.Errorf("keystone: [%s] %s: %s", Section, opt, fmt.Sprintf(format, a...))
	}
	if !strings.EqualFold(c.AuthType, "password") {
		return bad("auth_type", "%q is not supported (only \"password\")", c.AuthType)
	}
	if c.AuthURL == "" {
		return bad("auth_url", "must be set")
	}
	if _, err := identityV3(c.AuthURL); err != nil {
		return bad("auth_url", "%v", err)
	}
	if c.WWWAuthenticateURI != "" && strings.ContainsAny(c.WWWAuthenticateURI, "\"\r\n") {
		return bad("www_authenticate_uri", "must not contain quotes or newlines")
	}
	if c.UserID == "" && c.Username == "" {
		return bad("username", "must be set (or user_id)")
	}
	if c.UserID == "" && c.UserDomainID == "" && c.UserDomainName == "" &&
		c.DefaultDomainID == "" && c.DefaultDomainName == "" {
		return bad("user_domain_name", "must be set with username (or user_domain_id)")
	}
	if c.Password == "" {
		return bad("password", "must be set")
	}
	if c.ProjectID == "" && c.ProjectName != "" && c.ProjectDomainID == "" &&
		c.ProjectDomainName == "" && c.DefaultDomainID == "" && c.DefaultDomainName == "" {
		return bad("project_domain_name", "must be set with project_name (or project_domain_id)")
	}
	if c.SystemScope != "" && c.SystemScope != "all" {
		return bad("system_scope", "%q is not supported (only \"all\")", c.SystemScope)
	}
	if c.TokenCacheTime < -1 {
		return bad("token_cache_time", "must be -1 (disabled) or a number of seconds, not %d", c.TokenCacheTime)
	}
	if c.NegativeCacheTime < -1 {
		return fmt.Errorf("keystone: NegativeCacheTime must be -1 (disabled) or a number of seconds, not %d", c.NegativeCacheTime)
	}
	if c.CacheSize < 0 {
		return fmt.Errorf("keystone: CacheSize must not be negative, not %d", c.CacheSize)
	}
	if c.HTTPConnectTimeout < 0 {
		return bad("http_connect_timeout", "must not be negative")
	}
	if c.HTTPRequestMaxRetries < 0 {
		return bad("http_request_max_retries", "must not be negative")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return bad("certfile", "certfile and keyfile must be set together")
	}
	switch strings.ToLower(c.EnforceTokenBind) {
	case "permissive", "disabled":
	default:
		return bad("enforce_token_bind", "%q is not supported (only \"permissive\" or \"disabled\")", c.EnforceTokenBind)
	}
	return nil
}

// identityV3 turns an auth_url ("http://h:5000", "http://h:5000/v3/",
// "http://h/identity", ".../v2.0") into the Identity v3 root without a
// trailing slash.
func identityV3(authURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(authURL))
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", authURL)
	}
	u.RawQuery, u.Fragment = "", ""
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(p, "/v3"):
	case strings.HasSuffix(p, "/v2.0"):
		p = strings.TrimSuffix(p, "/v2.0") + "/v3"
	default:
		p += "/v3"
	}
	u.Path, u.RawPath = p, ""
	return u.String(), nil
}

// ConfigFromINI reads [keystone_authtoken] through get (which reports
// whether the option is set). As in keystonemiddleware, the auth plugin's
// options (auth_type, auth_url, username, ...) come from the section named
// by auth_section when that is set.
//
// It returns the options that are set but have no effect in neutrino
// ("section.option", e.g. memcached_servers), for the caller to log, and an
// error naming the option for bad values or unsupported settings.
func ConfigFromINI(get func(section, key string) (string, bool)) (Config, []string, error) {
	c := DefaultConfig()
	r := &iniReader{get: get}
	r.middleware(&c)
	if r.err != nil {
		return Config{}, nil, r.err
	}
	if err := r.authPlugin(&c); err != nil {
		return Config{}, nil, err
	}
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return Config{}, nil, err
	}
	return c, ignoredOptions(get), nil
}

// iniReader reads typed options; the first bad value is kept in err and
// stops further typed reads.
type iniReader struct {
	get func(section, key string) (string, bool)
	err error
}

func badOption(sec, opt, format string, a ...any) error {
	return fmt.Errorf("keystone: [%s] %s: %s", sec, opt, fmt.Sprintf(format, a...))
}

func (r *iniReader) str(sec, key string, dst *string) {
	if v, ok := r.get(sec, key); ok {
		*dst = strings.TrimSpace(v)
	}
}

func (r *iniReader) integer(sec, key string, dst *int) {
	if v, ok := r.get(sec, key); ok && r.err == nil && strings.TrimSpace(v) != "" {
		n, e := strconv.Atoi(strings.TrimSpace(v))
		if e != nil {
			r.err = badOption(sec, key, "invalid integer %q", v)
			return
		}
		*dst = n
	}
}

func (r *iniReader) boolean(sec, key string, dst *bool) {
	if v, ok := r.get(sec, key); ok && r.err == nil && strings.TrimSpace(v) != "" {
		b, e := parseBool(v)
		if e != nil {
			r.err = badOption(sec, key, "%v", e)
			return
		}
		*dst = b
	}
}

// middleware reads keystonemiddleware's own options.
func (r *iniReader) middleware(c *Config) {
	s := Section
	r.str(s, "auth_uri", &c.WWWAuthenticateURI)
	r.str(s, "www_authenticate_uri", &c.WWWAuthenticateURI) // wins over auth_uri
	r.str(s, "region_name", &c.RegionName)
	r.str(s, "interface", &c.Interface)
	r.str(s, "cafile", &c.CAFile)
	r.str(s, "certfile", &c.CertFile)
	r.str(s, "keyfile", &c.KeyFile)
	r.str(s, "enforce_token_bind", &c.EnforceTokenBind)
	r.integer(s, "token_cache_time", &c.TokenCacheTime)
	r.integer(s, "http_connect_timeout", &c.HTTPConnectTimeout)
	r.integer(s, "http_request_max_retries", &c.HTTPRequestMaxRetries)
	r.boolean(s, "insecure", &c.Insecure)
	r.boolean(s, "service_token_roles_required", &c.ServiceTokenRolesRequired)
	r.boolean(s, "delay_auth_decision", &c.DelayAuthDecision)
	if v, ok := r.get(s, "service_token_roles"); ok {
		c.ServiceTokenRoles = parseList(v)
	}
	if c.TokenCacheTime == 0 {
		// keystonemiddleware would cache without a time limit; we take
		// "0" as "do not cache", the least surprising reading.
		c.TokenCacheTime = -1
	}
	if c.TokenCacheTime == -1 {
		c.NegativeCacheTime = -1
	}
}

// authPlugin reads the password auth plugin's options, from auth_section
// when set.
func (r *iniReader) authPlugin(c *Config) error {
	as := Section
	if v, ok := r.get(Section, "auth_section"); ok && strings.TrimSpace(v) != "" {
		as = strings.TrimSpace(v)
	}
	c.AuthType = ""
	r.str(as, "auth_plugin", &c.AuthType) // deprecated name
	r.str(as, "auth_type", &c.AuthType)
	if c.AuthType == "" {
		return badOption(as, "auth_type", "must be set to \"password\" (legacy admin_user/identity_uri settings are not supported)")
	}
	if !strings.EqualFold(c.AuthType, "password") {
		return badOption(as, "auth_type", "%q is not supported (only \"password\")", c.AuthType)
	}
	r.str(as, "auth_url", &c.AuthURL)
	r.str(as, "user_id", &c.UserID)
	r.str(as, "username", &c.Username)
	if c.Username == "" {
		r.str(as, "user_name", &c.Username) // keystoneauth deprecated name
	}
	if v, ok := r.get(as, "password"); ok {
		c.Password = v // passwords keep their spaces
	}
	r.str(as, "user_domain_id", &c.UserDomainID)
	r.str(as, "user_domain_name", &c.UserDomainName)
	r.str(as, "project_id", &c.ProjectID)
	if c.ProjectID == "" {
		r.str(as, "tenant_id", &c.ProjectID)
	}
	r.str(as, "project_name", &c.ProjectName)
	if c.ProjectName == "" {
		r.str(as, "tenant_name", &c.ProjectName)
	}
	r.str(as, "project_domain_id", &c.ProjectDomainID)
	r.str(as, "project_domain_name", &c.ProjectDomainName)
	r.str(as, "domain_id", &c.DomainID)
	r.str(as, "domain_name", &c.DomainName)
	r.str(as, "system_scope", &c.SystemScope)
	r.str(as, "default_domain_id", &c.DefaultDomainID)
	r.str(as, "default_domain_name", &c.DefaultDomainName)
	if v, ok := r.get(as, "trust_id"); ok && strings.TrimSpace(v) != "" {
		return badOption(as, "trust_id", "trust-scoped service tokens are not supported")
	}
	return nil
}

// ignoredOptions are the options set in [keystone_authtoken] that have no
// effect in neutrino ("section.option").
func ignoredOptions(get func(section, key string) (string, bool)) []string {
	var ignored []string
	for _, k := range []string{
		"memcached_servers", "memcache_servers", "memcache_security_strategy",
		"memcache_secret_key", "memcache_pool_dead_retry", "memcache_pool_maxsize",
		"memcache_pool_socket_timeout", "memcache_pool_unused_timeout",
		"memcache_pool_conn_get_timeout", "memcache_use_advanced_pool",
		"include_service_catalog", "service_type", "auth_version", "cache",
		"identity_uri", "admin_user", "admin_password", "admin_tenant_name",
		"admin_token", "auth_host", "auth_port", "auth_protocol", "auth_admin_prefix",
	} {
		if v, ok := get(Section, k); ok && strings.TrimSpace(v) != "" {
			ignored = append(ignored, Section+"."+k)
		}
	}
	return ignored
}

// parseBool accepts oslo.config's boolean spellings.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", v)
}

// parseList splits an oslo.config ListOpt value.
func parseList(v string) []string {
	out := []string{}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
