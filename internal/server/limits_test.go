package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// serve runs a neutrino with o on its own listener through Server.Serve
// (which applies the connection limits and timeouts httptest would not).
func serve(t *testing.T, o testutil.Options, addr string) (*testutil.Server, string) {
	t.Helper()
	s := testutil.StartServer(t, o)
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.App.Server.Serve(ctx, ln, time.Second); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, "http://" + ln.Addr().String()
}

// syncBuffer is a log sink tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func post(t *testing.T, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestBodySizeLimit: a body over [oslo_middleware] max_request_body_size
// gets oslo.middleware's 413 (webob page) without being read, whether its
// length is announced or not; a bulk create of more than max_bulk_items
// resources a 400.
func TestBodySizeLimit(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: map[string]string{
		"DEFAULT.max_bulk_items": "5", "quotas.quota_network": "-1"}})
	big := `{"network": {"name": "` + strings.Repeat("x", 114688) + `"}}`
	resp, body := post(t, s.URL+"/v2.0/networks", big)
	want := "413 Request Entity Too Large\n\nRequest is too large. Larger than max_request_body_size (114688).\n\n   "
	if resp.StatusCode != 413 || body != want || resp.Header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Fatalf("big body: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = post(t, s.URL+"/v2.0/networks", big, "Accept", "application/json")
	if resp.StatusCode != 413 || !strings.HasPrefix(body, `{"message": "Request is too large.`) {
		t.Fatalf("big body, JSON: %d %s", resp.StatusCode, body)
	}
	// chunked: no Content-Length
	req, _ := http.NewRequest("POST", s.URL+"/v2.0/networks", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 413 {
		t.Fatalf("chunked big body: %d", r.StatusCode)
	}
	// chunked and small: served
	req, _ = http.NewRequest("POST", s.URL+"/v2.0/networks", io.MultiReader(strings.NewReader(`{"network": {"name": "c"}}`)))
	req.ContentLength = -1
	if r, err = http.DefaultClient.Do(req); err != nil || r.StatusCode != 201 {
		t.Fatalf("chunked small body: %v %v", r, err)
	}
	r.Body.Close()

	bulk := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(`{"name": "b%d"}`, i)
		}
		return `{"networks": [` + strings.Join(items, ", ") + `]}`
	}
	if resp, body := post(t, s.URL+"/v2.0/networks", bulk(6)); resp.StatusCode != 400 || !strings.Contains(body, "max_bulk_items") {
		t.Fatalf("bulk of 6: %d %s", resp.StatusCode, body)
	}
	if resp, body := post(t, s.URL+"/v2.0/networks", bulk(5)); resp.StatusCode != 201 {
		t.Fatalf("bulk of 5: %d %s", resp.StatusCode, body)
	}
}

// TestSlowClientsCut: a client that sends its body too slowly is
// disconnected after client_body_timeout, and connections beyond
// wsgi_default_pool_size wait until one is free.
func TestSlowClientsCut(t *testing.T) {
	_, url := serve(t, testutil.Options{Set: map[string]string{
		"DEFAULT.client_body_timeout": "1", "DEFAULT.wsgi_default_pool_size": "2"}}, "")
	addr := strings.TrimPrefix(url, "http://")
	slow := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST /v2.0/networks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"net")
		return c
	}
	c1, c2 := slow(), slow()
	defer c1.Close()
	defer c2.Close()
	// both slots are taken: a third client waits for one of them
	t0 := time.Now()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url + "/v2.0/networks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(t0); resp.StatusCode != 200 || d < 500*time.Millisecond {
		t.Fatalf("third client: %d after %v (should have waited for a slot)", resp.StatusCode, d)
	}
	// the slow ones were cut
	for _, c := range []net.Conn{c1, c2} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(bufio.NewReader(c)); err != nil {
			t.Fatalf("slow client not disconnected: %v", err)
		}
	}
	if d := time.Since(t0); d > 4*time.Second {
		t.Fatalf("slow clients cut after %v", d)
	}
}

// TestHeaderLineTooLong: a header line of max_header_line bytes or more
// gets eventlet's 400 and the connection is closed.
func TestHeaderLineTooLong(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	req, _ := http.NewRequest("GET", s.URL+"/v2.0/networks", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 16384))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || !resp.Close {
		t.Fatalf("%d close=%v", resp.StatusCode, resp.Close)
	}
	req.Header.Set("X-Big", strings.Repeat("a", 16000))
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("16000-byte header: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestProxyHeaders: X-Forwarded-For/-Proto are believed only with
// enable_proxy_headers_parsing (oslo's http_proxy_to_wsgi): otherwise the
// access log shows the peer and links keep their scheme.
func TestProxyHeaders(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		log := &syncBuffer{}
		s := testutil.StartServer(t, testutil.Options{Log: log, Set: map[string]string{
			"oslo_middleware.enable_proxy_headers_parsing": fmt.Sprint(trusted)}})
		req, _ := http.NewRequest("GET", s.URL+"/", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.9, 10.0.0.1")
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		deadline := time.Now().Add(2 * time.Second)
		for !strings.Contains(log.String(), "status: 200") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		logged := log.String()
		if trusted != strings.Contains(logged, "203.0.113.9") || trusted != strings.Contains(string(body), `"https://`) {
			t.Errorf("trusted=%v: log %q body %s", trusted, logged, body)
		}
		if !trusted && !strings.Contains(logged, `msg="127.0.0.1 \"GET /`) {
			t.Errorf("peer address not logged: %q", logged)
		}
	}
}

// TestNoauthOpenWarning: noauth listening on every interface is announced
// loudly; on the loopback it is not.
func TestNoauthOpenWarning(t *testing.T) {
	for addr, want := range map[string]bool{"0.0.0.0:0": true, "127.0.0.1:0": false} {
		log := &syncBuffer{}
		serve(t, testutil.Options{Log: log}, addr)
		deadline := time.Now().Add(2 * time.Second)
		for want && !strings.Contains(log.String(), "ALL interfaces") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := strings.Contains(log.String(), "ADMINISTRATOR"); got != want {
			t.Errorf("%s: warning %v, want %v: %s", addr, got, want, log.String())
		}
	}
}

// TestDelayAuthDecisionServer: auth_strategy = keystone with
// delay_auth_decision and Keystone unreachable: a request without a token
// is refused (it used to list every shared network as an anonymous
// admin-less caller).
func TestDelayAuthDecisionServer(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()
	conf := filepath.Join(t.TempDir(), "neutron.conf")
	os.WriteFile(conf, []byte("[DEFAULT]\nauth_strategy = keystone\n[keystone_authtoken]\n"+
		"auth_url = "+closed+"\nwww_authenticate_uri = "+closed+"\ndelay_auth_decision = true\n"+
		"auth_type = password\nusername = neutron\npassword = x\nproject_name = service\nuser_domain_name = Default\nproject_domain_name = Default\nhttp_request_max_retries = 0\n"), 0o600)
	s := testutil.StartServer(t, testutil.Options{Files: []string{conf}})
	for _, tok := range []string{"", "garbage"} {
		req, _ := http.NewRequest("GET", s.URL+"/v2.0/networks", nil)
		if tok != "" {
			req.Header.Set("X-Auth-Token", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || strings.Contains(string(body), "networks") {
			t.Fatalf("token %q: %d %s", tok, resp.StatusCode, body)
		}
	}
}
