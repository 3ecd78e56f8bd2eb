package ovn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// DBConfig says how to reach one OVN database, as Neutron's [ovn] ovn_nb_* or ovn_sb_* options do.
type DBConfig struct {
	// Connection is ovn_nb_connection / ovn_sb_connection: one or more comma-separated remotes,
	// each tcp:IP:PORT, ssl:IP:PORT or unix:FILE (IPv6 addresses in brackets: tcp:[::1]:6641).
	Connection string
	// PrivateKey, Certificate and CACert are the PEM files of ovn_*_private_key, ovn_*_certificate
	// and ovn_*_ca_cert, mandatory when a remote is ssl:.
	PrivateKey, Certificate, CACert string
}

// Config is the [ovn] section's connection part.
type Config struct {
	NB, SB DBConfig
	// Timeout bounds a transaction, and a wait for the connection before it (ovsdb_connection_timeout).
	Timeout time.Duration
	// RetryMaxInterval caps the reconnection backoff (ovsdb_retry_max_interval).
	RetryMaxInterval time.Duration
	// ProbeInterval is the idle time after which the server is sent an echo request; a connection
	// that does not answer within the interval is dropped and re-made (ovsdb_probe_interval,
	// 0 disables, otherwise at least one second as in Neutron).
	ProbeInterval time.Duration
}

// DefaultConfig returns Neutron's defaults for the [ovn] connection options.
func DefaultConfig() Config {
	return Config{
		NB:               DBConfig{Connection: "tcp:127.0.0.1:6641"},
		SB:               DBConfig{Connection: "tcp:127.0.0.1:6642"},
		Timeout:          180 * time.Second,
		RetryMaxInterval: 180 * time.Second,
		ProbeInterval:    60 * time.Second,
	}
}

// probeInterval applies Neutron's rule: zero disables, anything else is at least one second.
func (c Config) probeInterval() time.Duration {
	if c.ProbeInterval > 0 && c.ProbeInterval < time.Second {
		return time.Second
	}
	return c.ProbeInterval
}

// Endpoints splits and checks a connection string; the result is what libovsdb dials, in order.
func (d DBConfig) Endpoints() ([]string, error) {
	var eps []string
	for _, r := range strings.Split(d.Connection, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if err := checkRemote(r); err != nil {
			return nil, err
		}
		eps = append(eps, r)
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("ovn: empty connection string %q", d.Connection)
	}
	return eps, nil
}

// UsesSSL reports whether any remote of the connection string is ssl:.
func (d DBConfig) UsesSSL() bool {
	for _, r := range strings.Split(d.Connection, ",") {
		if strings.HasPrefix(strings.TrimSpace(r), "ssl:") {
			return true
		}
	}
	return false
}

func checkRemote(r string) error {
	scheme, rest, ok := strings.Cut(r, ":")
	if !ok {
		return fmt.Errorf("ovn: remote %q: expected tcp:IP:PORT, ssl:IP:PORT or unix:FILE", r)
	}
	switch scheme {
	case "unix":
		if rest == "" {
			return fmt.Errorf("ovn: remote %q: no socket file", r)
		}
		return nil
	case "tcp", "ssl":
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return fmt.Errorf("ovn: remote %q: %v", r, err)
		}
		if net.ParseIP(host) == nil {
			return fmt.Errorf("ovn: remote %q: %q is not an IP address", r, host)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("ovn: remote %q: bad port %q", r, port)
		}
		return nil
	}
	return fmt.Errorf("ovn: remote %q: unknown scheme %q (tcp, ssl or unix)", r, scheme)
}

// TLSConfig builds the client side of an ssl: connection as Open vSwitch makes it: our certificate
// and key, and the server's certificate must chain to the CA certificate. Like Open vSwitch (and so
// like Neutron), the server's name is not checked against the certificate: OVN certificates made
// with ovs-pki carry no address. It returns nil, nil when no remote is ssl:.
func (d DBConfig) TLSConfig() (*tls.Config, error) {
	if !d.UsesSSL() {
		return nil, nil
	}
	if d.PrivateKey == "" || d.Certificate == "" || d.CACert == "" {
		return nil, errors.New("ovn: an ssl: connection needs the private key, certificate and CA certificate options")
	}
	pair, err := tls.LoadX509KeyPair(d.Certificate, d.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("ovn: loading %s and %s: %w", d.Certificate, d.PrivateKey, err)
	}
	caPEM, err := os.ReadFile(d.CACert)
	if err != nil {
		return nil, fmt.Errorf("ovn: reading the CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("ovn: no PEM certificate in %s", d.CACert)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   tls.VersionTLS12,
		// The chain is verified below, without the host name check.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, pool)
		},
	}, nil
}

func verifyChain(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("ovn: the server sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, b := range raw {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return fmt.Errorf("ovn: server certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("ovn: server certificate: %w", err)
	}
	return nil
}
