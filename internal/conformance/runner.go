package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Runner executes scenarios against one server.
type Runner struct {
	// BaseURL is the server, e.g. "http://127.0.0.1:19696".
	BaseURL string
	// RunID replaces {run}; NewRunID makes a unique one.
	RunID string
	// Client defaults to a client with a 60s timeout.
	Client *http.Client
	// Logf receives cleanup problems (may be nil).
	Logf func(format string, args ...any)
	// Token returns a persona's Keystone token (keystone scenarios).
	Token func(ctx context.Context, persona string) (string, error)
	// Vars are variables every step can use ({project.owner}); answers
	// show their values as <name> (Keystone ids are not reproducible).
	// The first variable with a value names it.
	Vars []NamedValue
}

// Transcript is what a server answered to a scenario, normalised.
type Transcript struct {
	Scenario string    `json:"scenario"`
	Steps    []*Answer `json:"steps"`
}

// Answer is one normalised answer.
type Answer struct {
	Name    string `json:"name,omitempty"`
	Request string `json:"request"`
	// As is the persona of a keystone scenario's step.
	As          string `json:"as,omitempty"`
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	// Body is the normalised JSON body; Text a non-JSON body.
	Body any    `json:"body,omitempty"`
	Text string `json:"text,omitempty"`
	// Error is set when the step could not be sent (unset variable,
	// connection error).
	Error string `json:"error,omitempty"`

	hasBody bool
}

// MarshalJSON keeps a JSON null body ("body": null) distinct from no body.
func (a *Answer) MarshalJSON() ([]byte, error) {
	type plain Answer
	b, err := marshal((*plain)(a))
	if err != nil || !a.hasBody || a.Body != nil {
		return b, err
	}
	// body is JSON null: add it explicitly.
	return append(b[:len(b)-1], []byte(`,"body":null}`)...), nil
}

// UnmarshalJSON records whether a body was present.
func (a *Answer) UnmarshalJSON(data []byte) error {
	type plain Answer
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode((*plain)(a)); err != nil {
		return err
	}
	_, a.hasBody = raw["body"]
	return nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// NewRunID returns a random run id: "r" and 7 letters that cannot occur in
// hexadecimal (so a run id never hides in a UUID or MAC address).
func NewRunID() string {
	const letters = "ghjkmnpqrstvwxyz"
	b := make([]byte, 7)
	rand.Read(b)
	out := []byte{'r'}
	for _, c := range b {
		out = append(out, letters[int(c)%len(letters)])
	}
	return string(out)
}

// run is the state of one scenario execution.
type run struct {
	r     *Runner
	sc    *Scenario
	vars  map[string]any
	order []string // saved variables, in first-save order
	norm  *normalizer
}

// Run executes sc's steps, then its cleanup (always), and returns the
// normalised answers. The error reports cleanup failures only.
func (r *Runner) Run(ctx context.Context, sc *Scenario) (*Transcript, error) {
	if r.Client == nil {
		r.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if r.RunID == "" {
		r.RunID = NewRunID()
	}
	if sc.Keystone() && r.Token == nil {
		return nil, fmt.Errorf("%s: a keystone scenario needs Runner.Token", sc.Name)
	}
	st := &run{r: r, sc: sc, vars: map[string]any{"run": r.RunID}}
	for _, v := range r.Vars {
		if _, ok := st.vars[v.Name]; !ok {
			st.vars[v.Name] = v.Value
		}
	}
	st.norm = newNormalizer(strings.TrimRight(r.BaseURL, "/"), r.RunID, st.varFor)
	st.norm.fixed = r.Vars
	st.norm.savedIPs = st.savedIPs
	tr := &Transcript{Scenario: sc.Name}
	done := false
	defer func() {
		if !done { // a panic: still clean up
			st.cleanup(ctx)
		}
	}()
	for _, s := range sc.Steps {
		tr.Steps = append(tr.Steps, st.step(ctx, s))
	}
	done = true
	return tr, st.cleanup(ctx)
}

// setVar saves a variable; the first variable saved with a value names it
// in normalised answers.
func (st *run) setVar(name string, v any) {
	if _, ok := st.vars[name]; !ok {
		st.order = append(st.order, name)
	}
	st.vars[name] = v
}

func (st *run) unsetVar(name string) { delete(st.vars, name) }

// savedIPs returns the saved variables whose values are IP addresses, the
// first name of each value only, longest values first (so that no address
// is replaced inside another one's placeholder).
func (st *run) savedIPs() []NamedValue {
	var out []NamedValue
	seen := map[string]bool{}
	for _, n := range st.order {
		v, ok := st.vars[n].(string)
		if !ok || seen[v] {
			continue
		}
		if _, err := netip.ParseAddr(v); err != nil {
			continue
		}
		seen[v] = true
		out = append(out, NamedValue{Name: n, Value: v})
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Value) > len(out[j].Value) })
	return out
}

