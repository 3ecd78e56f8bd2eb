package qos

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// RuleType is the rule type resource (qos-rule-type-details,
// qos-rule-type-filter).
func RuleType() *api.Resource {
	boolFilter := func(v any) (any, error) {
		if v == nil {
			return nil, nil
		}
		return api.ToBool(v)
	}
	return &api.Resource{ExtensionController: true, Extension: "qos", Name: "rule_type", Collection: "rule_types",
		Path: "qos/rule-types", NoUpdate: true, NoDelete: true,
		Attrs: []*api.Attribute{
			// Neutron declares no primary key: a list with a limit
			// builds its links from "id", which rule types lack (a 500
			// there); neutrino pages by type
			{Name: "type", Visible: true, PrimaryKey: true},
			{Name: "drivers", Visible: true},
			// the filters are declared postable and updatable, as
			// Neutron's; a body never reaches them (unrecognized
			// project_id on create, no update)
			{Name: "all_rules", AllowPost: true, AllowPut: true, Default: api.NotSpecified, IsFilter: true, Convert: boolFilter},
			{Name: "all_supported", AllowPost: true, AllowPut: true, Default: api.NotSpecified, IsFilter: true, Convert: boolFilter},
		}}
}

// ruleTypeBackend serves the rule types the loaded drivers support.
type ruleTypeBackend struct{ p *Plugin }

func (p *Plugin) setupRuleTypes(env *plugin.Env) {
	res := RuleType()
	res.NotFound = func(string) error { return nerr.HTTPNotFound() }
	res.Backend = ruleTypeBackend{p}
	env.AddResource(res, nil)
}

func (b ruleTypeBackend) List(_ context.Context, q *api.Query) ([]api.Object, error) {
	var allRules, allSupported bool
	for _, f := range q.Filters {
		if len(f.Values) == 0 {
			continue
		}
		v, _ := f.Values[0].(bool)
		switch f.Attr {
		case "all_rules":
			allRules = v
		case "all_supported":
			allSupported = v
		}
	}
	out := []api.Object{}
	for _, t := range b.p.supportedTypes(allSupported, allRules) {
		out = append(out, api.Object{"type": t})
	}
	return out, nil
}

// Get is get_rule_type: admin only (checked by the plugin, whatever the
// policy says), with each driver's supported parameters.
func (b ruleTypeBackend) Get(ctx context.Context, id string, _ []string) (api.Object, error) {
	if rc := reqctx.From(ctx); rc != nil && !rc.IsAdmin {
		return nil, nerr.Forbidden("NotAuthorized", "Not authorized.")
	}
	if kindOf(id) == nil {
		return nil, nerr.HTTPNotFound()
	}
	drivers := []any{}
	for _, d := range b.p.drivers {
		params, ok := d.rules[id]
		if !ok {
			continue
		}
		sp := make([]any, 0, len(params))
		for _, pa := range params {
			sp = append(sp, pa.details())
		}
		drivers = append(drivers, map[string]any{"name": d.name, "supported_parameters": sp})
	}
	return api.Object{"type": id, "drivers": drivers}, nil
}

func (b ruleTypeBackend) Create(context.Context, []api.Object) ([]api.Object, error) {
	return nil, nerr.HTTPNotFound()
}

func (b ruleTypeBackend) Update(context.Context, string, api.Object, *int64) (api.Object, error) {
	return nil, nerr.HTTPNotFound()
}

func (b ruleTypeBackend) Delete(context.Context, string, *int64) error { return nerr.HTTPNotFound() }
