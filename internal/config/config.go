// Package config reads neutron.conf the way oslo.config does for the
// Neutron server: INI files given with --config-file (later files override
// earlier ones) and --config-dir, typed and validated options registered by
// the packages that use them, $option interpolation, and command-line
// overrides. Unknown options are reported once each and ignored.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/ini.v1"
)

// Type is an option's value type.
type Type int

// Option types.
const (
	String Type = iota
	Int
	Bool
	Float
	List     // comma-separated
	MultiStr // repeated key lines
	Port
)

func (t Type) String() string {
	return [...]string{"string", "integer", "boolean", "float", "list", "multi-valued", "port"}[t]
}

// Option describes one configuration option.
type Option struct {
	Group   string // "DEFAULT", "database", "ml2", ...
	Name    string
	Type    Type
	Default string // as it would be written in the file
	Help    string
	Choices []string
	Min     *int
	Max     *int
	Secret  bool
	// Deprecated names in the same group.
	Aliases []string
	// Ignored marks options neutrino accepts for compatibility but does
	// not act on (documented as such; no unknown-option warning).
	Ignored bool
}

var (
	regMu    sync.Mutex
	registry = map[string]*Option{} // "group.name"
	// rawGroups are groups whose keys are read as raw strings by their
	// owner (e.g. [keystone_authtoken], interpreted by the keystone package).
	rawGroups = map[string]string{}
)

// RegisterRawGroup declares a group whose every key is accepted and read
// with Config.Raw by the package that owns it; help describes it in the
// configuration reference.
func RegisterRawGroup(group, help string) {
	regMu.Lock()
	defer regMu.Unlock()
	rawGroups[strings.ToLower(group)] = help
}

// ignoredGroups are groups neutrino accepts whole without acting on them
// (such as [nova]); every key given is named in the ignored-options warning.
var ignoredGroups = map[string]string{}

// RegisterIgnoredGroup declares a group whose keys are accepted and not
// acted on; help says why, in the configuration reference.
func RegisterIgnoredGroup(group, help string) {
	regMu.Lock()
	defer regMu.Unlock()
	ignoredGroups[strings.ToLower(group)] = help
}

func isIgnoredGroup(group string) bool {
	regMu.Lock()
	defer regMu.Unlock()
	_, ok := ignoredGroups[strings.ToLower(group)]
	return ok
}

// IgnoredGroups returns the ignored groups and their help, for the reference.
func IgnoredGroups() map[string]string {
	regMu.Lock()
	defer regMu.Unlock()
	out := map[string]string{}
	for k, v := range ignoredGroups {
		out[k] = v
	}
	return out
}

// RawGroups returns the raw groups and their help, for the reference.
func RawGroups() map[string]string {
	regMu.Lock()
	defer regMu.Unlock()
	out := map[string]string{}
	for k, v := range rawGroups {
		out[k] = v
	}
	return out
}

func key(group, name string) string {
	return strings.ToLower(group) + "." + strings.ReplaceAll(strings.ToLower(name), "-", "_")
}

// Register declares options; packages call it from init.
func Register(opts ...*Option) {
	regMu.Lock()
	defer regMu.Unlock()
	for _, o := range opts {
		if o.Group == "" {
			o.Group = "DEFAULT"
		}
		k := key(o.Group, o.Name)
		if _, dup := registry[k]; dup {
			panic("config: option registered twice: " + k)
		}
		registry[k] = o
		for _, a := range o.Aliases {
			registry[key(o.Group, a)] = o
		}
	}
}

// IntPtr is a helper for Option.Min/Max.
func IntPtr(n int) *int { return &n }