// varFor returns the name of the first saved variable whose value is s.
func (st *run) varFor(s string) (string, bool) {
	for _, n := range st.order {
		if v, ok := st.vars[n].(string); ok && v == s {
			return n, true
		}
	}
	return "", false
}

func (st *run) cleanup(ctx context.Context) error {
	if st.sc == nil {
		return nil
	}
	var problems []string
	for _, s := range st.sc.Cleanup {
		req, err := st.build(ctx, s)
		if err != nil {
			continue // a variable the steps never set: nothing to clean
		}
		resp, err := st.r.Client.Do(req)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", s.Line(), err))
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotFound {
			problems = append(problems, fmt.Sprintf("%s: status %d", s.Line(), resp.StatusCode))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("cleanup: %s", strings.Join(problems, "; "))
	}
	return nil
}

// step sends one request and returns its normalised answer.
func (st *run) step(ctx context.Context, s *Step) *Answer {
	a := &Answer{Name: s.Name, Request: s.Line(), As: s.persona}
	req, err := st.build(ctx, s)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	resp, err := st.r.Client.Do(req)
	if err != nil {
		a.Error = "request failed: " + err.Error()
		return a
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		a.Error = "reading the answer: " + err.Error()
		return a
	}
	a.Status = resp.StatusCode
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			mt = ct
		}
		a.ContentType = strings.ToLower(mt)
	}
	var body any
	isJSON := false
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&body); err == nil && !dec.More() {
			isJSON = true
		}
	}
	if isJSON {
		for _, name := range sortedKeys(s.Save) {
			path := s.Save[name]
			if v, ok := Lookup(body, path); ok {
				st.setVar(name, v)
			} else {
				st.unsetVar(name)
			}
		}
		a.Body, a.hasBody = st.norm.body(body, st.hints(s)), true
	} else {
		for name := range s.Save {
			st.unsetVar(name)
		}
		a.Text = st.norm.text(string(raw), st.hints(s))
	}
	return a
}

// hints merges the scenario's and the step's hints and adds the defaults.
func (st *run) hints(s *Step) *stepHints {
	return mergeHints(st.sc, s)
}

func (st *run) build(ctx context.Context, s *Step) (*http.Request, error) {
	path, err := st.subst(s.path)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	hasBody := false
	switch {
	case s.RawBody != nil:
		b, err := st.subst(*s.RawBody)
		if err != nil {
			return nil, err
		}
		body, hasBody = strings.NewReader(b), true
	case s.Body != nil:
		v, err := st.substValue(s.Body)
		if err != nil {
			return nil, err
		}
		b, err := marshal(v)
		if err != nil {
			return nil, err
		}
		body, hasBody = bytes.NewReader(b), true
	}
	req, err := http.NewRequestWithContext(ctx, s.method, strings.TrimRight(st.r.BaseURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if s.persona != "" {
		tok, err := st.r.Token(ctx, s.persona)
		if err != nil {
			return nil, fmt.Errorf("token for %s: %v", s.persona, err)
		}
		req.Header.Set("X-Auth-Token", tok)
	}
	for k, v := range s.Headers {
		v, err := st.subst(v)
		if err != nil {
			return nil, err
		}
		if v == "" {
			req.Header.Del(k) // "Accept: ''" sends no Accept header
			continue
		}
		req.Header.Set(k, v)
	}
	return req, nil
}

// varRef matches {name}, {a.b} and the builtin {repeat:N:text}.
var varRef = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_.-]*|repeat:[0-9]+:[^{}]*)\}`)

// subst replaces {var} references in s. Braces that do not form a
// reference (JSON in raw bodies) are left alone.
func (st *run) subst(s string) (string, error) {
	var missing []string
	out := varRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[1 : len(ref)-1]
		if rest, ok := strings.CutPrefix(name, "repeat:"); ok {
			n, text, _ := strings.Cut(rest, ":")
			count, _ := strconv.Atoi(n)
			return strings.Repeat(text, count)
		}
		v, ok := st.vars[name]
		if !ok {
			missing = append(missing, name)
			return ref
		}
		return scalarString(v)
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unset variable %s", strings.Join(missing, ", "))
	}
	return out, nil
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	}
	b, _ := marshal(v)
	return string(b)
}

// substValue substitutes inside a YAML body value.
func (st *run) substValue(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if m := varRef.FindStringSubmatch(x); m != nil && m[0] == x && !strings.HasPrefix(m[1], "repeat:") {
			val, ok := st.vars[m[1]]
			if !ok {
				return nil, fmt.Errorf("unset variable %s", m[1])
			}
			return val, nil
		}
		return st.subst(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = st.substValue(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			k2, err := st.subst(k)
			if err != nil {
				return nil, err
			}
			if out[k2], err = st.substValue(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

// Lookup returns the value at a dotted path ("networks.0.id").
func Lookup(v any, path string) (any, bool) {
	if path == "" || path == "." {
		return v, true
	}
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[seg]
			if !ok {
				return nil, false
			}
			v = e
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
