package oslo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeTestCerts writes a CA (ca.pem) and a server certificate for
// localhost/127.0.0.1 signed by it (server.pem, server.key) into dir,
// readable by the broker.
func writeTestCerts(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "neutrino test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caTmpl, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string]*pem.Block{
		"ca.pem":     {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem": {Type: "CERTIFICATE", Bytes: der},
		"server.key": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// TLS with [oslo_messaging_rabbit] ssl, ssl_ca_file (verified) and the
// transport_url's ?ssl=true; a broker certificate from another CA is refused.
func TestTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the private RabbitMQ node")
	}
	p := privateBroker(t)
	vh := testVhost(t, p.node)
	o := fastOptions()
	o.SSL, o.SSLCAFile, o.SSLVersion = true, filepath.Join(p.dir, "ca.pem"), "TLSv1_2"
	tr := openTransport(t, vhostURL(p.tlsAddr, vh), o)
	rec := newRecorder()
	startServer(t, tr, ServerTarget{Topic: "q-plugin", Host: "h"}, echoDispatcher(rec))
	if _, err := tr.Call(context.Background(), AdminContext(), Target{Topic: "q-plugin"}, "get_host_ha_router_count", nil); err != nil {
		t.Fatal(err)
	}

	// ssl from the URL, without a CA: encrypted, not verified (kombu's behaviour).
	o2 := fastOptions()
	o2.SSLCAFile = ""
	cl := openTransport(t, vhostURL(p.tlsAddr, vh)+"?ssl=true", o2)
	if err := cl.Cast(context.Background(), AdminContext(), Target{Topic: "q-plugin"}, "note", map[string]any{"x": "tls"}); err != nil {
		t.Fatal(err)
	}
	if argString(t, rec.wait(t, 5*time.Second), "x") != "tls" {
		t.Error("cast over TLS")
	}

	other := t.TempDir()
	if err := writeTestCerts(other); err != nil {
		t.Fatal(err)
	}
	o3 := fastOptions()
	o3.SSL, o3.SSLCAFile = true, filepath.Join(other, "ca.pem")
	bad, err := Open(vhostURL(p.tlsAddr, vh), o3, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := bad.WaitConnected(ctx); err == nil {
		t.Error("connected to a broker whose certificate the CA did not sign")
	}
}
