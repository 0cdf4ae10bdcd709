package testcluster

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// UserConfig returns a client config for any user a test makes up: a fresh
// client certificate (CN=user, O=groups) signed by the cluster's CA. The
// apiserver adds system:authenticated; RBAC grants nothing else until the
// test binds the user or a group.
func (c *Cluster) UserConfig(user string, groups ...string) (*rest.Config, error) {
	kp, err := c.pki.issue(certTemplate{
		subject: pkix.Name{CommonName: user, Organization: groups},
		usage:   x509.ExtKeyUsageClientAuth,
	})
	if err != nil {
		return nil, fmt.Errorf("issue certificate for %q: %w", user, err)
	}
	return c.restConfig(kp), nil
}

// UserKubeconfig writes a kubeconfig for a made-up user (see UserConfig)
// whose only context, named after the user, is current, and returns its
// path; Stop removes it.
func (c *Cluster) UserKubeconfig(user string, groups ...string) (string, error) {
	cfg, err := c.UserConfig(user, groups...)
	if err != nil {
		return "", err
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters[clusterName] = &clientcmdapi.Cluster{Server: c.host, CertificateAuthorityData: c.pki.CA.CertPEM}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts[user] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: user}
	kc.CurrentContext = user
	f, err := os.CreateTemp(c.dir, "kubeconfig-*")
	if err != nil {
		return "", fmt.Errorf("create kubeconfig for %q: %w", user, err)
	}
	path := f.Name()
	f.Close()
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", fmt.Errorf("write kubeconfig for %q: %w", user, err)
	}
	return filepath.Clean(path), nil
}
