package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// Admission policies keep, after the upgrade, what no Pod Security level
// expresses (psp2psa plan --write-dir writes them), and review counts
// those in the cluster as it counts those given as manifests. A plan
// needs none of them, and a cluster serves them only when it is recent
// enough (ValidatingAdmissionPolicy) or runs the engine (Kyverno,
// Gatekeeper): they are read where discovery finds them, and a kind that
// cannot be read is a warning, not a gap in the plan's input.
var (
	admissionRegistration = "admissionregistration.k8s.io"
	// ValidatingAdmissionPolicy: v1 from 1.30, v1beta1 from 1.28 and
	// v1alpha1 from 1.26 when enabled.
	vapVersions = []string{"v1", "v1beta1", "v1alpha1"}

	admissionPolicies = []resource{
		{"ValidatingAdmissionPolicy", "validatingadmissionpolicies", false, groupVersions(admissionRegistration, vapVersions...)},
		{"ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", false, groupVersions(admissionRegistration, vapVersions...)},
		{"ClusterPolicy", "clusterpolicies", false, groupVersions("kyverno.io", "v1")},
		{"Policy", "policies", true, groupVersions("kyverno.io", "v1")},
	}

	// Every Gatekeeper Constraint kind is its own resource, made from
	// its ConstraintTemplate: those the cluster has are all read.
	constraintsGroup    = "constraints.gatekeeper.sh"
	constraintsVersions = []string{"v1beta1", "v1"}
)

func groupVersions(group string, versions ...string) []schema.GroupVersion {
	out := make([]schema.GroupVersion, len(versions))
	for i, v := range versions {
		out[i] = schema.GroupVersion{Group: group, Version: v}
	}
	return out
}

// discovery answers which resources a server serves, asking once per
// group/version.
type discovery struct {
	rc     rest.Interface
	retry  *retrier
	groups map[string][]string // group: served versions
	served map[schema.GroupVersion][]metav1.APIResource
}

// admissionPolicyKinds are the admission policy resources the server
// serves, each with the one group/version to read it at.
func admissionPolicyKinds(ctx context.Context, rc rest.Interface, retry *retrier) ([]resource, error) {
	d := &discovery{rc: rc, retry: retry, served: map[schema.GroupVersion][]metav1.APIResource{}}
	if err := d.readGroups(ctx); err != nil {
		return nil, err
	}
	var out []resource
	for _, r := range admissionPolicies {
		for _, gv := range r.versions {
			found, err := d.serves(ctx, gv, r.plural)
			if err != nil {
				return nil, err
			}
			if found {
				r.versions = []schema.GroupVersion{gv}
				out = append(out, r)
				break
			}
		}
	}
	constraints, err := d.constraints(ctx)
	return append(out, constraints...), err
}

// constraints are the Constraint kinds of the first served version.
func (d *discovery) constraints(ctx context.Context) ([]resource, error) {
	for _, v := range constraintsVersions {
		gv := schema.GroupVersion{Group: constraintsGroup, Version: v}
		list, err := d.resources(ctx, gv)
		if err != nil || list == nil {
			return nil, err
		}
		var out []resource
		for _, r := range list {
			if !strings.Contains(r.Name, "/") { // not a subresource
				out = append(out, resource{r.Kind, r.Name, r.Namespaced, []schema.GroupVersion{gv}})
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, nil
}

// readGroups reads the server's API groups and their versions.
func (d *discovery) readGroups(ctx context.Context) error {
	var groups metav1.APIGroupList
	found, err := d.get(ctx, "/apis", &groups)
	if err != nil || !found {
		return err
	}
	d.groups = map[string][]string{}
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			d.groups[g.Name] = append(d.groups[g.Name], v.Version)
		}
	}
	return nil
}

// serves tells whether gv serves the resource plural.
func (d *discovery) serves(ctx context.Context, gv schema.GroupVersion, plural string) (bool, error) {
	list, err := d.resources(ctx, gv)
	return slices.ContainsFunc(list, func(r metav1.APIResource) bool { return r.Name == plural }), err
}

// resources are the resources gv serves; nil when the server does not
// serve gv at all.
func (d *discovery) resources(ctx context.Context, gv schema.GroupVersion) ([]metav1.APIResource, error) {
	if !slices.Contains(d.groups[gv.Group], gv.Version) {
		return nil, nil
	}
	if list, ok := d.served[gv]; ok {
		return list, nil
	}
	var list metav1.APIResourceList
	if _, err := d.get(ctx, "/apis/"+gv.String(), &list); err != nil {
		return nil, err
	}
	d.served[gv] = list.APIResources
	return list.APIResources, nil
}

// get reads one discovery document into v; found is false when the
// server has none there.
func (d *discovery) get(ctx context.Context, path string, v any) (found bool, err error) {
	_, err = d.retry.do(ctx, func(ctx context.Context) error {
		raw, err := d.rc.Get().AbsPath(path).Do(ctx).Raw()
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, v)
	})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("discovering the admission policies (%s): %w", path, err)
	}
	return true, nil
}