// Options returns every registered option, sorted by group then name.
func Options() []*Option {
	regMu.Lock()
	defer regMu.Unlock()
	seen := map[*Option]bool{}
	var out []*Option
	for _, o := range registry {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		gi, gj := groupOrder(out[i].Group), groupOrder(out[j].Group)
		if gi != gj {
			return gi < gj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func groupOrder(g string) string {
	if g == "DEFAULT" {
		return ""
	}
	return g
}

// Config is the effective configuration.
type Config struct {
	values  map[*Option]any
	sources map[*Option]string
	// Files are the config files read, in order.
	Files []string
	// Warnings are the unknown options met (one line each).
	Warnings []string
	// IgnoredSet are the options given (in a file or on the command line)
	// that neutrino accepts but does not act on, as "[group] name".
	IgnoredSet []string
	// FromFiles is true when at least one config file was read.
	FromFiles bool
	// raw holds the values of raw groups: "group.key" → value (last wins).
	raw map[string]string
	// ignored is the set behind IgnoredSet.
	ignored map[string]bool
}

// Raw returns a key of a raw group as written in the files.
func (c *Config) Raw(group, key string) (string, bool) {
	v, ok := c.raw[strings.ToLower(group)+"."+strings.ToLower(key)]
	return v, ok
}

// Load reads files (in order; later override earlier), then dirs (every
// *.conf, sorted), then applies overrides ("group.name" → value, as given on
// the command line). Bad values are errors naming the option.
func Load(files, dirs []string, overrides map[string]string) (*Config, error) {
	c := &Config{values: map[*Option]any{}, sources: map[*Option]string{}, raw: map[string]string{}}
	raw := map[*Option]rawValue{}
	unknown := map[string]bool{}
	c.ignored = map[string]bool{}

	all := append([]string{}, files...)
	for _, d := range dirs {
		matches, err := filepath.Glob(filepath.Join(d, "*.conf"))
		if err != nil {
			return nil, err
		}
		sort.Strings(matches)
		all = append(all, matches...)
	}
	for _, f := range all {
		if err := c.readFile(f, raw, unknown); err != nil {
			return nil, err
		}
	}
	c.FromFiles = len(all) > 0
	for k, v := range overrides {
		group, name, ok := strings.Cut(k, ".")
		if !ok {
			group, name = "DEFAULT", k
		}
		o := lookup(group, name)
		if o == nil && isRawGroup(group) {
			c.raw[strings.ToLower(group)+"."+strings.ToLower(name)] = v
			continue
		}
		if o == nil && isIgnoredGroup(group) {
			c.ignored[fmt.Sprintf("[%s] %s", group, name)] = true
			continue
		}
		if o == nil {
			return nil, fmt.Errorf("unknown option %s.%s (no such option in neutrino's reference, docs/config.md)", group, name)
		}
		raw[o] = rawValue{vals: []string{v}, src: "command line"}
	}
	// parse, with $interpolation
	for _, o := range Options() {
		rv, ok := raw[o]
		if !ok {
			v, err := parse(o, []string{o.Default}, raw, 0)
			if err != nil {
				return nil, fmt.Errorf("default of option [%s] %s: %v", o.Group, o.Name, err)
			}
			c.values[o] = v
			c.sources[o] = "default"
			continue
		}
		v, err := parse(o, rv.vals, raw, 0)
		if err != nil {
			return nil, fmt.Errorf("invalid value for option [%s] %s (from %s): %v", o.Group, o.Name, rv.src, err)
		}
		c.values[o] = v
		c.sources[o] = rv.src
	}
	var ws []string
	for u := range unknown {
		ws = append(ws, u)
	}
	sort.Strings(ws)
	c.Warnings = ws
	for _, o := range Options() {
		if _, given := raw[o]; given && o.Ignored {
			c.ignored[fmt.Sprintf("[%s] %s", o.Group, o.Name)] = true
		}
	}
	for k := range c.ignored {
		c.IgnoredSet = append(c.IgnoredSet, k)
	}
	sort.Strings(c.IgnoredSet)
	return c, nil
}

type rawValue struct {
	vals []string
	src  string
}

func isRawGroup(group string) bool {
	regMu.Lock()
	defer regMu.Unlock()
	_, ok := rawGroups[strings.ToLower(group)]
	return ok
}

func lookup(group, name string) *Option {
	regMu.Lock()
	defer regMu.Unlock()
	return registry[key(group, name)]
}

func (c *Config) readFile(path string, raw map[*Option]rawValue, unknown map[string]bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file %s: %v", path, err)
	}
	f, err := ini.LoadSources(ini.LoadOptions{
		AllowShadows:               true,
		AllowPythonMultilineValues: true,
		SpaceBeforeInlineComment:   true,
		UnescapeValueDoubleQuotes:  false,
		IgnoreInlineComment:        true,
	}, data)
	if err != nil {
		return fmt.Errorf("config file %s: %v", path, err)
	}
	c.Files = append(c.Files, path)
	for _, sec := range f.Sections() {
		group := sec.Name()
		if group == ini.DefaultSection {
			group = "DEFAULT"
		}
		for _, k := range sec.Keys() {
			o := lookup(group, k.Name())
			if o == nil && isRawGroup(group) {
				c.raw[strings.ToLower(group)+"."+strings.ToLower(k.Name())] = k.Value()
				continue
			}
			if o == nil && isIgnoredGroup(group) {
				c.ignored[fmt.Sprintf("[%s] %s", group, k.Name())] = true
				continue
			}
			if o == nil {
				unknown[fmt.Sprintf("[%s] %s (in %s)", group, k.Name(), path)] = true
				continue
			}
			vals := k.ValueWithShadows()
			if o.Type != MultiStr && len(vals) > 0 {
				vals = vals[len(vals)-1:]
			}
			if o.Type == MultiStr {
				if prev, ok := raw[o]; ok && prev.src == path {
					vals = append(prev.vals, vals...)
				}
			}
			raw[o] = rawValue{vals: vals, src: path}
		}
	}
	return nil
}

var interpRE = regexp.MustCompile(`\$(\{[A-Za-z0-9_.]+\}|[A-Za-z0-9_]+)`)

func interpolate(o *Option, s string, raw map[*Option]rawValue, depth int) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	if depth > 10 {
		return "", fmt.Errorf("interpolation too deep")
	}
	var err error
	out := interpRE.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m[1:], "{}")
		group := o.Group
		if g, n, ok := strings.Cut(name, "."); ok {
			group, name = g, n
		}
		ref := lookup(group, name)
		if ref == nil {
			ref = lookup("DEFAULT", name)
		}
		if ref == nil {
			err = fmt.Errorf("%s references unknown option %s", m, name)
			return m
		}
		v := ref.Default
		if rv, ok := raw[ref]; ok && len(rv.vals) > 0 {
			v = rv.vals[len(rv.vals)-1]
		}
		r, e := interpolate(ref, v, raw, depth+1)
		if e != nil {
			err = e
		}
		return r
	})
	out = strings.ReplaceAll(out, "$$", "$")
	return out, err
}

