package testcluster

import (
	"fmt"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Context names in the written kubeconfig.
const (
	AdminContext   = "admin"
	LimitedContext = "limited"
)

const clusterName = "psp2psa-test"

// writeKubeconfig writes a self-contained kubeconfig (all certificates
// inline) so that CLI tests can pass just a path and a context name.
func (c *Cluster) writeKubeconfig() (string, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = &clientcmdapi.Cluster{
		Server:                   c.host,
		CertificateAuthorityData: c.pki.CA.CertPEM,
	}
	users := map[string]keyPair{AdminContext: c.pki.Admin, LimitedContext: c.pki.Limited}
	for name, kp := range users {
		cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{
			ClientCertificateData: kp.CertPEM,
			ClientKeyData:         kp.KeyPEM,
		}
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: name}
	}
	cfg.CurrentContext = AdminContext
	path := filepath.Join(c.dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("write kubeconfig: %w", err)
	}
	return path, nil
}
