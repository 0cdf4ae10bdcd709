package psp

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// permissiveSpec allows every pod and defaults nothing.
func permissiveSpec() PodSecurityPolicySpec {
	return PodSecurityPolicySpec{
		Privileged:          true,
		AllowedCapabilities: []corev1.Capability{AllowAllCapabilities},
		Volumes:             []FSType{All},
		HostNetwork:         true, HostPID: true, HostIPC: true,
		HostPorts:          []HostPortRange{{Min: 0, Max: 65535}},
		SELinux:            SELinuxStrategyOptions{Rule: SELinuxStrategyRunAsAny},
		RunAsUser:          RunAsUserStrategyOptions{Rule: RunAsUserStrategyRunAsAny},
		SupplementalGroups: SupplementalGroupsStrategyOptions{Rule: SupplementalGroupsStrategyRunAsAny},
		FSGroup:            FSGroupStrategyOptions{Rule: FSGroupStrategyRunAsAny},
	}
}

func namedPolicy(name string, edit func(*PodSecurityPolicySpec)) *PodSecurityPolicy {
	spec := permissiveSpec()
	if edit != nil {
		edit(&spec)
	}
	return &PodSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

// runAsUser1000 admits any pod but gives containers without a user UID 1000.
func runAsUser1000(s *PodSecurityPolicySpec) {
	s.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: []IDRange{{Min: 1000, Max: 2000}}}
}

// unprivileged rejects privileged containers and defaults nothing.
func unprivileged(s *PodSecurityPolicySpec) { s.Privileged = false }

func selectPod(edit func(*corev1.Pod)) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "app"},
		Spec:       corev1.PodSpec{ServiceAccountName: "web", Containers: []corev1.Container{{Name: "c", Image: "img"}}},
	}
	if edit != nil {
		edit(pod)
	}
	return pod
}

func withUser(uid int64) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: &uid} }
}

func privilegedPod(p *corev1.Pod) {
	yes := true
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &yes}
}

func allowAll(string) bool { return true }