// parse interpolates an option's raw values and converts the last one (all
// of them for a MultiStr) to the option's type.
func parse(o *Option, vals []string, raw map[*Option]rawValue, depth int) (any, error) {
	for i, v := range vals {
		s, err := interpolate(o, v, raw, depth)
		if err != nil {
			return nil, err
		}
		vals[i] = s
	}
	s := ""
	if len(vals) > 0 {
		s = strings.TrimSpace(vals[len(vals)-1])
	}
	switch o.Type {
	case String:
		if err := o.checkChoice(s); err != nil {
			return nil, err
		}
		return s, nil
	case Int, Port:
		return o.parseInt(s)
	case Float:
		if s == "" {
			return nil, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case Bool:
		return o.parseBool(s)
	case List:
		return o.parseList(s)
	case MultiStr:
		var out []string
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out, nil
	}
	return s, nil
}

// checkChoice refuses a value that is not one of the option's choices.
func (o *Option) checkChoice(v string) error {
	if len(o.Choices) == 0 || slices.Contains(o.Choices, v) {
		return nil
	}
	return fmt.Errorf("%q is not one of %s", v, strings.Join(o.Choices, ", "))
}

// parseInt converts an Int or Port value within its bounds ("" is unset).
func (o *Option) parseInt(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an integer", s)
	}
	if o.Type == Port && (n < 0 || n > 65535) {
		return nil, fmt.Errorf("port %d out of range 0-65535", n)
	}
	if o.Min != nil && n < *o.Min {
		return nil, fmt.Errorf("%d is less than the minimum %d", n, *o.Min)
	}
	if o.Max != nil && n > *o.Max {
		return nil, fmt.Errorf("%d is greater than the maximum %d", n, *o.Max)
	}
	return n, nil
}

