package testcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Identities of the two kubeconfig users. The admin is in system:masters, which
// the bootstrap RBAC policy binds to cluster-admin. The limited user has no
// bindings at all, so tests grant it exactly what they want to exercise.
const (
	adminUser    = "psp2psa-admin"
	adminGroup   = "system:masters"
	limitedUser  = "psp2psa-limited"
	limitedGroup = "psp2psa:limited"
)

// keyPair is a PEM-encoded certificate and its private key.
type keyPair struct {
	CertPEM []byte
	KeyPEM  []byte
}

// pki holds everything the apiserver and its clients need. Certificates are
// generated in Go so that starting a cluster needs no openssl binary.
type pki struct {
	CA      keyPair
	Serving keyPair
	Admin   keyPair
	Limited keyPair
	// Service-account token signing key and its public half.
	SAKeyPEM    []byte
	SAPubKeyPEM []byte

	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

// certTemplate describes one leaf certificate to issue from the CA.
type certTemplate struct {
	subject pkix.Name
	usage   x509.ExtKeyUsage
	ips     []net.IP
	dns     []string
}

func newPKI() (*pki, error) {
	p := &pki{}
	if err := p.makeCA(); err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	leaves := []struct {
		out  *keyPair
		tmpl certTemplate
	}{
		{&p.Serving, certTemplate{
			subject: pkix.Name{CommonName: "kube-apiserver"},
			usage:   x509.ExtKeyUsageServerAuth,
			ips:     []net.IP{net.IPv4(127, 0, 0, 1)},
			dns:     []string{"localhost"},
		}},
		{&p.Admin, clientTemplate(adminUser, adminGroup)},
		{&p.Limited, clientTemplate(limitedUser, limitedGroup)},
	}
	for _, l := range leaves {
		kp, err := p.issue(l.tmpl)
		if err != nil {
			return nil, fmt.Errorf("issue certificate for %q: %w", l.tmpl.subject.CommonName, err)
		}
		*l.out = kp
	}
	if err := p.makeServiceAccountKey(); err != nil {
		return nil, fmt.Errorf("create service-account key: %w", err)
	}
	return p, nil
}

// clientTemplate maps a user and group onto the CN and O fields, which is how
// the apiserver's x509 authenticator reads them.
func clientTemplate(user, group string) certTemplate {
	return certTemplate{
		subject: pkix.Name{CommonName: user, Organization: []string{group}},
		usage:   x509.ExtKeyUsageClientAuth,
	}
}

func (p *pki) makeCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	tmpl := baseTemplate(pkix.Name{CommonName: "psp2psa-test-ca"})
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	keyPEM, err := encodeECKey(key)
	if err != nil {
		return err
	}
	p.caCert, p.caKey = cert, key
	p.CA = keyPair{CertPEM: encodeCert(der), KeyPEM: keyPEM}
	return nil
}

func (p *pki) issue(t certTemplate) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generate key: %w", err)
	}
	tmpl := baseTemplate(t.subject)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{t.usage}
	tmpl.IPAddresses = t.ips
	tmpl.DNSNames = t.dns
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		return keyPair{}, fmt.Errorf("sign: %w", err)
	}
	keyPEM, err := encodeECKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}

func (p *pki) makeServiceAccountKey() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("marshal public key: %w", err)
	}
	keyPEM, err := encodeECKey(key)
	if err != nil {
		return err
	}
	p.SAKeyPEM = keyPEM
	p.SAPubKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	return nil
}

// baseTemplate backdates NotBefore so that small clock differences between
// the test process and the apiserver never make a fresh certificate invalid.
func baseTemplate(subject pkix.Name) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeECKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// pkiFiles are the paths of the files the apiserver reads.
type pkiFiles struct {
	CACert, ServingCert, ServingKey, SAKey, SAPubKey string
}

// write stores the server-side material in dir with owner-only permissions.
func (p *pki) write(dir string) (pkiFiles, error) {
	f := pkiFiles{
		CACert:      filepath.Join(dir, "ca.crt"),
		ServingCert: filepath.Join(dir, "serving.crt"),
		ServingKey:  filepath.Join(dir, "serving.key"),
		SAKey:       filepath.Join(dir, "sa.key"),
		SAPubKey:    filepath.Join(dir, "sa.pub"),
	}
	contents := map[string][]byte{
		f.CACert:      p.CA.CertPEM,
		f.ServingCert: p.Serving.CertPEM,
		f.ServingKey:  p.Serving.KeyPEM,
		f.SAKey:       p.SAKeyPEM,
		f.SAPubKey:    p.SAPubKeyPEM,
	}
	for path, data := range contents {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return pkiFiles{}, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return f, nil
}
