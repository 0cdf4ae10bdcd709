// Package inventory sorts a cluster's objects, read as manifest.Documents,
// into what a PodSecurityPolicy migration needs: namespaces, service
// accounts, the RBAC that grants PSP "use", and every pod template
// (bare Pods and the templates of all controller kinds).
//
// Old API versions decode into today's types: their JSON is the same for
// the parts that matter here (rbac v1alpha1/v1beta1 into rbac/v1; the
// extensions/v1beta1 and apps/v1beta1/v1beta2 controllers into the apps/v1
// shapes; batch/v1beta1 CronJob into batch/v1). PodSecurityPolicies are
// left to psp.FromDocuments; every other kind is counted and skipped.
package inventory

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/psp2psa/psp2psa/manifest"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	sigsjson "sigs.k8s.io/json"
)

// DefaultNamespace is where namespaced objects without a namespace go
// when the caller names none, as for kubectl.
const DefaultNamespace = "default"

// ErrDuplicate marks an object that appears more than once in the input;
// the later one replaces the earlier, as applying the files in order would.
var ErrDuplicate = errors.New("duplicate object")

// Inventory is what the input says the cluster holds.
type Inventory struct {
	Namespaces      []corev1.Namespace
	ServiceAccounts []corev1.ServiceAccount
	Roles           []rbacv1.Role
	// ClusterRoles have their aggregationRule resolved: an aggregating
	// ClusterRole holds the rules of every ClusterRole its selectors match,
	// as the clusterrole-aggregation controller would have written them.
	ClusterRoles        []rbacv1.ClusterRole
	RoleBindings        []rbacv1.RoleBinding
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	// Workloads are the bare Pods and controllers, in input order.
	Workloads []Workload
	// Unknown counts the objects of kinds the inventory does not keep, by
	// "apiVersion/kind".
	Unknown map[string]int
	// Incomplete names what the reading of a cluster could not see, as
	// recorded with the objects (a snapshot's IncompleteAnnotation; the
	// caller adds a live read's): a plan from them is incomplete.
	Incomplete []string
	// Warnings are the warnings of that read, recorded the same way
	// (WarningsAnnotation).
	Warnings []string
	// ServerVersion is the version of the cluster a snapshot was read
	// from (ServerVersionAnnotation), "" when the input does not say.
	ServerVersion string
}

