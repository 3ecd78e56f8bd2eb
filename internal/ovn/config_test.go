package ovn

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEndpoints(t *testing.T) {
	good := map[string][]string{
		"tcp:127.0.0.1:6641":                      {"tcp:127.0.0.1:6641"},
		"ssl:10.0.0.1:6641, ssl:10.0.0.2:6641":    {"ssl:10.0.0.1:6641", "ssl:10.0.0.2:6641"},
		"unix:/run/ovn/ovnnb_db.sock":             {"unix:/run/ovn/ovnnb_db.sock"},
		"tcp:[::1]:6641,unix:/tmp/x.sock,":        {"tcp:[::1]:6641", "unix:/tmp/x.sock"},
		" tcp:192.0.2.1:6642 ":                    {"tcp:192.0.2.1:6642"},
		"tcp:127.0.0.1:6641,tcp:127.0.0.2:6641,x": nil,
	}
	for conn, want := range good {
		got, err := DBConfig{Connection: conn}.Endpoints()
		if want == nil {
			if err == nil {
				t.Errorf("%q: expected an error, got %v", conn, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %v %v, want %v", conn, got, err, want)
		}
	}
	for _, bad := range []string{"", ",", "tcp:localhost:6641", "tcp:127.0.0.1", "tcp:127.0.0.1:0",
		"tcp:127.0.0.1:70000", "udp:127.0.0.1:6641", "unix:", "127.0.0.1:6641", "tcp:::1:6641"} {
		if eps, err := (DBConfig{Connection: bad}).Endpoints(); err == nil {
			t.Errorf("%q: expected an error, got %v", bad, eps)
		}
	}
}

func TestTLSConfigRules(t *testing.T) {
	if c, err := (DBConfig{Connection: "tcp:127.0.0.1:6641"}).TLSConfig(); c != nil || err != nil {
		t.Fatalf("tcp needs no TLS: %v %v", c, err)
	}
	_, err := DBConfig{Connection: "tcp:127.0.0.1:1,ssl:127.0.0.1:6641"}.TLSConfig()
	if err == nil || !strings.Contains(err.Error(), "private key, certificate and CA certificate") {
		t.Fatalf("ssl without key files: %v", err)
	}
	dir := t.TempDir()
	_, key, cert, ca := pki(t, dir)
	ok := DBConfig{Connection: "ssl:127.0.0.1:6641", PrivateKey: key, Certificate: cert, CACert: ca}
	if c, err := ok.TLSConfig(); err != nil || len(c.Certificates) != 1 {
		t.Fatalf("valid files: %v %v", c, err)
	}
	missing := ok
	missing.CACert = filepath.Join(dir, "nope.pem")
	if _, err := missing.TLSConfig(); err == nil {
		t.Fatal("missing CA file accepted")
	}
	notPEM := ok
	notPEM.CACert = key // a key is no certificate
	if _, err := notPEM.TLSConfig(); err == nil {
		t.Fatal("CA file without a certificate accepted")
	}
	// NewNB refuses a bad configuration before dialling anything
	cfg := DefaultConfig()
	cfg.NB.Connection = "ssl:127.0.0.1:6641"
	if _, err := NewNB(cfg, nil, nil); err == nil {
		t.Fatal("NewNB accepted ssl: without key files")
	}
}

func TestProbeIntervalMinimum(t *testing.T) {
	c := DefaultConfig()
	for in, want := range map[time.Duration]time.Duration{0: 0, time.Millisecond: time.Second,
		999 * time.Millisecond: time.Second, 5 * time.Second: 5 * time.Second} {
		c.ProbeInterval = in
		if got := c.probeInterval(); got != want {
			t.Errorf("probe %v -> %v, want %v", in, got, want)
		}
	}
}
