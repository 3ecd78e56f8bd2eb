package oslo

import (
	"context"
	"errors"
	"testing"
)

func TestDispatcherRules(t *testing.T) {
	h := func(name string) Handler {
		return func(context.Context, *Request) (any, error) { return name, nil }
	}
	var d Dispatcher
	d.Add(Endpoint{Version: "1.9", Methods: map[string]Handler{"a": h("ml2"), "_private": h("private")}},
		Endpoint{Namespace: "dhcp", Version: "1.10", Methods: map[string]Handler{"a": h("dhcp")}},
		Endpoint{Version: "1.12", Methods: map[string]Handler{"a": h("later"), "b": h("b")}})
	cases := []struct {
		ns, version, method, want, errClass string
	}{
		{"", "1.9", "a", "ml2", ""},
		{"", "", "a", "ml2", ""},          // no version: 1.0
		{"", "1.10", "a", "later", ""},    // first endpoint too old, next compatible one
		{"dhcp", "1.10", "a", "dhcp", ""}, // namespace
		{"", "1.1", "b", "b", ""},
		{"", "1.9", "c", "", "NoSuchMethod"},
		{"", "1.9", "_private", "", "NoSuchMethod"},
		{"", "2.0", "a", "", "UnsupportedVersion"},
		{"other", "1.0", "a", "", "UnsupportedVersion"},
	}
	for _, c := range cases {
		got, err := d.Dispatch(context.Background(), &Request{Namespace: c.ns, Version: c.version, Method: c.method})
		var re *RemoteError
		switch {
		case c.errClass != "":
			if !errors.As(err, &re) || re.Class != c.errClass || re.Module != "oslo_messaging.rpc.dispatcher" {
				t.Errorf("%+v: error %v, want %s", c, err, c.errClass)
			}
		case err != nil || got != c.want:
			t.Errorf("%+v: got %v, %v", c, got, err)
		}
	}
}

func TestArgs(t *testing.T) {
	a := Args{"host": []byte(`"vm"`), "ids": []byte(`["x","y"]`), "none": []byte(`null`)}
	var host string
	if ok, err := a.Get("host", &host); !ok || err != nil || host != "vm" {
		t.Errorf("Get host: %v %v %q", ok, err, host)
	}
	if ok, _ := a.Get("none", &host); ok || host != "vm" {
		t.Error("null argument should leave the value alone")
	}
	if ok, _ := a.Get("missing", &host); ok {
		t.Error("missing argument reported present")
	}
	var n int
	if _, err := a.Get("host", &n); err == nil {
		t.Error("type mismatch not reported")
	}
	var s struct {
		Host string   `json:"host"`
		IDs  []string `json:"ids"`
	}
	if err := a.Into(&s); err != nil || s.Host != "vm" || len(s.IDs) != 2 {
		t.Errorf("Into: %+v %v", s, err)
	}
}
