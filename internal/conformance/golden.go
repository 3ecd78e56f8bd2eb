package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// ReadGolden reads a golden transcript.
func ReadGolden(path string) (*Transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tr Transcript
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&tr); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &tr, nil
}

// EncodeGolden renders a transcript as a golden file.
func EncodeGolden(tr *Transcript) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tr); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteGolden writes a golden transcript.
func WriteGolden(path string, tr *Transcript) error {
	data, err := EncodeGolden(tr)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// CheckRequire verifies the steps' require clauses against a transcript
// (used when recording, so an accident is not recorded as the truth).
func CheckRequire(sc *Scenario, tr *Transcript) error {
	var problems []string
	for i, s := range sc.Steps {
		if i >= len(tr.Steps) {
			break
		}
		a := tr.Steps[i]
		if a.Error != "" {
			problems = append(problems, fmt.Sprintf("step %d %q: %s", i+1, s.Title(), a.Error))
			continue
		}
		if s.Require == nil {
			continue
		}
		if s.Require.Status != 0 && s.Require.Status != a.Status {
			problems = append(problems, fmt.Sprintf("step %d %q: status %d, required %d: %s", i+1, s.Title(), a.Status, s.Require.Status, render(a.Body)))
			continue
		}
		if s.Require.Body != nil {
			want, err := jsonValue(s.Require.Body)
			if err != nil {
				return err
			}
			if msg := subset(want, a.Body, nil); msg != "" {
				problems = append(problems, fmt.Sprintf("step %d %q: %s (answer: %s)", i+1, s.Title(), msg, render(a.Body)))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: the target did not answer as the scenario requires:\n  %s", sc.Name, strings.Join(problems, "\n  "))
	}
	return nil
}

// jsonValue converts a YAML value to the decoded-JSON types.
func jsonValue(v any) (any, error) {
	b, err := marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	err = dec.Decode(&out)
	return out, err
}

func subset(want, got any, path []string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: expected an object, got %s", pathString(path), render(got))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s: missing", pathString(append(path, k)))
			}
			if msg := subset(wv, gv, append(path[:len(path):len(path)], k)); msg != "" {
				return msg
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: expected %s, got %s", pathString(path), render(want), render(got))
		}
		for i := range w {
			if msg := subset(w[i], g[i], append(path[:len(path):len(path)], fmt.Sprint(i))); msg != "" {
				return msg
			}
		}
		return ""
	}
	if scalarKey(want) != scalarKey(got) {
		return fmt.Sprintf("%s: expected %s, got %s", pathString(path), render(want), render(got))
	}
	return ""
}
