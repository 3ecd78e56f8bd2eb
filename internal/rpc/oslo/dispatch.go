package oslo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Args are the keyword arguments of a request, undecoded.
type Args map[string]json.RawMessage

// Get decodes argument name into v; a missing or null argument leaves v
// unchanged and returns false.
func (a Args) Get(name string, v any) (bool, error) {
	raw, ok := a[name]
	if !ok || isNull(raw) {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("argument %s: %w", name, err)
	}
	return true, nil
}

// Into decodes all arguments into a struct (by its json tags).
func (a Args) Into(v any) error {
	b, err := json.Marshal(map[string]json.RawMessage(a))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Request is what an endpoint method gets.
type Request struct {
	Method    string
	Namespace string
	Version   string
	Context   Context
	Args      Args
	IsCall    bool
}

// Handler serves one method. Its result is JSON-encoded into the reply of a
// call (a json.RawMessage is sent as is); an error becomes the reply's
// failure (return a *RemoteError to choose the Python exception).
type Handler func(ctx context.Context, req *Request) (any, error)

// Endpoint is a set of methods with the target oslo's dispatcher matches:
// namespace ("" = the default namespace, what every Neutron endpoint uses)
// and version "X.Y" (requests for X.Z with Z <= Y are served).
type Endpoint struct {
	Namespace string
	Version   string
	Methods   map[string]Handler
}

// Dispatcher picks the endpoint method for a request with oslo's rules:
// endpoints in order, the first whose namespace matches, whose version is
// compatible and which has the method; NoSuchMethod when a compatible
// endpoint lacks it, UnsupportedVersion when none is compatible.
type Dispatcher struct {
	mu        sync.RWMutex
	endpoints []Endpoint
	// Fallback, when set, serves every request no endpoint serves (tests
	// use it to record what an agent would receive).
	Fallback Handler
}

// Add appends endpoints.
func (d *Dispatcher) Add(eps ...Endpoint) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.endpoints = append(d.endpoints, eps...)
}

// Dispatch runs the request's method.
func (d *Dispatcher) Dispatch(ctx context.Context, req *Request) (any, error) {
	h, err := d.lookup(req)
	if err != nil {
		if d.Fallback != nil {
			return d.Fallback(ctx, req)
		}
		return nil, err
	}
	return h(ctx, req)
}

func (d *Dispatcher) lookup(req *Request) (Handler, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	version := req.Version
	if version == "" {
		version = "1.0"
	}
	compatible := false
	for _, ep := range d.endpoints {
		epVersion := ep.Version
		if epVersion == "" {
			epVersion = "1.0"
		}
		if ep.Namespace != req.Namespace || !VersionCompatible(epVersion, version) {
			continue
		}
		// oslo's default access policy: no private (underscore) methods.
		if h, ok := ep.Methods[req.Method]; ok && !strings.HasPrefix(req.Method, "_") {
			return h, nil
		}
		compatible = true
	}
	if compatible {
		return nil, noSuchMethod(req.Method)
	}
	return nil, unsupportedVersion(version, req.Method)
}
