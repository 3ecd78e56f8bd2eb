// Package conformance runs API scenarios — ordered HTTP requests written in
// YAML — against a Neutron-compatible server, normalises the answers so
// they compare across servers (UUIDs, timestamps, request ids, base URLs,
// MAC addresses, random values) and compares them with golden answers
// recorded from the real Neutron. The scenario format is documented in
// conformance/README.md.
package conformance

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scenario is one scenario file.
type Scenario struct {
	// Name is the file name without ".yaml".
	Name string `yaml:"-"`
	// Path is the file the scenario was loaded from.
	Path string `yaml:"-"`

	Description string `yaml:"description"`
	// Auth is "noauth" (the default: neutrino's noauth, the reference on
	// -target) or "keystone": every step carries a persona's Keystone
	// token (X-Auth-Token), the reference is -ks-target and neutrino runs
	// with auth_strategy = keystone.
	Auth string `yaml:"auth"`
	// As is the default persona of the steps of a keystone scenario
	// (default admin; cleanup steps default to admin whatever this says).
	As string `yaml:"as"`
	// Config are option overrides ("group.name" → value) for the
	// in-process neutrino the scenario replays against.
	Config map[string]string `yaml:"config"`
	// Requires lists extension aliases the scenario needs: replay skips
	// it when the server does not list one of them on /v2.0/extensions.
	Requires []string `yaml:"requires"`
	// Hints apply to every step (and are merged with each step's own).
	Hints `yaml:",inline"`

	Steps   []*Step `yaml:"steps"`
	Cleanup []*Step `yaml:"cleanup"`
}

// Hints are the normalisation and comparison hints of a scenario or step.
type Hints struct {
	// Any maps a path pattern to a type: the value there is replaced by
	// <type> when it has that type (int, number, string, bool, uuid,
	// timestamp, list, object, null, any).
	Any map[string]string `yaml:"any"`
	// Unordered lists path patterns of lists compared as multisets.
	Unordered []string `yaml:"unordered"`
	// Ordered lists path patterns of lists compared in order (it overrides
	// the defaults and Unordered).
	Ordered []string `yaml:"ordered"`
	// Ignore lists path patterns whose value is replaced by <ignored>
	// (the key must still be present on both sides).
	Ignore []string `yaml:"ignore"`
	// Own lists path patterns of lists that keep only the elements that
	// mention this run ({run} after normalisation): global collections
	// that cannot be filtered (/v2.0/floatingip_pools) hold other runs'
	// elements on a shared server.
	Own []string `yaml:"own"`
	// KeepMAC keeps MAC addresses instead of normalising them to <mac>.
	KeepMAC bool `yaml:"keep_mac"`
	// Replace maps a regular expression to its replacement, applied to
	// every string after the other normalisations (for text that differs
	// from run to run, e.g. a message listing a Python set).
	Replace map[string]string `yaml:"replace"`
}

// Step is one request.
type Step struct {
	// Name describes the step in reports (default: the request line).
	Name string `yaml:"name"`
	// Request is "METHOD /path?query", with {var} substitution.
	Request string `yaml:"request"`
	// Body is sent as JSON (strings get {var} substitution; a string that
	// is exactly "{var}" becomes the variable's value with its JSON type).
	Body any `yaml:"body"`
	// RawBody is sent as is (after {var} substitution), for malformed bodies.
	RawBody *string `yaml:"raw_body"`
	// Headers are extra request headers (values get {var} substitution).
	Headers map[string]string `yaml:"headers"`
	// Save captures response values into variables: name → dotted path
	// ("network.id", "networks.0.id").
	Save map[string]string `yaml:"save"`
	// Require is a partial expected answer checked when recording: the
	// recording fails when the reference does not answer like this (a
	// guard against recording an accident, e.g. foreign data in the
	// reference's database).
	Require *Require `yaml:"require"`
	// KnownDifference skips comparing this step on replay; the reason must
	// be listed in docs/compat.md.
	KnownDifference string `yaml:"known_difference"`
	// As is the persona the step acts as (keystone scenarios only):
	// owner, other, reader or admin (see Personas). A list makes one step
	// per persona, in order, named "<name> as <persona>".
	As Names `yaml:"as"`

	Hints `yaml:",inline"`

	method, path string
	persona      string // effective persona ("" in noauth scenarios)
}

// Require is checked against the normalised answer when recording.
type Require struct {
	Status int `yaml:"status"`
	// Body is a subset of the normalised body: every key given must be
	// there with this value.
	Body any `yaml:"body"`
}

// Names is a name or a list of names.
type Names []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (n *Names) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		*n = Names{node.Value}
		return nil
	}
	var list []string
	if err := node.Decode(&list); err != nil {
		return err
	}
	*n = list
	return nil
}

// UnmarshalYAML accepts "METHOD /path" as a short form of {request: ...}.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.Request = n.Value
		return nil
	}
	type plain Step
	var p plain
	if err := decodeStrict(n, &p); err != nil {
		return err
	}
	*s = Step(p)
	return nil
}