// parseBool converts oslo.config's boolean spellings; "" without a default
// is unset (the user of the option decides).
func (o *Option) parseBool(s string) (any, error) {
	switch strings.ToLower(s) {
	case "":
		if o.Default == "" {
			return nil, nil
		}
	case "true", "1", "on", "yes":
		return true, nil
	case "false", "0", "off", "no":
		return false, nil
	}
	return nil, fmt.Errorf("%q is not a boolean", s)
}

// parseList splits a comma-separated list, each item one of the choices.
func (o *Option) parseList(s string) (any, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if err := o.checkChoice(p); err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func (c *Config) get(group, name string) (any, *Option) {
	o := lookup(group, name)
	if o == nil {
		panic("config: unregistered option " + group + "." + name)
	}
	return c.values[o], o
}

// String returns a string option.
func (c *Config) String(group, name string) string {
	v, _ := c.get(group, name)
	s, _ := v.(string)
	return s
}

// Int returns an integer option (0 when unset).
func (c *Config) Int(group, name string) int {
	v, _ := c.get(group, name)
	n, _ := v.(int)
	return n
}

// IntSet reports whether an integer option has a value.
func (c *Config) IntSet(group, name string) bool {
	v, _ := c.get(group, name)
	return v != nil
}

// Bool returns a boolean option.
func (c *Config) Bool(group, name string) bool {
	v, _ := c.get(group, name)
	b, _ := v.(bool)
	return b
}

// BoolOr returns a boolean option, or def when it has no value (an option
// whose default is unset).
func (c *Config) BoolOr(group, name string, def bool) bool {
	v, _ := c.get(group, name)
	if b, ok := v.(bool); ok {
		return b
	}
	return def
}

// Float returns a float option.
func (c *Config) Float(group, name string) float64 {
	v, _ := c.get(group, name)
	f, _ := v.(float64)
	return f
}

// List returns a list or multi-valued option.
func (c *Config) List(group, name string) []string {
	v, _ := c.get(group, name)
	l, _ := v.([]string)
	return l
}

// IsSet reports whether an option was given (file or command line).
func (c *Config) IsSet(group, name string) bool {
	_, o := c.get(group, name)
	return c.sources[o] != "default"
}

// Set changes an option's value programmatically (tests, profiles).
func (c *Config) Set(group, name string, value string) error {
	o := lookup(group, name)
	if o == nil {
		return fmt.Errorf("unknown option %s.%s", group, name)
	}
	v, err := parse(o, []string{value}, nil, 0)
	if err != nil {
		return fmt.Errorf("invalid value for option [%s] %s: %v", group, name, err)
	}
	c.values[o] = v
	c.sources[o] = "set"
	return nil
}

// Effective lists every option with its value for logging (secrets
// masked), like oslo.config's log_opt_values.
func (c *Config) Effective() []string {
	var out []string
	for _, o := range Options() {
		v := c.values[o]
		s := ""
		switch x := v.(type) {
		case nil:
			s = "None"
		case []string:
			s = "[" + strings.Join(quoteAll(x), ", ") + "]"
		default:
			s = fmt.Sprint(x)
		}
		if o.Secret && s != "" && s != "None" {
			s = "****"
		}
		name := o.Name
		if o.Group != "DEFAULT" {
			name = o.Group + "." + o.Name
		}
		out = append(out, name+" = "+s)
	}
	return out
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "'" + s + "'"
	}
	return out
}
