package ovn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/ovnmem"
	"github.com/ovn-kubernetes/libovsdb/server"
)

// memNB starts libovsdb's in-memory OVSDB server with the OVN Northbound schema on a unix socket.
func memNB(t *testing.T, sock string) *server.OvsdbServer { return ovnmem.NB(t, sock) }

// proxy forwards TCP (or TLS) connections to a unix socket. The in-memory server keeps serving
// accepted connections after Close, so a crash of the database server is played by the proxy:
// Down closes the listener and every connection, Up listens again on the same address, Freeze
// keeps connections open but silent (a hung server).
type proxy struct {
	t      *testing.T
	target string
	tls    *tls.Config
	addr   string

	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	frozen bool
}

func newProxy(t *testing.T, target string, tlsConf *tls.Config) *proxy {
	p := &proxy{t: t, target: target, tls: tlsConf, addr: "127.0.0.1:0"}
	p.Up()
	t.Cleanup(p.Down)
	return p
}

func (p *proxy) Up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port of a listener closed a moment ago may be busy briefly
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.addr, p.ln, p.frozen = ln.Addr().String(), ln, false
	if p.tls != nil {
		ln = tls.NewListener(ln, p.tls)
	}
	go p.accept(ln)
}

func (p *proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("unix", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		go p.pipe(c, u)
		go p.pipe(u, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		frozen := p.frozen
		p.mu.Unlock()
		if n > 0 && !frozen {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			dst.Close()
			return
		}
	}
}

func (p *proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) Freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
}

// pki writes a CA, a server and a client certificate (no host names or addresses in them, as
// ovs-pki makes them) into dir and returns the server's TLS configuration, which requires a client
// certificate from the CA as ovsdb-server does.
func pki(t *testing.T, dir string) (serverTLS *tls.Config, key, cert, ca string) {
	t.Helper()
	caKey, caCert, caDER := makeCert(t, "neutrino test CA", nil, nil)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	srvKey, _, srvDER := makeCert(t, "ovsdb-server", caCert, caKey)
	cliKey, _, cliDER := makeCert(t, "neutrino", caCert, caKey)
	key, cert, ca = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "ca.pem")
	writePEM(t, ca, "CERTIFICATE", caDER)
	writePEM(t, cert, "CERTIFICATE", cliDER)
	kb, _ := x509.MarshalECPrivateKey(cliKey)
	writePEM(t, key, "EC PRIVATE KEY", kb)
	sb, _ := x509.MarshalECPrivateKey(srvKey)
	pair, err := tls.X509KeyPair(pemBytes("CERTIFICATE", srvDER), pemBytes("EC PRIVATE KEY", sb))
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: pool, MinVersion: tls.VersionTLS12}, key, cert, ca
}

func makeCert(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	signer := k
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		parent = tmpl
	} else {
		signer = parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return k, c, der
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pemBytes(typ, der), 0o600); err != nil {
		t.Fatal(err)
	}
}