func allowOnly(names ...string) func(string) bool {
	return func(name string) bool {
		for _, n := range names {
			if n == name {
				return true
			}
		}
		return false
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name         string
		policies     []*PodSecurityPolicy
		pod          *corev1.Pod
		authorized   func(string) bool
		wantPolicy   string
		wantMutated  bool
		rejected     []string // Rejections
		unauthorized []string
	}{
		{
			name:       "a PSP that admits the pod unchanged wins over an earlier one that mutates it",
			policies:   []*PodSecurityPolicy{namedPolicy("a-defaults-user", runAsUser1000), namedPolicy("z-permissive", nil)},
			pod:        selectPod(nil),
			authorized: allowAll, wantPolicy: "z-permissive",
		},
		{
			name:       "the first mutating PSP by name wins when none admits the pod unchanged",
			policies:   []*PodSecurityPolicy{namedPolicy("b-defaults-user", runAsUser1000), namedPolicy("a-defaults-user", runAsUser1000)},
			pod:        selectPod(nil),
			authorized: allowAll, wantPolicy: "a-defaults-user", wantMutated: true,
		},
		{
			name:       "mutation is per pod: a pod that already carries the default is admitted unchanged",
			policies:   []*PodSecurityPolicy{namedPolicy("a-defaults-user", runAsUser1000), namedPolicy("z-permissive", nil)},
			pod:        selectPod(withUser(1000)),
			authorized: allowAll, wantPolicy: "a-defaults-user",
		},
		{
			name:       "a PSP the pod may not use is passed over and reported",
			policies:   []*PodSecurityPolicy{namedPolicy("a-defaults-user", runAsUser1000), namedPolicy("z-permissive", nil)},
			pod:        selectPod(nil),
			authorized: allowOnly("a-defaults-user"), wantPolicy: "a-defaults-user", wantMutated: true,
			unauthorized: []string{"z-permissive"},
		},
		{
			name:       "a rejected pod has the reasons of every PSP it may use; the others are only listed",
			policies:   []*PodSecurityPolicy{namedPolicy("restricted", unprivileged), namedPolicy("privileged", nil), namedPolicy("baseline", unprivileged)},
			pod:        selectPod(privilegedPod),
			authorized: allowOnly("restricted"),
			rejected:   []string{"restricted"}, unauthorized: []string{"baseline", "privileged"},
		},
		{
			name:       "policies after an immediate winner are not tried",
			policies:   []*PodSecurityPolicy{namedPolicy("c-unprivileged", unprivileged), namedPolicy("a-unprivileged", unprivileged), namedPolicy("b-permissive", nil)},
			pod:        selectPod(privilegedPod),
			authorized: allowAll, wantPolicy: "b-permissive",
			rejected: []string{"a-unprivileged"},
		},
		{
			name: "a PSP whose strategies cannot be built admits nothing",
			policies: []*PodSecurityPolicy{namedPolicy("broken", func(s *PodSecurityPolicySpec) {
				s.RunAsUser = RunAsUserStrategyOptions{Rule: "MustRunAsRange"}
			})},
			pod:        selectPod(nil),
			authorized: allowAll, rejected: []string{"broken"},
		},
		{
			// The server chose the PSP on its own verdicts and ran core
			// validation on the winner's pod afterwards: a privileged pod
			// that a-no-escalation mutates (allowPrivilegeEscalation: false)
			// is rejected, although b-defaults-user would have admitted it.
			name: "core validation of the chosen PSP's pod rejects it instead of trying the next PSP",
			policies: []*PodSecurityPolicy{
				namedPolicy("a-no-escalation", func(s *PodSecurityPolicySpec) { no := false; s.AllowPrivilegeEscalation = &no }),
				namedPolicy("b-defaults-user", runAsUser1000),
			},
			pod:        selectPod(privilegedPod),
			authorized: allowAll, rejected: []string{"a-no-escalation"},
		},
		{
			name:       "without any PSP the pod is rejected",
			pod:        selectPod(nil),
			authorized: allowAll,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			original := tt.pod.DeepCopy()
			d := Select(tt.policies, tt.pod, tt.authorized)
			if d.Policy != tt.wantPolicy || d.Mutated != tt.wantMutated {
				t.Errorf("Select = %q mutated=%v, want %q mutated=%v", d.Policy, d.Mutated, tt.wantPolicy, tt.wantMutated)
			}
			var rejected []string
			for _, r := range d.Rejections {
				if len(r.Errors) == 0 {
					t.Errorf("rejection by %s without errors", r.Policy)
				}
				rejected = append(rejected, r.Policy)
			}
			if !reflect.DeepEqual(rejected, tt.rejected) || !reflect.DeepEqual(d.Unauthorized, tt.unauthorized) {
				t.Errorf("rejected %v, unauthorized %v; want %v, %v", rejected, d.Unauthorized, tt.rejected, tt.unauthorized)
			}
			if (d.Pod == nil) != (tt.wantPolicy == "") {
				t.Fatalf("Pod = %v for policy %q", d.Pod, d.Policy)
			}
			if d.Pod != nil && d.Pod.Annotations[ValidatedPSPAnnotation] != tt.wantPolicy {
				t.Errorf("admitted pod annotated %q, want %q", d.Pod.Annotations[ValidatedPSPAnnotation], tt.wantPolicy)
			}
			if !reflect.DeepEqual(tt.pod, original) {
				t.Errorf("Select modified the pod it was given")
			}
		})
	}
}

func TestSelectKeepsTheMutatingWinnersDefaults(t *testing.T) {
	d := Select([]*PodSecurityPolicy{namedPolicy("defaults-user", runAsUser1000)}, selectPod(nil), allowAll)
	sc := d.Pod.Spec.Containers[0].SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 1000 {
		t.Errorf("admitted pod's container security context = %+v, want runAsUser 1000", sc)
	}
}

