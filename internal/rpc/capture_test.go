package rpc_test

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
)

// refMethod is one method of the reference capture (testdata/
// reference-methods.json: the first message of each method the real Zed
// server and agents exchanged, reduced to its shape: dict keys with the
// Python type of each value, lists by their first element).
type refMethod struct {
	To, Kind, Version, Exchange string
	RoutingKey                  string `json:"routing_key"`
	Args, Result                any
}

// shape reduces a JSON value as the reference file is reduced.
func shape(v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		if depth >= 4 {
			return "dict"
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = shape(e, depth+1)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0], depth)}
	case nil:
		return nil
	case bool:
		return "bool"
	case float64:
		if x == float64(int64(x)) {
			return "int"
		}
		return "float"
	case string:
		return "str"
	}
	return fmt.Sprintf("%T", v)
}

// diff lists where got's shape differs from want's: missing and extra
// keys, and types (a null on either side matches anything, an empty list
// matches any list).
func diff(path string, want, got any) []string {
	if want == nil || got == nil {
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: dict expected, got %v", path, got)}
		}
		var out []string
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				out = append(out, diff(path+"."+k, wv, gv)...)
			} else {
				out = append(out, path+"."+k+": missing")
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				out = append(out, path+"."+k+": extra")
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: list expected, got %v", path, got)}
		}
		if len(w) == 0 || len(g) == 0 {
			return nil
		}
		return diff(path+"[0]", w[0], g[0])
	}
	if want != got && !(want == "dict" && isMap(got)) {
		return []string{fmt.Sprintf("%s: %v expected, got %v", path, want, got)}
	}
	return nil
}

func isMap(v any) bool { _, ok := v.(map[string]any); return ok }

// recorder keeps the first message neutrino sent or answered per method.
type recorder struct {
	mu  sync.Mutex
	got map[string]map[string]any // method → {version, args, result}
}

func (r *recorder) add(method, version string, args, result any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.got[method]; !ok {
		r.got[method] = map[string]any{"version": version, "args": args, "result": result}
	}
}

func loadReference(t *testing.T) map[string]refMethod {
	b, err := os.ReadFile("testdata/reference-methods.json")
	if err != nil {
		t.Fatal(err)
	}
	ref := map[string]refMethod{}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// compareWithReference compares, method by method, what neutrino sent
// (casts and pushes to the agents) and answered (replies to the agents'
// calls) with the reference capture; it returns the differences and the
// reference methods the scenario did not exercise.
func compareWithReference(ref map[string]refMethod, rec *recorder) (diffs, missed []string) {
	for name, m := range ref {
		got, ok := rec.got[name]
		if !ok {
			missed = append(missed, name)
			continue
		}
		if m.Version != "" && got["version"] != m.Version {
			diffs = append(diffs, fmt.Sprintf("%s: version %v, reference %s", name, got["version"], m.Version))
		}
		if strings.HasPrefix(name, "push:") {
			d := dataKeys(got["args"])
			w := dataKeys(m.Args)
			for _, k := range w {
				if !contains(d, k) {
					diffs = append(diffs, name+": data."+k+": missing")
				}
			}
			continue
		}
		if m.To == "agent" {
			diffs = append(diffs, prefix(name, diff("args", m.Args, shape(got["args"], 0)))...)
		}
		if m.Result != nil && got["result"] != nil {
			diffs = append(diffs, prefix(name, diff("result", m.Result, shape(got["result"], 0)))...)
		}
	}
	sort.Strings(diffs)
	sort.Strings(missed)
	return diffs, missed
}

func dataKeys(args any) []string {
	a, _ := args.(map[string]any)
	l, _ := a["resource_list"].([]any)
	if len(l) == 0 {
		return nil
	}
	o, _ := l[0].(map[string]any)
	var out []string
	switch d := o["versioned_object.data"].(type) {
	case map[string]any:
		for k := range d {
			out = append(out, k)
		}
	case []any:
		for _, k := range d {
			out = append(out, fmt.Sprint(k))
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func prefix(p string, l []string) []string {
	for i := range l {
		l[i] = p + ": " + l[i]
	}
	return l
}

// listenAll records every cast to the agents' topics of host "vm".
func listenAll(t *testing.T, agent *rpctest.Agent, rec *recorder) {
	topics := []string{rpc.TopicResourceVersions, rpc.TopicDHCPAgent, rpc.TopicL3Agent, rpc.TopicTunnelUpdate, rpc.TopicNetworkUpdate, rpc.TopicNetworkDelete,
		rpc.TopicPortUpdate, rpc.TopicPortDelete, rpc.TopicSecurityGroup}
	for _, typ := range []string{"Port-1.7", "Network-1.1", "Subnet-1.1", "SecurityGroup-1.5", "SecurityGroupRule-1.2"} {
		topics = append(topics, "neutron-vo-"+typ)
	}
	for _, topic := range topics {
		got := agent.Listen(t, topic, "vm")
		tp := topic
		got.OnRequest(func(r *oslo.Request) {
			var args map[string]any
			b, _ := json.Marshal(r.Args)
			_ = json.Unmarshal(b, &args)
			name := r.Method
			if name == "push" {
				name = "push:" + tp + "_fanout"
			}
			rec.add(name, r.Version, args, nil)
		})
	}
}

// call is an agent's call whose reply is recorded.
func call(t *testing.T, agent *rpctest.Agent, rec *recorder, topic, version, method string, args map[string]any) []byte {
	raw := agent.Call(t, topic, version, method, args)
	var res any
	_ = json.Unmarshal(raw, &res)
	rec.add(method, version, args, res)
	return raw
}