// decodeStrict decodes n rejecting unknown keys.
func decodeStrict(n *yaml.Node, v any) error {
	out, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// Keystone reports whether the scenario runs with Keystone tokens.
func (sc *Scenario) Keystone() bool { return sc.Auth == "keystone" }

// Persona is the persona the step acts as ("" in noauth scenarios).
func (s *Step) Persona() string { return s.persona }

// Method is the step's HTTP method.
func (s *Step) Method() string { return s.method }

// PathTemplate is the step's path before substitution.
func (s *Step) PathTemplate() string { return s.path }

// Line is "METHOD path-template".
func (s *Step) Line() string { return s.method + " " + s.path }

// Title is the step's name for reports.
func (s *Step) Title() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Line()
}

var anyTypes = map[string]bool{
	"int": true, "number": true, "string": true, "bool": true, "uuid": true,
	"timestamp": true, "list": true, "object": true, "null": true, "any": true,
}

func (s *Step) prepare(where string) error {
	m, p, ok := strings.Cut(strings.TrimSpace(s.Request), " ")
	p = strings.TrimSpace(p)
	if !ok || p == "" || !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%s: request %q must be \"METHOD /path\"", where, s.Request)
	}
	m = strings.ToUpper(m)
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions:
	default:
		return fmt.Errorf("%s: unknown method %q", where, m)
	}
	s.method, s.path = m, p
	if s.Body != nil && s.RawBody != nil {
		return fmt.Errorf("%s: body and raw_body are exclusive", where)
	}
	return s.Hints.check(where)
}

func (h *Hints) check(where string) error {
	for p, typ := range h.Any {
		if !anyTypes[typ] {
			return fmt.Errorf("%s: any %q: unknown type %q", where, p, typ)
		}
	}
	for re := range h.Replace {
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("%s: replace %q: %v", where, re, err)
		}
	}
	return nil
}

var scenarioName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Load reads a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc := &Scenario{Path: path, Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))}
	if !scenarioName.MatchString(sc.Name) {
		return nil, fmt.Errorf("%s: scenario file names are lower-case [a-z0-9._-]", path)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(sc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(sc.Steps) == 0 {
		return nil, fmt.Errorf("%s: no steps", path)
	}
	if err := sc.Hints.check(path); err != nil {
		return nil, err
	}
	switch sc.Auth {
	case "", "noauth":
		if sc.As != "" {
			return nil, fmt.Errorf("%s: as: needs auth: keystone", path)
		}
	case "keystone":
		if sc.As == "" {
			sc.As = "admin"
		}
		if _, ok := personaByName(sc.As); !ok {
			return nil, fmt.Errorf("%s: as: unknown persona %q (one of %s)", path, sc.As, strings.Join(PersonaNames(), ", "))
		}
	default:
		return nil, fmt.Errorf("%s: auth: %q is neither noauth nor keystone", path, sc.Auth)
	}
	// expand gives every step its persona, one step per persona of a
	// list.
	expand := func(steps []*Step, what, def string) ([]*Step, error) {
		var out []*Step
		for i, s := range steps {
			where := fmt.Sprintf("%s: %s %d", path, what, i+1)
			if s == nil {
				return nil, fmt.Errorf("%s is empty", where)
			}
			if len(s.As) == 0 {
				if sc.Keystone() {
					s.persona = def
				}
				out = append(out, s)
				continue
			}
			if !sc.Keystone() {
				return nil, fmt.Errorf("%s: as: needs auth: keystone", where)
			}
			for _, p := range s.As {
				if _, ok := personaByName(p); !ok {
					return nil, fmt.Errorf("%s: as: unknown persona %q (one of %s)", where, p, strings.Join(PersonaNames(), ", "))
				}
			}
			if len(s.As) == 1 {
				s.persona = s.As[0]
				out = append(out, s)
				continue
			}
			if len(s.Save) > 0 {
				return nil, fmt.Errorf("%s: save: needs a single persona", where)
			}
			for _, p := range s.As {
				c := *s
				c.As, c.persona = Names{p}, p
				title := s.Name
				if title == "" {
					title = s.Request
				}
				c.Name = title + " as " + p
				out = append(out, &c)
			}
		}
		return out, nil
	}
	if sc.Steps, err = expand(sc.Steps, "step", sc.As); err != nil {
		return nil, err
	}
	if sc.Cleanup, err = expand(sc.Cleanup, "cleanup", "admin"); err != nil {
		return nil, err
	}
	names := map[string]int{}
	for i, s := range sc.Steps {
		if err := s.prepare(fmt.Sprintf("%s: step %d", path, i+1)); err != nil {
			return nil, err
		}
		if s.Name != "" {
			if j, dup := names[s.Name]; dup {
				return nil, fmt.Errorf("%s: steps %d and %d are both named %q", path, j, i+1, s.Name)
			}
			names[s.Name] = i + 1
		}
	}
	for i, s := range sc.Cleanup {
		if err := s.prepare(fmt.Sprintf("%s: cleanup %d", path, i+1)); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

// LoadDir reads every *.yaml scenario of dir, sorted by name.
func LoadDir(dir string) ([]*Scenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Scenario
	for _, f := range files {
		sc, err := Load(f)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}