// TestSelectWithRBAC is the classic PSP surprise: the pod's service account
// may use only the restricted PSP, but the ReplicaSet controller that
// creates the pod is bound to the privileged one, so a privileged pod
// template is admitted under it.
func TestSelectWithRBAC(t *testing.T) {
	rbac := rbacFixture{
		clusterRoles: []rbacv1.ClusterRole{
			clusterRole("psp:restricted", useRule(policyGroup, "restricted")),
			clusterRole("psp:privileged", useRule(policyGroup, "privileged")),
		},
		crbs: []rbacv1.ClusterRoleBinding{
			clusterRoleBinding("all-sa", toClusterRole("psp:restricted"), groupSubject("system:serviceaccounts")),
			clusterRoleBinding("controllers", toClusterRole("psp:privileged"), saSubject("kube-system", "replicaset-controller")),
		},
	}
	a := rbac.authorizer()
	policies := []*PodSecurityPolicy{namedPolicy("restricted", unprivileged), namedPolicy("privileged", nil)}
	pod := selectPod(privilegedPod)
	controller, err := ControllerIdentity("Deployment", ModeServiceAccounts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		requester Requester
		want      string
	}{
		{"created by the ReplicaSet controller's service account", controller, "privileged"},
		{"created by a user without grants", Requester{User: UserInfo{Name: "dev", Groups: []string{AuthenticatedGroup}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Select(policies, pod, a.ForPod(pod.Namespace, pod.Spec.ServiceAccountName, tt.requester.User))
			if d.Policy != tt.want {
				t.Errorf("Select = %q, want %q (rejections %+v)", d.Policy, tt.want, d.Rejections)
			}
		})
	}
}

func TestControllerIdentity(t *testing.T) {
	sa := func(ns, name string) UserInfo {
		return UserInfo{Name: "system:serviceaccount:" + ns + ":" + name,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	}
	tests := []struct {
		name    string
		kind    string
		mode    string
		want    UserInfo
		wantErr error
	}{
		{"Deployment pods are created by the ReplicaSet controller", "Deployment", "serviceaccounts", sa("kube-system", "replicaset-controller"), nil},
		{"ReplicaSet", "ReplicaSet", "serviceaccounts", sa("kube-system", "replicaset-controller"), nil},
		{"StatefulSet", "StatefulSet", "serviceaccounts", sa("kube-system", "statefulset-controller"), nil},
		{"DaemonSet", "DaemonSet", "serviceaccounts", sa("kube-system", "daemon-set-controller"), nil},
		{"Job", "Job", "serviceaccounts", sa("kube-system", "job-controller"), nil},
		{"CronJob pods are created by the Job controller", "CronJob", "serviceaccounts", sa("kube-system", "job-controller"), nil},
		{"ReplicationController", "ReplicationController", "serviceaccounts", sa("kube-system", "replication-controller"), nil},
		{"manager mode is the controller manager's user", "StatefulSet", "manager",
			UserInfo{Name: "system:kube-controller-manager", Groups: []string{"system:authenticated"}}, nil},
		{"a literal user, whose name may hold colons", "Pod", "user:system:admin",
			UserInfo{Name: "system:admin", Groups: []string{"system:authenticated"}}, nil},
		{"a literal service account", "Pod", "sa:ci:deployer", sa("ci", "deployer"), nil},
		{"a bare Pod has no controller", "Pod", "serviceaccounts", UserInfo{}, ErrNoController},
		{"an operator's kind has no built-in controller", "Rollout", "manager", UserInfo{}, ErrNoController},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ControllerIdentity(tt.kind, tt.mode)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got.User, tt.want) {
				t.Errorf("ControllerIdentity(%s, %s) = %+v, %v; want %+v", tt.kind, tt.mode, got.User, err, tt.want)
			}
		})
	}
	for _, mode := range []string{"", "controllers", "user:", "sa:ci", "sa::x", "sa:ci:", "sa:a:b:c"} {
		if _, err := ControllerIdentity("Deployment", mode); err == nil {
			t.Errorf("mode %q accepted", mode)
		}
	}
}

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestSelectOnDemoCluster runs admission for every workload of the demo
// cluster (testdata/demo) as its controller would create the pods, and
// compares the decisions with testdata/rbac/demo-decisions.golden.
func TestSelectOnDemoCluster(t *testing.T) {
	docs, errs := manifest.Read([]string{filepath.Join("..", "testdata", "demo")}, nil)
	for _, err := range errs {
		t.Fatal(err)
	}
	inv, errs := inventory.FromDocuments(docs, "")
	for _, err := range errs {
		t.Fatal(err)
	}
	load := FromDocuments(docs)
	for _, err := range load.Errors {
		t.Fatal(err)
	}
	var policies []*PodSecurityPolicy
	for i := range load.Policies {
		policies = append(policies, load.Policies[i].PSP)
	}
	a := NewAuthorizer(inv.Roles, inv.ClusterRoles, inv.RoleBindings, inv.ClusterRoleBindings)
	serviceAccounts := map[string]*corev1.ServiceAccount{}
	for i := range inv.ServiceAccounts {
		sa := &inv.ServiceAccounts[i]
		serviceAccounts[sa.Namespace+"/"+sa.Name] = sa
	}
	var b strings.Builder
	for _, w := range inv.Workloads {
		requester, err := ControllerIdentity(w.CreatorKind(), ModeServiceAccounts)
		if err != nil {
			t.Fatalf("%s/%s: %v", w.Kind, w.Name, err)
		}
		pod := AdmissionPod(w.Namespace, w.Template, serviceAccounts[w.Namespace+"/"+w.ServiceAccount])
		d := Select(policies, pod, a.ForPod(w.Namespace, pod.Spec.ServiceAccountName, requester.User))
		fmt.Fprintf(&b, "%s %s/%s sa=%s: ", w.Kind, w.Namespace, w.Name, w.ServiceAccount)
		switch {
		case d.Policy == "":
			b.WriteString("rejected\n")
		case d.Mutated:
			fmt.Fprintf(&b, "%s (mutated)\n", d.Policy)
		default:
			fmt.Fprintf(&b, "%s\n", d.Policy)
		}
		for _, name := range d.Unauthorized {
			fmt.Fprintf(&b, "  not authorized: %s\n", name)
		}
		for _, r := range d.Rejections {
			fmt.Fprintf(&b, "  %s: %d error(s), first %s\n", r.Policy, len(r.Errors), r.Errors[0].Field)
		}
	}
	golden := filepath.Join("..", "testdata", "rbac", "demo-decisions.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("decisions differ from %s (run with -update and review the diff):\n%s", golden, b.String())
	}
}

