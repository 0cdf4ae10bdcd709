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
	"sync"

	"github.com/psp2psa/psp2psa/internal/parallel"
	"github.com/psp2psa/psp2psa/internal/podview"
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

// kindHandler decodes one kind; the decoded object is then stored into
// the inventory in input order.
type kindHandler struct {
	groups     []string
	namespaced bool
	decode     func(d *manifest.Document, c *decodeContext) (store, error)
}

// store adds a decoded object to the inventory.
type store func(b *builder)

var handlers = map[string]kindHandler{
	"Namespace":          {groups: []string{groupCore}, decode: decodeNamespace},
	"ServiceAccount":     {groups: []string{groupCore}, namespaced: true, decode: decodeServiceAccount},
	"Role":               {groups: []string{groupRBAC}, namespaced: true, decode: decodeRole},
	"ClusterRole":        {groups: []string{groupRBAC}, decode: decodeClusterRole},
	"RoleBinding":        {groups: []string{groupRBAC}, namespaced: true, decode: decodeRoleBinding},
	"ClusterRoleBinding": {groups: []string{groupRBAC}, decode: decodeClusterRoleBinding},

	"Pod":                   {groups: []string{groupCore}, namespaced: true, decode: decodeWorkload},
	"ReplicationController": {groups: []string{groupCore}, namespaced: true, decode: decodeWorkload},
	"Deployment":            {groups: []string{groupApps, groupExtensions}, namespaced: true, decode: decodeWorkload},
	"ReplicaSet":            {groups: []string{groupApps, groupExtensions}, namespaced: true, decode: decodeWorkload},
	"DaemonSet":             {groups: []string{groupApps, groupExtensions}, namespaced: true, decode: decodeWorkload},
	"StatefulSet":           {groups: []string{groupApps}, namespaced: true, decode: decodeWorkload},
	"Job":                   {groups: []string{groupBatch}, namespaced: true, decode: decodeWorkload},
	"CronJob":               {groups: []string{groupBatch}, namespaced: true, decode: decodeWorkload},
}

// pspGroups serve PodSecurityPolicy, which psp.FromDocuments reads.
var pspGroups = []string{groupPolicy, groupExtensions}

// Options are the choices of FromDocumentsWith.
type Options struct {
	// DefaultNamespace is where namespaced objects without a namespace
	// go ("default" when empty).
	DefaultNamespace string
	// SecurityViews keeps of each workload's pod template only what PSP
	// and Pod Security admission read (podview.Of), one copy for all
	// workloads alike: all a plan needs, in a fraction of the memory.
	SecurityViews bool
	// DropJSON clears each document's Raw once it is decoded, so that a
	// large input is not held twice; a PodSecurityPolicy keeps it.
	DropJSON bool
}

// decodeContext is what the decoding of every document shares.
type decodeContext struct {
	opts Options
	// views holds one copy of each security view, when only views are
	// kept.
	mu    sync.Mutex
	views map[podview.Key]*corev1.PodTemplateSpec
}

// view is the one copy of the template's security view.
func (c *decodeContext) view(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	v := podview.Of(t)
	key, ok := podview.KeyOf(v)
	if !ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if shared, ok := c.views[key]; ok {
		return shared
	}
	c.views[key] = v
	return v
}

// FromDocuments sorts the documents into an inventory. Namespaced objects
// without a namespace go to defaultNamespace ("default" when empty). The
// errors are *manifest.Error values: objects that do not decode (skipped)
// and duplicates (wrapping ErrDuplicate; the later object is kept).
func FromDocuments(docs []manifest.Document, defaultNamespace string) (*Inventory, []error) {
	return FromDocumentsWith(docs, Options{DefaultNamespace: defaultNamespace})
}

// FromDocumentsWith is FromDocuments with options. Objects are decoded on
// all processors and added in input order.
func FromDocumentsWith(docs []manifest.Document, opts Options) (*Inventory, []error) {
	return NewDecoder(opts).Inventory(docs)
}

// Decoder decodes documents into an inventory, as FromDocumentsWith does,
// in two steps: Decode, for each document as soon as it is read (see
// manifest.ReadOptions.Each), then Inventory, once all are read.
type Decoder struct {
	c *decodeContext
}

// NewDecoder returns a decoder with the options.
func NewDecoder(opts Options) *Decoder {
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = DefaultNamespace
	}
	c := &decodeContext{opts: opts}
	if opts.SecurityViews {
		c.views = map[podview.Key]*corev1.PodTemplateSpec{}
	}
	return &Decoder{c: c}
}

// Decode decodes one document into d.Decoded (and with DropJSON drops
// its JSON, unless it is a PodSecurityPolicy, which psp reads, or of a
// kind the inventory does not keep, which others may read: admission
// policies that keep what PSS cannot express, say). It is safe for
// concurrent use.
func (dec *Decoder) Decode(d *manifest.Document) {
	dd := decodeDocument(*d, dec.c)
	d.Decoded = &dd
	if dec.c.opts.DropJSON && !dd.policy && !dd.unknown {
		d.Raw = nil
	}
}

