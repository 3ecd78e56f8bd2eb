package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/policy"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

func init() {
	config.Register(
		&config.Option{Group: "oslo_policy", Name: "policy_file", Type: config.String, Default: "policy.yaml",
			Help: "Policy overrides file (YAML or JSON), relative to the directory of the first config file unless absolute; missing file = in-code defaults."},
		&config.Option{Group: "oslo_policy", Name: "policy_dirs", Type: config.MultiStr, Default: "policy.d",
			Help: "Directories of further policy files, applied in sorted order."},
		&config.Option{Group: "oslo_policy", Name: "enforce_scope", Type: config.Bool, Default: "false",
			Help: "Reject tokens whose scope (system/project) a rule does not allow."},
		&config.Option{Group: "oslo_policy", Name: "enforce_new_defaults", Type: config.Bool, Default: "false",
			Help: "Use only the new (secure RBAC) default rules, not their deprecated alternatives."},
		&config.Option{Group: "oslo_policy", Name: "policy_default_rule", Type: config.String, Default: "default", Ignored: true,
			Help: "Accepted for compatibility."},
	)
	config.RegisterRawGroup("keystone_authtoken", "Read as keystonemiddleware's auth_token filter reads it when `auth_strategy = keystone`: "+
		"`www_authenticate_uri` (or `auth_uri`), `auth_url`, `auth_type = password`, `username`, `password`, `project_name`, "+
		"`user_domain_name`/`user_domain_id`, `project_domain_name`/`project_domain_id`, `region_name`, `token_cache_time` (default 300 s), "+
		"`http_connect_timeout`, `insecure`, `cafile`, `service_token_roles`, `service_token_roles_required`, `delay_auth_decision`. "+
		"`memcached_servers` and the other memcache options are accepted and ignored (tokens are cached in memory).")
}

// NewEnforcer builds the policy engine from [oslo_policy].
func NewEnforcer(c *config.Config) (*policy.Enforcer, error) {
	dir := ""
	if len(c.Files) > 0 {
		dir = dirOf(c.Files[0])
	}
	dirs := c.List("oslo_policy", "policy_dirs")
	if dirs == nil {
		dirs = []string{}
	}
	return policy.New(policy.Options{
		PolicyFile:         c.String("oslo_policy", "policy_file"),
		PolicyDirs:         dirs,
		ConfigDir:          dir,
		EnforceNewDefaults: c.Bool("oslo_policy", "enforce_new_defaults"),
		EnforceScope:       c.Bool("oslo_policy", "enforce_scope"),
	})
}

func dirOf(path string) string {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		return path[:i]
	}
	return "."
}

// authorizer adapts the policy engine to the API controller. The engine is
// swapped whole when the policy files are reloaded (SIGHUP).
type authorizer struct {
	cur   atomic.Pointer[policy.Enforcer]
	env   *plugin.Env
	log   *slog.Logger // neutron.policy: decisions at DEBUG
	mu    sync.Mutex
	attrs map[*api.Resource][]policy.Attr
}

func newAuthorizer(e *policy.Enforcer, env *plugin.Env, log *slog.Logger) *authorizer {
	a := &authorizer{env: env, log: log.With("logger", "neutron.policy"), attrs: map[*api.Resource][]policy.Attr{}}
	a.use(e)
	return a
}

// enforcer is the policy engine in use.
func (a *authorizer) enforcer() *policy.Enforcer { return a.cur.Load() }

// use makes e the policy engine, resolving field checks (rule
// "field:network:shared=True" and the like) against the plugins' tables.
func (a *authorizer) use(e *policy.Enforcer) {
	env := a.env
	e.SetResolver(func(ctx context.Context, resource, field string, target map[string]any) (any, error) {
		res := findResource(env, resource)
		if res == nil {
			return nil, errors.New("no resource " + resource)
		}
		id, _ := target[resource+"_id"].(string)
		if id == "" {
			id, _ = target["ext_parent_"+resource+"_id"].(string)
		}
		if id == "" {
			return nil, errors.New("target has no " + resource + "_id")
		}
		rctx := reqctx.With(ctx, &reqctx.Context{IsAdmin: true})
		if project, _ := target["project_id"].(string); resource == "network" && field == "shared" && project != "" {
			// FieldCheck reads the network as the target's project sees
			// it: shared with that project by RBAC counts
			rctx = reqctx.With(ctx, &reqctx.Context{ProjectID: project})
		}
		obj, err := res.Backend.Get(rctx, id, nil)
		if err != nil {
			return nil, err
		}
		return obj[field], nil
	})
	a.cur.Store(e)
}

func findResource(env *plugin.Env, name string) *api.Resource {
	for _, r := range env.Resources() {
		if r.Name == name && r.Backend != nil {
			return r
		}
	}
	return nil
}

func (a *authorizer) policyAttrs(res *api.Resource) []policy.Attr {
	if res == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if pa, ok := a.attrs[res]; ok {
		return pa
	}
	var pa []policy.Attr
	for _, at := range res.Attrs {
		p := policy.Attr{Name: at.Name, EnforcePolicy: at.EnforcePolicy}
		if !at.Required && at.Default != api.NotSpecified && at.AllowPost {
			p.HasDefault, p.Default = true, at.Default
		}
		p.DictKeys = at.DictKeys
		pa = append(pa, p)
	}
	a.attrs[res] = pa
	return pa
}

func (a *authorizer) Authorize(ctx context.Context, rc *reqctx.Context, res *api.Resource, action string, target, body api.Object) error {
	err := a.enforcer().AuthorizeAttrsCtx(ctx, action, target, body, a.policyAttrs(res), rc)
	if a.log.Enabled(ctx, slog.LevelDebug) {
		ctx := reqctx.With(ctx, rc)
		if err == nil {
			a.log.DebugContext(ctx, "policy check passed", "action", action, "target_id", target["id"], "roles", strings.Join(rc.Roles, ","), "is_admin", rc.IsAdmin)
		} else {
			a.log.DebugContext(ctx, "policy check failed", "action", action, "target_id", target["id"], "roles", strings.Join(rc.Roles, ","), "is_admin", rc.IsAdmin, "reason", err.Error())
		}
	}
	if err == nil {
		return nil
	}
	var na *policy.NotAuthorized
	if errors.As(err, &na) {
		return nerr.Forbidden(na.Type(), "%s", na.Error())
	}
	return err
}

func (a *authorizer) Check(ctx context.Context, rc *reqctx.Context, action string, target api.Object, mightNotExist bool) bool {
	e := a.enforcer()
	if mightNotExist && !e.HasRule(action) {
		return true
	}
	ok, _ := e.CheckCtx(ctx, action, target, rc)
	if !ok {
		if a.log.Enabled(ctx, slog.LevelDebug) {
			a.log.DebugContext(reqctx.With(ctx, rc), "policy check failed", "action", action, "target_id", target["id"])
		}
	}
	return ok
}
