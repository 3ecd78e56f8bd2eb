package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestReplaceAddress(t *testing.T) {
	for _, c := range []struct{ s, addr, want string }{
		{"10.0.0.5", "10.0.0.5", "<ip>"},
		{"10.0.0.50 10.0.0.5/32 110.0.0.5 ip=10.0.0.5,x", "10.0.0.5", "10.0.0.50 <ip>/32 110.0.0.5 ip=<ip>,x"},
		{"2001:db8::a 2001:db8::ab 2001:db8::a", "2001:db8::a", "<ip> 2001:db8::ab <ip>"},
		{"nothing", "10.0.0.5", "nothing"},
	} {
		if got := replaceAddress(c.s, c.addr, "<ip>"); got != c.want {
			t.Errorf("replaceAddress(%q, %q) = %q, want %q", c.s, c.addr, got, c.want)
		}
	}
}

// TestSavedAddresses: a saved IP address (allocated at random by either
// server) reads <name> in every later answer, also inside messages, and
// never inside a longer address.
func TestSavedAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			fmt.Fprint(w, `{"floatingip": {"floating_ip_address": "172.24.4.17", "id": "5d2ab0b6-69c0-4fb6-9e4e-c9d2c8b0f001"}}`)
			return
		}
		fmt.Fprint(w, `{"NeutronError": {"message": "IP 172.24.4.17 in use, not 172.24.4.171", "other": "172.24.4.1"}}`)
	}))
	defer srv.Close()
	sc := loadString(t, `
steps:
  - request: POST /v2.0/floatingips
    save: {fip: floatingip.id, fipip: floatingip.floating_ip_address}
  - GET /v2.0/floatingips/{fip}
`)
	tr, err := (&Runner{BaseURL: srv.URL}).Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	first := compact(t, tr.Steps[0].Body)
	second := compact(t, tr.Steps[1].Body)
	if first != `{"floatingip":{"floating_ip_address":"<fipip>","id":"<fip>"}}` {
		t.Errorf("create: %s", first)
	}
	if second != `{"NeutronError":{"message":"IP <fipip> in use, not 172.24.4.171","other":"172.24.4.1"}}` {
		t.Errorf("show: %s", second)
	}
}

func TestMissingExtensions(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2.0/extensions" || r.Header.Get("X-Auth-Token") != "tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"extensions": [{"alias": "router"}, {"alias": "ext-gw-mode"}]}`)
	}))
	defer srv.Close()
	sc := loadString(t, "requires: [router, floating-ip-port-forwarding, ext-gw-mode]\nsteps: [GET /v2.0/routers]\n")
	missing, err := MissingExtensions(context.Background(), srv.URL, "tok", sc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(missing, []string{"floating-ip-port-forwarding"}) {
		t.Errorf("missing = %v", missing)
	}
	if _, err := MissingExtensions(context.Background(), srv.URL, "", sc); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without a token: %v", err)
	}
	none := loadString(t, "steps: [GET /v2.0/routers]\n")
	if m, err := MissingExtensions(context.Background(), "http://127.0.0.1:1", "", none); m != nil || err != nil {
		t.Errorf("no requires: %v, %v", m, err)
	}
}

// TestOwnElements: an own: list keeps only this run's elements, and the
// UUIDs of the dropped ones are not numbered.
func TestOwnElements(t *testing.T) {
	n := newNormalizer("", "rghjkmnp", func(string) (string, bool) { return "", false })
	sc := loadString(t, "own: [floatingip_pools]\nsteps: [GET /v2.0/floatingip_pools]\n")
	got := n.body(decode(t, `{"floatingip_pools": [
		{"subnet_id": "7f4e1c3b-1111-4111-8111-111111111111", "subnet_name": "other-run"},
		{"subnet_id": "9d7c4b2a-0000-4000-8000-000000000002", "subnet_name": "rghjkmnp-ext"}]}`), mergeHints(sc, sc.Steps[0]))
	if s := compact(t, got); s != `{"floatingip_pools":[{"subnet_id":"<uuid:1>","subnet_name":"{run}-ext"}]}` {
		t.Errorf("normalised: %s", s)
	}
}
