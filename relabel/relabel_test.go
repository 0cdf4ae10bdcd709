package relabel

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
)

// bootstrapPolicy is the directory of the RBAC every kube-apiserver
// creates, as k8s.io/kubernetes's own tests record it, from the module
// the test servers are built from (hack/testservers).
func bootstrapPolicy(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/kubernetes")
	cmd.Dir = filepath.Join("..", "hack", "testservers", "kube-apiserver-v1.37")
	out, err := cmd.Output()
	dir := filepath.Join(strings.TrimSpace(string(out)), "plugin", "pkg", "auth", "authorizer", "rbac", "bootstrappolicy", "testdata")
	if _, statErr := os.Stat(dir); err != nil || statErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("k8s.io/kubernetes is not in the module cache (make testservers downloads it): %v %v", err, statErr)
		}
		t.Skipf("k8s.io/kubernetes is not in the module cache: %v %v", err, statErr)
	}
	return dir
}

// corpusFile is a file of the shared corpus beside the repository.
func corpusFile(t *testing.T, path string) string {
	t.Helper()
	file := filepath.Join("..", "..", "shared", "corpus", path)
	if _, err := os.Stat(file); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus not found: %v", err)
		}
		t.Skipf("corpus not found: %v", err)
	}
	return file
}

// tenants adds to a cluster a role aggregated into admin that lets
// namespace admins patch their namespace, a tenant admin, and a CI
// deployer with edit.
const tenants = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: namespace-labeller
  labels: {rbac.authorization.k8s.io/aggregate-to-admin: "true"}
rules:
- {apiGroups: [""], resources: [namespaces], verbs: [get, patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: team-a-admins, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-deployer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
`

const ciDeployerVia = "impersonate ServiceAccount kube-system/clusterrole-aggregation-controller, who may escalate + update clusterroles" +
	" (ClusterRoleBinding system:controller:clusterrole-aggregation-controller of ClusterRole system:controller:clusterrole-aggregation-controller)" +
	" (ClusterRoleBinding ci-deployer)"

func TestBootstrapAndCorpusRBAC(t *testing.T) {
	dir := bootstrapPolicy(t)
	paths := []string{
		filepath.Join(dir, "cluster-roles.yaml"), filepath.Join(dir, "cluster-role-bindings.yaml"),
		filepath.Join(dir, "controller-roles.yaml"), filepath.Join(dir, "controller-role-bindings.yaml"),
		corpusFile(t, "psp/azure__aks-engine__parts_k8s_addons_1.14_kubernetesmasteraddons-pod-security-policy.yaml"),
		manifest.Stdin,
	}
	docs, errs := manifest.Read(paths, strings.NewReader(tenants))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	inv, _ := inventory.FromDocuments(docs, "")
	var privileged []string
	for _, p := range psp.FromDocuments(docs).Policies {
		if p.PSP.Spec.Privileged {
			privileged = append(privileged, p.PSP.Name)
		}
	}
	if !slices.Equal(privileged, []string{"privileged"}) {
		t.Fatalf("privileged PSPs: %v", privileged)
	}
	res := Analyze(inv, privileged, []string{"ci", "kube-system", "team-a"})
	via := func(gs []Grant, subject string) string {
		for _, g := range gs {
			if g.Subject == subject {
				return g.Via + " (" + g.Binding + ")"
			}
		}
		return ""
	}
	for _, tc := range []struct {
		name, subject, namespace string
		relabel, widened         string
	}{
		// system:masters may do anything and use every PSP: nothing gained.
		{"superusers", "Group system:masters", "", "update namespaces (ClusterRoleBinding cluster-admin)", ""},
		// The namespace controller finalizes namespaces cluster-wide, and the
		// status and finalize subresources keep label changes; it may use the
		// privileged PSP in kube-system only.
		{"namespace controller", "ServiceAccount kube-system/namespace-controller", "",
			"update namespaces/status (ClusterRoleBinding system:controller:namespace-controller)",
			"update namespaces/status (ClusterRoleBinding system:controller:namespace-controller)"},
		// The garbage collector may patch anything.
		{"garbage collector", "ServiceAccount kube-system/generic-garbage-collector", "",
			"update namespaces (ClusterRoleBinding system:controller:generic-garbage-collector)",
			"update namespaces (ClusterRoleBinding system:controller:generic-garbage-collector)"},
		// admin aggregates namespace-labeller: alice relabels team-a.
		{"tenant admin through aggregation", "User alice", "team-a", "patch namespaces (RoleBinding team-a/team-a-admins)", "patch namespaces (RoleBinding team-a/team-a-admins)"},
		// edit writes no namespace, but lets its holder impersonate service
		// accounts: bound cluster-wide, kube-system's controllers too, and
		// the first of those that relabels is the aggregation controller.
		{"CI deployer with edit", "ServiceAccount ci/deployer", "", ciDeployerVia, ciDeployerVia},
		// kube-system's service accounts may use the privileged PSP there.
		{"kube-system service accounts", "Group system:serviceaccounts:kube-system", "kube-system", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := scopeOf(res, tc.namespace)
			if got := via(s.Relabel, tc.subject); got != tc.relabel {
				t.Errorf("relabel: %q, want %q", got, tc.relabel)
			}
			if got := via(s.Widened, tc.subject); got != tc.widened {
				t.Errorf("widened: %q, want %q", got, tc.widened)
			}
		})
	}
	if ks := scopeOf(res, "kube-system"); !slices.Contains(ks.Privileged, "Group system:serviceaccounts:kube-system") {
		t.Errorf("kube-system's privileged PSP users: %v", ks.Privileged)
	}
}

func scopeOf(res *Result, ns string) Scope {
	if ns == "" {
		return res.Cluster
	}
	for _, s := range res.Namespaces {
		if s.Namespace == ns {
			return s
		}
	}
	return Scope{}
}