// Inventory sorts the documents into an inventory, decoding those not
// decoded yet, and adds them in input order.
func (dec *Decoder) Inventory(docs []manifest.Document) (*Inventory, []error) {
	parallel.For(len(docs), func(i int) {
		if _, ok := docs[i].Decoded.(*decodedDocument); !ok {
			dec.Decode(&docs[i])
		}
	})
	b := newBuilder()
	for i := range docs {
		if docs[i].ListAnnotations != nil {
			b.addListNotes(&docs[i])
		}
		dd := docs[i].Decoded.(*decodedDocument)
		switch {
		case dd.policy:
		case dd.unknown:
			b.inv.Unknown[docs[i].APIVersion+"/"+docs[i].Kind]++
		case dd.err != nil:
			b.errs = append(b.errs, decodeError(dd.doc, dd.err))
		default:
			dd.store(b)
		}
		docs[i].Decoded = nil // what is stored is all that stays
	}
	b.markOwned()
	b.assumeBootstrapAggregators()
	b.errs = append(b.errs, b.aggregate()...)
	return b.finish(), b.errs
}

// decodedDocument is one document decoded: a PSP (read elsewhere), a kind
// the inventory does not keep, an error, or what to store.
type decodedDocument struct {
	doc     *manifest.Document // with an error: namespace defaulted, without its JSON
	policy  bool
	unknown bool
	err     error
	store   store
}

func decodeDocument(d manifest.Document, c *decodeContext) decodedDocument {
	group := apiGroup(d.APIVersion)
	if d.Kind == "PodSecurityPolicy" && containsString(pspGroups, group) {
		return decodedDocument{policy: true}
	}
	h, ok := handlers[d.Kind]
	if !ok || !containsString(h.groups, group) {
		return decodedDocument{unknown: true}
	}
	if h.namespaced && d.Namespace == "" {
		d.Namespace = c.opts.DefaultNamespace
	}
	if !h.namespaced {
		d.Namespace = ""
	}
	s, err := h.decode(&d, c)
	d.Raw = nil
	if err != nil {
		return decodedDocument{doc: &d, err: err}
	}
	return decodedDocument{store: s}
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

func decodeNamespace(d *manifest.Document, _ *decodeContext) (store, error) {
	var ns corev1.Namespace
	if err := decode(d, &ns); err != nil {
		return nil, err
	}
	ns.Namespace = ""
	id := identity(d)
	return func(b *builder) { addObject(b, &id, &b.inv.Namespaces, ns) }, nil
}

func decodeServiceAccount(d *manifest.Document, _ *decodeContext) (store, error) {
	var sa corev1.ServiceAccount
	if err := decode(d, &sa); err != nil {
		return nil, err
	}
	sa.Namespace = d.Namespace
	id := identity(d)
	return func(b *builder) { addObject(b, &id, &b.inv.ServiceAccounts, sa) }, nil
}

func decodeRole(d *manifest.Document, _ *decodeContext) (store, error) {
	var role rbacv1.Role
	if err := decode(d, &role); err != nil {
		return nil, err
	}
	role.Namespace = d.Namespace
	id := identity(d)
	return func(b *builder) { addObject(b, &id, &b.inv.Roles, role) }, nil
}

func decodeClusterRole(d *manifest.Document, _ *decodeContext) (store, error) {
	var role rbacv1.ClusterRole
	if err := decode(d, &role); err != nil {
		return nil, err
	}
	role.Namespace = ""
	id := identity(d)
	return func(b *builder) {
		pos, replace := b.slot(&id, len(b.inv.ClusterRoles))
		if replace {
			b.inv.ClusterRoles[pos] = role
			b.clusterRoleSources[pos] = id
			return
		}
		b.inv.ClusterRoles = append(b.inv.ClusterRoles, role)
		b.clusterRoleSources = append(b.clusterRoleSources, id)
	}, nil
}

// identity is a document without its JSON, to name it in later errors.
func identity(d *manifest.Document) manifest.Document {
	id := *d
	id.Raw = nil
	return id
}

func decodeRoleBinding(d *manifest.Document, _ *decodeContext) (store, error) {
	var binding rbacv1.RoleBinding
	if err := decode(d, &binding); err != nil {
		return nil, err
	}
	binding.Namespace = d.Namespace
	id := identity(d)
	return func(b *builder) { addObject(b, &id, &b.inv.RoleBindings, binding) }, nil
}

func decodeClusterRoleBinding(d *manifest.Document, _ *decodeContext) (store, error) {
	var binding rbacv1.ClusterRoleBinding
	if err := decode(d, &binding); err != nil {
		return nil, err
	}
	binding.Namespace = ""
	id := identity(d)
	return func(b *builder) { addObject(b, &id, &b.inv.ClusterRoleBindings, binding) }, nil
}