// NamespaceNames returns every namespace the input declares or puts an
// object in, sorted.
func (inv *Inventory) NamespaceNames() []string {
	seen := map[string]bool{}
	for i := range inv.Namespaces {
		seen[inv.Namespaces[i].Name] = true
	}
	for i := range inv.ServiceAccounts {
		seen[inv.ServiceAccounts[i].Namespace] = true
	}
	for i := range inv.Roles {
		seen[inv.Roles[i].Namespace] = true
	}
	for i := range inv.RoleBindings {
		seen[inv.RoleBindings[i].Namespace] = true
	}
	for i := range inv.Workloads {
		seen[inv.Workloads[i].Namespace] = true
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// API groups, as the group part of apiVersion spells them.
const (
	groupCore       = ""
	groupApps       = "apps"
	groupExtensions = "extensions"
	groupBatch      = "batch"
	groupRBAC       = "rbac.authorization.k8s.io"
	groupPolicy     = "policy"
)

// kindHandler decodes one kind into the inventory.
type kindHandler struct {
	groups     []string
	namespaced bool
	add        func(b *builder, d *manifest.Document) error
}

var handlers = map[string]kindHandler{
	"Namespace":          {groups: []string{groupCore}, add: addNamespace},
	"ServiceAccount":     {groups: []string{groupCore}, namespaced: true, add: addServiceAccount},
	"Role":               {groups: []string{groupRBAC}, namespaced: true, add: addRole},
	"ClusterRole":        {groups: []string{groupRBAC}, add: addClusterRole},
	"RoleBinding":        {groups: []string{groupRBAC}, namespaced: true, add: addRoleBinding},
	"ClusterRoleBinding": {groups: []string{groupRBAC}, add: addClusterRoleBinding},

	"Pod":                   {groups: []string{groupCore}, namespaced: true, add: addWorkload},
	"ReplicationController": {groups: []string{groupCore}, namespaced: true, add: addWorkload},
	"Deployment":            {groups: []string{groupApps, groupExtensions}, namespaced: true, add: addWorkload},
	"ReplicaSet":            {groups: []string{groupApps, groupExtensions}, namespaced: true, add: addWorkload},
	"DaemonSet":             {groups: []string{groupApps, groupExtensions}, namespaced: true, add: addWorkload},
	"StatefulSet":           {groups: []string{groupApps}, namespaced: true, add: addWorkload},
	"Job":                   {groups: []string{groupBatch}, namespaced: true, add: addWorkload},
	"CronJob":               {groups: []string{groupBatch}, namespaced: true, add: addWorkload},
}

// pspGroups serve PodSecurityPolicy, which psp.FromDocuments reads.
var pspGroups = []string{groupPolicy, groupExtensions}

// FromDocuments sorts the documents into an inventory. Namespaced objects
// without a namespace go to defaultNamespace ("default" when empty). The
// errors are *manifest.Error values: objects that do not decode (skipped)
// and duplicates (wrapping ErrDuplicate; the later object is kept).
func FromDocuments(docs []manifest.Document, defaultNamespace string) (*Inventory, []error) {
	if defaultNamespace == "" {
		defaultNamespace = DefaultNamespace
	}
	b := newBuilder()
	for i := range docs {
		d := docs[i] // a copy: the namespace may be defaulted
		if d.ListAnnotations != nil {
			b.addListNotes(&d)
		}
		group := apiGroup(d.APIVersion)
		if d.Kind == "PodSecurityPolicy" && containsString(pspGroups, group) {
			continue
		}
		h, ok := handlers[d.Kind]
		if !ok || !containsString(h.groups, group) {
			b.inv.Unknown[d.APIVersion+"/"+d.Kind]++
			continue
		}
		if h.namespaced && d.Namespace == "" {
			d.Namespace = defaultNamespace
		}
		if !h.namespaced {
			d.Namespace = ""
		}
		if err := h.add(b, &d); err != nil {
			b.errs = append(b.errs, decodeError(&d, err))
		}
	}
	b.markOwned()
	b.errs = append(b.errs, b.aggregate()...)
	return b.finish(), b.errs
}

func apiGroup(apiVersion string) string {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		return groupCore
	}
	return group
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decode reads a document's JSON the way the apiserver does: field names
// are case-sensitive, unknown fields are ignored.
func decode(d *manifest.Document, into any) error {
	return sigsjson.UnmarshalCaseSensitivePreserveInts(d.Raw, into)
}

// decodeError places an error in its document and, for a JSON type
// mismatch, at its field.
func decodeError(d *manifest.Document, err error) *manifest.Error {
	var located *manifest.Error
	if errors.As(err, &located) {
		return located
	}
	return &manifest.Error{Source: d.Source, Object: d.Object(), Field: jsonErrorField(err), Err: err}
}

// jsonErrorField returns the field path of a JSON type error. The decoder's
// error type lives in an internal package of sigs.k8s.io/json, so its
// exported Field is read by reflection.
func jsonErrorField(err error) string {
	v := reflect.ValueOf(err)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	if !strings.HasSuffix(v.Elem().Type().Name(), "UnmarshalTypeError") {
		return ""
	}
	f := v.Elem().FieldByName("Field")
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// objectKey identifies an object across API versions: old and new versions
// of one kind in one group name the same object.
type objectKey struct {
	kind, namespace, name string
}

// builder accumulates the inventory; duplicates are replaced in place so
// that the input order is kept.
type builder struct {
	inv  *Inventory
	errs []error
	// index maps an object to its position in its kind's slice, and where
	// it was read.
	index map[objectKey]placed
	// clusterRoleSources are aligned with inv.ClusterRoles, for
	// aggregation errors.
	clusterRoleSources []manifest.Document
	// workloadUIDs are aligned with inv.Workloads, to match owner
	// references by UID where both sides have one.
	workloadUIDs []string
	// owners are aligned with inv.Workloads: each one's controller
	// reference, resolved once every workload is read.
	owners []*ownerRef
	// lists are the Lists whose annotations were read.
	lists map[listKey]bool
}

type placed struct {
	pos    int
	source manifest.Source
}

func newBuilder() *builder {
	return &builder{
		inv:   &Inventory{Unknown: map[string]int{}},
		index: map[objectKey]placed{},
		lists: map[listKey]bool{},
	}
}

// slot returns the position for an object in a slice of length n: a new
// one at the end, or the earlier copy's position when it is a duplicate,
// which is then reported.
func (b *builder) slot(d *manifest.Document, n int) (pos int, replace bool) {
	key := objectKey{kind: d.Kind, namespace: d.Namespace, name: d.Name}
	if earlier, ok := b.index[key]; ok {
		b.errs = append(b.errs, &manifest.Error{
			Source: d.Source, Object: d.Object(),
			Err: fmt.Errorf("%w: replaces the one in %s", ErrDuplicate, earlier.source),
		})
		b.index[key] = placed{pos: earlier.pos, source: d.Source}
		return earlier.pos, true
	}
	b.index[key] = placed{pos: n, source: d.Source}
	return n, false
}

func (b *builder) finish() *Inventory {
	return b.inv
}

// addObject stores a decoded object in its kind's slice, replacing a
// duplicate.
func addObject[T any](b *builder, d *manifest.Document, list *[]T, obj T) {
	pos, replace := b.slot(d, len(*list))
	if replace {
		(*list)[pos] = obj
		return
	}
	*list = append(*list, obj)
}

func addNamespace(b *builder, d *manifest.Document) error {
	var ns corev1.Namespace
	if err := decode(d, &ns); err != nil {
		return err
	}
	ns.Namespace = ""
	addObject(b, d, &b.inv.Namespaces, ns)
	return nil
}

func addServiceAccount(b *builder, d *manifest.Document) error {
	var sa corev1.ServiceAccount
	if err := decode(d, &sa); err != nil {
		return err
	}
	sa.Namespace = d.Namespace
	addObject(b, d, &b.inv.ServiceAccounts, sa)
	return nil
}

func addRole(b *builder, d *manifest.Document) error {
	var role rbacv1.Role
	if err := decode(d, &role); err != nil {
		return err
	}
	role.Namespace = d.Namespace
	addObject(b, d, &b.inv.Roles, role)
	return nil
}

func addClusterRole(b *builder, d *manifest.Document) error {
	var role rbacv1.ClusterRole
	if err := decode(d, &role); err != nil {
		return err
	}
	role.Namespace = ""
	pos, replace := b.slot(d, len(b.inv.ClusterRoles))
	if replace {
		b.inv.ClusterRoles[pos] = role
		b.clusterRoleSources[pos] = identity(d)
		return nil
	}
	b.inv.ClusterRoles = append(b.inv.ClusterRoles, role)
	b.clusterRoleSources = append(b.clusterRoleSources, identity(d))
	return nil
}

// identity is a document without its JSON, to name it in later errors.
func identity(d *manifest.Document) manifest.Document {
	id := *d
	id.Raw = nil
	return id
}

func addRoleBinding(b *builder, d *manifest.Document) error {
	var binding rbacv1.RoleBinding
	if err := decode(d, &binding); err != nil {
		return err
	}
	binding.Namespace = d.Namespace
	addObject(b, d, &b.inv.RoleBindings, binding)
	return nil
}

func addClusterRoleBinding(b *builder, d *manifest.Document) error {
	var binding rbacv1.ClusterRoleBinding
	if err := decode(d, &binding); err != nil {
		return err
	}
	binding.Namespace = ""
	addObject(b, d, &b.inv.ClusterRoleBindings, binding)
	return nil
}