func TestAdmissionPod(t *testing.T) {
	no := false
	tokenMount := corev1.VolumeMount{Name: "kube-api-access-token", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	template := func(edit func(*corev1.PodSpec)) *corev1.PodTemplateSpec {
		t := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init"}},
			Containers:     []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{ContainerPort: 9100}, {ContainerPort: 80, HostPort: 8080}}}},
		}}
		if edit != nil {
			edit(&t.Spec)
		}
		return t
	}
	tests := []struct {
		name     string
		template *corev1.PodTemplateSpec
		sa       *corev1.ServiceAccount
		check    func(t *testing.T, pod *corev1.Pod)
	}{
		{
			name:     "the default service account and its token, mounted in every container",
			template: template(nil),
			check: func(t *testing.T, pod *corev1.Pod) {
				if pod.Spec.ServiceAccountName != "default" {
					t.Errorf("serviceAccountName = %q", pod.Spec.ServiceAccountName)
				}
				if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].Projected == nil || pod.Spec.Volumes[0].Name != tokenMount.Name {
					t.Errorf("volumes = %+v, want the projected token volume", pod.Spec.Volumes)
				}
				for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
					if !reflect.DeepEqual(c.VolumeMounts, []corev1.VolumeMount{tokenMount}) {
						t.Errorf("container %s mounts %+v", c.Name, c.VolumeMounts)
					}
				}
			},
		},
		{
			name:     "the deprecated serviceAccount field names the account",
			template: template(func(s *corev1.PodSpec) { s.DeprecatedServiceAccount = "old" }),
			check: func(t *testing.T, pod *corev1.Pod) {
				if pod.Spec.ServiceAccountName != "old" {
					t.Errorf("serviceAccountName = %q", pod.Spec.ServiceAccountName)
				}
			},
		},
		{
			name:     "the pod turns automount off",
			template: template(func(s *corev1.PodSpec) { s.AutomountServiceAccountToken = &no }),
			check:    noTokenVolume,
		},
		{
			name:     "the service account turns automount off",
			template: template(nil),
			sa:       &corev1.ServiceAccount{AutomountServiceAccountToken: &no},
			check:    noTokenVolume,
		},
		{
			name: "containers that already mount the token path get no token volume",
			template: template(func(s *corev1.PodSpec) {
				own := corev1.VolumeMount{Name: "own", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
				s.InitContainers[0].VolumeMounts = []corev1.VolumeMount{own}
				s.Containers[0].VolumeMounts = []corev1.VolumeMount{own}
			}),
			check: noTokenVolume,
		},
		{
			name:     "a mirror pod gets neither a service account nor a token",
			template: mirrored(template(nil)),
			check: func(t *testing.T, pod *corev1.Pod) {
				if pod.Spec.ServiceAccountName != "" || len(pod.Spec.Volumes) != 0 {
					t.Errorf("mirror pod got service account %q, volumes %+v", pod.Spec.ServiceAccountName, pod.Spec.Volumes)
				}
			},
		},
		{
			name:     "with hostNetwork, container ports default their host ports",
			template: template(func(s *corev1.PodSpec) { s.HostNetwork = true }),
			check: func(t *testing.T, pod *corev1.Pod) {
				ports := pod.Spec.Containers[0].Ports
				if ports[0].HostPort != 9100 || ports[1].HostPort != 8080 {
					t.Errorf("ports = %+v, want hostPort 9100 defaulted and 8080 kept", ports)
				}
			},
		},
		{
			name:     "without hostNetwork, host ports stay unset",
			template: template(nil),
			check: func(t *testing.T, pod *corev1.Pod) {
				if pod.Spec.Containers[0].Ports[0].HostPort != 0 {
					t.Errorf("ports = %+v", pod.Spec.Containers[0].Ports)
				}
			},
		},
		{
			name: "a volume without a source is an emptyDir",
			template: template(func(s *corev1.PodSpec) {
				s.Volumes = []corev1.Volume{{Name: "scratch"}}
				s.AutomountServiceAccountToken = &no
			}),
			check: func(t *testing.T, pod *corev1.Pod) {
				if pod.Spec.Volumes[0].EmptyDir == nil || pod.Spec.SecurityContext == nil {
					t.Errorf("volume %+v, pod security context %v", pod.Spec.Volumes[0], pod.Spec.SecurityContext)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			original := tt.template.DeepCopy()
			pod := AdmissionPod("app", tt.template, tt.sa)
			if pod.Namespace != "app" {
				t.Errorf("namespace = %q", pod.Namespace)
			}
			tt.check(t, pod)
			if !reflect.DeepEqual(tt.template, original) {
				t.Errorf("AdmissionPod modified the template")
			}
		})
	}
}

