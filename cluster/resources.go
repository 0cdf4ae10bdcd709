package cluster

import "k8s.io/apimachinery/pkg/runtime/schema"

// resource is one kind the reader lists, with the group/versions that may
// serve it, most preferred first: the next is tried only when the server
// does not serve the one before (an older or newer server).
type resource struct {
	kind       string
	plural     string
	namespaced bool
	versions   []schema.GroupVersion
}

func (r resource) groupVersionResources() []schema.GroupVersionResource {
	out := make([]schema.GroupVersionResource, len(r.versions))
	for i, gv := range r.versions {
		out[i] = gv.WithResource(r.plural)
	}
	return out
}

var (
	core       = schema.GroupVersion{Version: "v1"}
	apps       = schema.GroupVersion{Group: "apps", Version: "v1"}
	batch      = schema.GroupVersion{Group: "batch", Version: "v1"}
	batchBeta  = schema.GroupVersion{Group: "batch", Version: "v1beta1"}
	rbac       = schema.GroupVersion{Group: "rbac.authorization.k8s.io", Version: "v1"}
	policy     = schema.GroupVersion{Group: "policy", Version: "v1beta1"}
	extensions = schema.GroupVersion{Group: "extensions", Version: "v1beta1"}
)

// podSecurityPolicies were served as extensions/v1beta1 until 1.15 and as
// policy/v1beta1 from 1.10 to 1.24; k8s.io/api has no types for them any
// more, which is why every kind is read through the dynamic client.
var podSecurityPolicies = resource{"PodSecurityPolicy", "podsecuritypolicies", false, []schema.GroupVersion{policy, extensions}}

// namespaces is read with a get instead of a list when the read is
// restricted to one namespace.
var namespaces = resource{"Namespace", "namespaces", false, []schema.GroupVersion{core}}

// resources is everything Read lists, in the order the documents come
// out. Secrets are deliberately absent: nothing in a plan needs them, and
// a tool that reads them would need a far more dangerous role.
// deploy/psp2psa-reader.yaml grants exactly these (a test keeps the two in
// step).
var resources = []resource{
	podSecurityPolicies,
	{"ClusterRole", "clusterroles", false, []schema.GroupVersion{rbac}},
	{"ClusterRoleBinding", "clusterrolebindings", false, []schema.GroupVersion{rbac}},
	{"Role", "roles", true, []schema.GroupVersion{rbac}},
	{"RoleBinding", "rolebindings", true, []schema.GroupVersion{rbac}},
	namespaces,
	{"ServiceAccount", "serviceaccounts", true, []schema.GroupVersion{core}},
	{"Pod", "pods", true, []schema.GroupVersion{core}},
	{"ReplicationController", "replicationcontrollers", true, []schema.GroupVersion{core}},
	{"Deployment", "deployments", true, []schema.GroupVersion{apps}},
	{"ReplicaSet", "replicasets", true, []schema.GroupVersion{apps}},
	{"StatefulSet", "statefulsets", true, []schema.GroupVersion{apps}},
	{"DaemonSet", "daemonsets", true, []schema.GroupVersion{apps}},
	{"Job", "jobs", true, []schema.GroupVersion{batch}},
	// batch/v1 CronJob arrived in 1.21; older servers have only v1beta1.
	{"CronJob", "cronjobs", true, []schema.GroupVersion{batch, batchBeta}},
}
