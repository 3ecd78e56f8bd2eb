package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultPolicyFile is Neutron's default [oslo_policy] policy_file.
const DefaultPolicyFile = "policy.yaml"

// DefaultPolicyDir is oslo's default [oslo_policy] policy_dirs entry.
const DefaultPolicyDir = "policy.d"

// fileRule is one rule read from a policy file.
type fileRule struct {
	check  string
	source string // file it came from (the last one, when overridden)
}

// loadOverrides reads the policy file and then the policy directories the
// way oslo's Enforcer.load_rules does: a missing policy file or directory
// is skipped; directory files are applied in sorted order on top of the
// policy file, a later file replacing the rules it names.
func loadOverrides(o Options) (map[string]fileRule, error) {
	rules := map[string]fileRule{}

	file := o.PolicyFile
	if file == "" {
		// oslo's pick_default_policy_file: the default policy.yaml, or the
		// old default policy.json if only that one exists.
		file = DefaultPolicyFile
		if !isFile(resolvePath(o.ConfigDir, file)) && isFile(resolvePath(o.ConfigDir, "policy.json")) {
			file = "policy.json"
		}
	}
	if path := resolvePath(o.ConfigDir, file); isFile(path) {
		if err := readPolicyFile(path, rules); err != nil {
			return nil, err
		}
	}

	dirs := o.PolicyDirs
	if dirs == nil {
		dirs = []string{DefaultPolicyDir}
	}
	for _, d := range dirs {
		dir := resolvePath(o.ConfigDir, d)
		st, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("policy: %s is not a directory", dir)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		names := make([]string, 0, len(entries))
		for _, ent := range entries {
			n := ent.Name()
			if ent.IsDir() || strings.HasPrefix(n, ".") {
				continue
			}
			switch strings.ToLower(filepath.Ext(n)) {
			case ".yaml", ".yml", ".json":
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			if err := readPolicyFile(filepath.Join(dir, n), rules); err != nil {
				return nil, err
			}
		}
	}
	return rules, nil
}

// resolvePath makes a relative path relative to the configuration
// directory (oslo.config's find_file looks in the config file's directory).
func resolvePath(configDir, p string) string {
	if filepath.IsAbs(p) || configDir == "" {
		return p
	}
	return filepath.Join(configDir, p)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// readPolicyFile parses a policy file, JSON or YAML (tried in that order,
// as oslo's parse_file_contents does), into rules. Every check string is
// compiled so that a syntax error is reported with the file and rule name.
func readPolicyFile(path string, rules map[string]fileRule) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	parsed, err := parsePolicyData(data)
	if err != nil {
		return fmt.Errorf("policy: %s: %w", path, err)
	}
	for _, kv := range parsed {
		if _, err := parseRule(kv.check); err != nil {
			return fmt.Errorf("policy: %s: rule %q: %w", path, kv.name, err)
		}
		rules[kv.name] = fileRule{check: kv.check, source: path}
	}
	return nil
}

type namedCheck struct {
	name, check string
}

func parsePolicyData(data []byte) ([]namedCheck, error) {
	var out []namedCheck
	var asJSON map[string]any
	if err := json.Unmarshal(data, &asJSON); err == nil {
		for name, v := range asJSON {
			switch x := v.(type) {
			case string:
				out = append(out, namedCheck{name: name, check: x})
			case nil:
				// oslo parses a null rule like an empty list: always true.
				out = append(out, namedCheck{name: name})
			default:
				return nil, fmt.Errorf("rule %q: check must be a string, not %T", name, v)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
		return out, nil
	}

	// Walk the YAML node tree rather than decoding into a map: PyYAML lets
	// a later duplicate key win, yaml.v3's map decoding rejects it.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil // empty file
	}
	root := doc.Content[0]
	for root.Kind == yaml.AliasNode {
		root = root.Alias
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("a policy file must hold a mapping of rule names to check strings")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		for v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		name := k.Value
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
			out = append(out, namedCheck{name: name, check: v.Value})
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
			out = append(out, namedCheck{name: name})
		default:
			return nil, fmt.Errorf("rule %q (line %d): check must be a string", name, v.Line)
		}
	}
	return out, nil
}
