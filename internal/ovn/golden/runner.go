package golden

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
)

// API is a Networking API endpoint.
type API struct {
	Base  string // http://127.0.0.1:9696
	Token string // X-Auth-Token, empty for noauth
	HTTP  *http.Client
}

// Do sends a request with a JSON body (nil for none) and returns the status and the body.
func (a *API) Do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.Base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.Token != "" {
		req.Header.Set("X-Auth-Token", a.Token)
	}
	hc := a.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 120 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// GetJSON decodes a GET answer that must be 200.
func (a *API) GetJSON(path string, out any) error {
	st, b, err := a.Do(http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, st, b)
	}
	return json.Unmarshal(b, out)
}

// Env is what a run talks to.
type Env struct {
	API  *API
	NB   *ovn.Client // the Northbound database the server writes
	Lab  *ovnlab.Lab // the lab the NB belongs to (for the lab actions)
	Logf func(string, ...any)
	// Settle is how long the NB must stay unchanged after a step before it is dumped (1.5 s when 0).
	Settle time.Duration
}

// Call is a request and its answer, normalised.
type Call struct {
	Method   string `json:"method"`
	Path     string `json:"path"`
	Body     any    `json:"body,omitempty"`
	Status   int    `json:"status"`
	Response any    `json:"response,omitempty"`
}

// Result is what one step did and left behind.
type Result struct {
	Step   string   `json:"step"`
	Calls  []Call   `json:"calls,omitempty"`
	Checks []string `json:"checks,omitempty"`
	Dump   Dump     `json:"-"`
}

// Run replays the scenario; each receives every step's result as soon as it is complete.
func Run(ctx context.Context, sc *Scenario, env Env, each func(Result) error) error {
	syms := NewSymbols()
	if env.Logf == nil {
		env.Logf = func(string, ...any) {}
	}
	syms.Keep(sc.Literals)
	ls := &labState{env: env, syms: syms}
	defer ls.close()
	// Lists are only read after a step that called the API: listing security groups makes the
	// server create the project's default group, which must not happen before the first step.
	for _, st := range sc.Steps {
		res := Result{Step: st.Name}
		raw, err := doRequests(env.API, st, syms)
		if err != nil {
			return fmt.Errorf("step %s: %w", st.Name, err)
		}
		for _, c := range raw {
			res.Calls = append(res.Calls, normalizeCall(c, syms))
		}
		for _, a := range st.Lab {
			check, err := ls.do(ctx, a)
			if err != nil {
				return fmt.Errorf("step %s: %w", st.Name, err)
			}
			if check != "" {
				res.Checks = append(res.Checks, check)
				env.Logf("  %s", check)
			}
		}
		if !st.NoDump {
			if res.Dump, err = settle(ctx, env, syms); err != nil {
				return fmt.Errorf("step %s: %w", st.Name, err)
			}
		}
		if err := each(res); err != nil {
			return err
		}
	}
	return nil
}

// doRequests sends a step's requests (templates expanded) and checks their statuses.
func doRequests(api *API, st Step, syms *Symbols) ([]Call, error) {
	var calls []Call
	for _, r := range st.API {
		path, err := Expand(r.Path, syms)
		if err != nil {
			return nil, err
		}
		body, err := expandAny(r.Body, syms)
		if err != nil {
			return nil, err
		}
		code, b, err := api.Do(r.Method, path, body)
		if err != nil {
			return nil, err
		}
		if (r.Status == 0 && (code < 200 || code > 299)) || (r.Status != 0 && code != r.Status) {
			return nil, fmt.Errorf("%s %s: status %d: %s", r.Method, path, code, b)
		}
		var resp any
		if len(bytes.TrimSpace(b)) > 0 {
			if err := json.Unmarshal(b, &resp); err != nil {
				return nil, fmt.Errorf("%s %s: %w", r.Method, path, err)
			}
		}
		calls = append(calls, Call{Method: r.Method, Path: path, Body: body, Status: code, Response: resp})
		// a resource created by this request must be named before the next request refers to it
		if err := syms.Refresh(api); err != nil {
			return nil, err
		}
	}
	return calls, nil
}

// volatile are response attributes that change with time.
var volatile = map[string]bool{"created_at": true, "updated_at": true}

// allocated are the network types whose segmentation id the server picks at random from a range.
var allocated = map[string]bool{"geneve": true, "vxlan": true, "gre": true}

func normalizeCall(c Call, syms *Symbols) Call {
	c.Path = syms.Normalize(c.Path)
	c.Body = normalizeAny(c.Body, syms, false)
	c.Response = normalizeAny(c.Response, syms, true)
	return c
}

// normalizeAny normalises the strings of a decoded JSON value; sortLists sorts its lists (Neutron's
// lists, such as the subnets of a network or the rules of a group, come in no fixed order).
func normalizeAny(v any, syms *Symbols, sortLists bool) any {
	switch t := v.(type) {
	case string:
		return syms.Normalize(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalizeAny(e, syms, sortLists)
		}
		if sortLists {
			sort.Slice(out, func(i, j int) bool { return jsonString(out[i]) < jsonString(out[j]) })
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if !volatile[k] {
				out[syms.Normalize(k)] = normalizeAny(e, syms, sortLists)
			}
		}
		for _, k := range []string{"provider:segmentation_id", "segmentation_id"} {
			nt, _ := t[strings.Replace(k, "segmentation_id", "network_type", 1)].(string)
			if _, ok := t[k]; ok && allocated[nt] {
				out[k] = "<allocated>"
			}
		}
		return out
	}
	return v
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// settle dumps the NB until it has not changed for env.Settle (at most 60 s).
func settle(ctx context.Context, env Env, syms *Symbols) (Dump, error) {
	quiet := env.Settle
	if quiet == 0 {
		quiet = 1500 * time.Millisecond
	}
	deadline := time.Now().Add(60 * time.Second)
	last, err := DumpNB(ctx, env.NB, syms)
	if err != nil {
		return nil, err
	}
	since := time.Now()
	for time.Since(since) < quiet {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the NB database did not settle")
		}
		time.Sleep(250 * time.Millisecond)
		d, err := DumpNB(ctx, env.NB, syms)
		if err != nil {
			return nil, err
		}
		if !d.Equal(last) {
			last, since = d, time.Now()
		}
	}
	return last, nil
}