func mirrored(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	t.Annotations = map[string]string{MirrorPodAnnotation: "0123456789abcdef"}
	return t
}

func noTokenVolume(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") {
			t.Errorf("token volume added: %+v", pod.Spec.Volumes)
		}
	}
}

// TestSelectSeesWhatTheServerAdds: PSP checked pods after API defaulting
// and the ServiceAccount plugin, so a PSP without projected volumes or
// without host ports rejected pods whose manifests show neither.
func TestSelectSeesWhatTheServerAdds(t *testing.T) {
	no := false
	secretsOnly := namedPolicy("secrets-only", func(s *PodSecurityPolicySpec) { s.Volumes = []FSType{Secret} })
	configMapsOnly := namedPolicy("configmaps-only", func(s *PodSecurityPolicySpec) { s.Volumes = []FSType{ConfigMap} })
	hostNetworkNoPorts := namedPolicy("host-network", func(s *PodSecurityPolicySpec) { s.HostPorts = nil })
	tests := []struct {
		name     string
		policy   *PodSecurityPolicy
		template corev1.PodTemplateSpec
		want     string
	}{
		{"the token volume is projected, which a PSP without projected or secret rejects", configMapsOnly,
			corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}, ""},
		{"without the token that PSP admits the pod", configMapsOnly,
			corev1.PodTemplateSpec{Spec: corev1.PodSpec{AutomountServiceAccountToken: &no, Containers: []corev1.Container{{Name: "c"}}}}, "configmaps-only"},
		{"a PSP that allows secret volumes allows the projected token volume (1.24's exception)", secretsOnly,
			corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}, "secrets-only"},
		{"a hostNetwork pod's container port is a host port the PSP must allow", hostNetworkNoPorts,
			corev1.PodTemplateSpec{Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 9100}}}}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Select([]*PodSecurityPolicy{tt.policy}, AdmissionPod("app", &tt.template, nil), allowAll)
			if d.Policy != tt.want {
				t.Errorf("Select = %q, want %q (rejections %+v)", d.Policy, tt.want, d.Rejections)
			}
		})
	}
}
