package nslabels

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/psp2psa/psp2psa/plan"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// fakeNamespaces is an in-memory namespaces API with the behaviour the
// Labeler relies on: dry runs persist nothing, a merge patch's
// resourceVersion is a precondition, and responses carry warnings. The e2e
// tests check the same behaviour against a real apiserver.
type fakeNamespaces struct {
	objects map[string]*corev1.Namespace
	// warnings are returned by every dry-run patch of the namespace.
	warnings map[string][]string
	// interfere runs once, before the first real patch of the namespace:
	// someone else changes the namespace between our read and our patch.
	interfere map[string]func(*corev1.Namespace)
	// fail makes patches of the namespace fail.
	fail  map[string]error
	calls []string // "get ns", "dry-run ns", "patch ns"
}

func newFake(namespaces ...*corev1.Namespace) *fakeNamespaces {
	f := &fakeNamespaces{objects: map[string]*corev1.Namespace{}, warnings: map[string][]string{},
		interfere: map[string]func(*corev1.Namespace){}, fail: map[string]error{}}
	for _, ns := range namespaces {
		ns.ResourceVersion = "1"
		f.objects[ns.Name] = ns
	}
	return f
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

var namespacesResource = schema.GroupResource{Resource: "namespaces"}

func (f *fakeNamespaces) Get(_ context.Context, name string, _ metav1.GetOptions) (*corev1.Namespace, error) {
	f.calls = append(f.calls, "get "+name)
	ns, ok := f.objects[name]
	if !ok {
		return nil, apierrors.NewNotFound(namespacesResource, name)
	}
	return ns.DeepCopy(), nil
}

func (f *fakeNamespaces) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, _ ...string) (*corev1.Namespace, error) {
	dryRun := reflect.DeepEqual(opts.DryRun, []string{metav1.DryRunAll})
	verb := map[bool]string{true: "dry-run ", false: "patch "}[dryRun]
	f.calls = append(f.calls, verb+name)
	if pt != types.MergePatchType || opts.FieldManager != FieldManager {
		return nil, fmt.Errorf("unexpected patch type %s or field manager %q", pt, opts.FieldManager)
	}
	ns, ok := f.objects[name]
	if !ok {
		return nil, apierrors.NewNotFound(namespacesResource, name)
	}
	if err := f.fail[name]; err != nil {
		return nil, err
	}
	if hook := f.interfere[name]; hook != nil && !dryRun {
		delete(f.interfere, name)
		hook(ns)
		bump(ns)
	}
	var patch struct {
		Metadata struct {
			Labels          map[string]string `json:"labels"`
			ResourceVersion string            `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &patch); err != nil {
		return nil, err
	}
	if rv := patch.Metadata.ResourceVersion; rv != "" && rv != ns.ResourceVersion {
		return nil, apierrors.NewConflict(namespacesResource, name, fmt.Errorf("resourceVersion %s is stale", rv))
	}
	out := ns.DeepCopy()
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	for k, v := range patch.Metadata.Labels {
		out.Labels[k] = v
	}
	if dryRun {
		for _, w := range f.warnings[name] {
			warningRouter{}.HandleWarningHeaderWithContext(ctx, 299, "-", w)
		}
		return out, nil
	}
	bump(out)
	f.objects[name] = out
	return out.DeepCopy(), nil
}

func bump(ns *corev1.Namespace) {
	rv, _ := strconv.Atoi(ns.ResourceVersion)
	ns.ResourceVersion = strconv.Itoa(rv + 1)
}

var restrictedLabels = map[string]string{enforce: "restricted", enforceVersion: "v1.37", warn: "restricted"}

func TestRun(t *testing.T) {
	t.Run("dry run changes nothing and reports what it would set", func(t *testing.T) {
		f := newFake(namespace("shop", map[string]string{"team": "shop"}))
		r := (&Labeler{namespaces: f}).Run(context.Background(), []Target{{"shop", restrictedLabels}}, Options{})
		res := r.Namespaces[0]
		if res.Status != DryRun || res.Applied || len(ToSet(res.Labels)) != 3 {
			t.Errorf("result = %+v, want dry-run of 3 labels", res)
		}
		if want := map[string]string{"team": "shop"}; !reflect.DeepEqual(f.objects["shop"].Labels, want) {
			t.Errorf("labels after a dry run = %v, want %v", f.objects["shop"].Labels, want)
		}
		wantCalls(t, f, "get shop", "dry-run shop")
	})

	t.Run("apply dry-runs every namespace before the first real patch", func(t *testing.T) {
		f := newFake(namespace("a", nil), namespace("b", nil))
		r := (&Labeler{namespaces: f}).Run(context.Background(),
			[]Target{{"a", restrictedLabels}, {"b", restrictedLabels}}, Options{Apply: true})
		wantCalls(t, f, "get a", "dry-run a", "get b", "dry-run b", "patch a", "patch b")
		for _, res := range r.Namespaces {
			if res.Status != Applied || !res.Applied {
				t.Errorf("%s: %+v, want applied", res.Namespace, res)
			}
			if got := f.objects[res.Namespace].Labels; !reflect.DeepEqual(got, restrictedLabels) {
				t.Errorf("%s labels = %v, want %v", res.Namespace, got, restrictedLabels)
			}
		}
	})

	t.Run("a second run sends no patch", func(t *testing.T) {
		f := newFake(namespace("shop", nil))
		l := &Labeler{namespaces: f}
		l.Run(context.Background(), []Target{{"shop", restrictedLabels}}, Options{Apply: true})
		f.calls = nil
		r := l.Run(context.Background(), []Target{{"shop", restrictedLabels}}, Options{Apply: true, Overwrite: true})
		if res := r.Namespaces[0]; res.Status != Unchanged || res.Applied {
			t.Errorf("second run: %+v, want unchanged", res)
		}
		wantCalls(t, f, "get shop")
	})

	t.Run("a missing namespace is reported, not created", func(t *testing.T) {
		f := newFake()
		r := (&Labeler{namespaces: f}).Run(context.Background(), []Target{{"gone", restrictedLabels}}, Options{Apply: true})
		if res := r.Namespaces[0]; res.Status != Missing || res.Error != "" {
			t.Errorf("result = %+v, want missing", res)
		}
		if len(f.objects) != 0 {
			t.Errorf("namespaces created: %v", f.objects)
		}
		wantCalls(t, f, "get gone")
	})

	t.Run("warnings stay with the namespace whose dry run returned them", func(t *testing.T) {
		f := newFake(namespace("a", nil), namespace("b", nil))
		f.warnings["b"] = []string{`existing pods in namespace "b" violate the new PodSecurity enforce level "restricted:v1.37"`, "web: runAsNonRoot != true"}
		r := (&Labeler{namespaces: f}).Run(context.Background(),
			[]Target{{"a", restrictedLabels}, {"b", restrictedLabels}}, Options{})
		if got := r.Namespaces[0].Warnings; len(got) != 0 {
			t.Errorf("a: warnings %q, want none", got)
		}
		if got := r.Namespaces[1].Warnings; !reflect.DeepEqual(got, f.warnings["b"]) {
			t.Errorf("b: warnings %q, want %q", got, f.warnings["b"])
		}
		if r.WithWarnings() != 1 {
			t.Errorf("WithWarnings = %d, want 1", r.WithWarnings())
		}
	})

	t.Run("hold on warnings applies nothing anywhere", func(t *testing.T) {
		f := newFake(namespace("a", nil), namespace("b", nil))
		f.warnings["b"] = []string{"web: privileged"}
		r := (&Labeler{namespaces: f}).Run(context.Background(),
			[]Target{{"a", restrictedLabels}, {"b", restrictedLabels}}, Options{Apply: true, HoldOnWarnings: true})
		for _, res := range r.Namespaces {
			if res.Status != Held || res.Applied {
				t.Errorf("%s: %+v, want held", res.Namespace, res)
			}
		}
		wantCalls(t, f, "get a", "dry-run a", "get b", "dry-run b")
	})

	t.Run("a conflict re-reads the namespace and keeps what changed meanwhile", func(t *testing.T) {
		f := newFake(namespace("shop", nil))
		f.interfere["shop"] = func(ns *corev1.Namespace) { ns.Labels = map[string]string{enforce: "privileged"} }
		r := (&Labeler{namespaces: f}).Run(context.Background(), []Target{{"shop", restrictedLabels}}, Options{Apply: true})
		res := r.Namespaces[0]
		if res.Status != Applied {
			t.Fatalf("result = %+v, want applied after the retry", res)
		}
		want := map[string]string{enforce: "privileged", enforceVersion: "v1.37", warn: "restricted"}
		if got := f.objects["shop"].Labels; !reflect.DeepEqual(got, want) {
			t.Errorf("labels = %v, want %v (the value set meanwhile kept)", got, want)
		}
		if res.Labels[0].Action != Keep {
			t.Errorf("report of %s = %+v, want keep", enforce, res.Labels[0])
		}
		wantCalls(t, f, "get shop", "dry-run shop", "patch shop", "get shop", "dry-run shop", "patch shop")
	})

	t.Run("a failed patch fails that namespace only", func(t *testing.T) {
		f := newFake(namespace("a", nil), namespace("b", nil))
		f.fail["a"] = apierrors.NewForbidden(namespacesResource, "a", fmt.Errorf("no patch for you"))
		r := (&Labeler{namespaces: f}).Run(context.Background(),
			[]Target{{"a", restrictedLabels}, {"b", restrictedLabels}}, Options{Apply: true})
		if res := r.Namespaces[0]; res.Status != Failed || res.Error == "" {
			t.Errorf("a: %+v, want failed with an error", res)
		}
		if res := r.Namespaces[1]; res.Status != Applied {
			t.Errorf("b: %+v, want applied", res)
		}
		if r.Count(Failed) != 1 || r.Count(Applied) != 1 {
			t.Errorf("counts: failed %d applied %d", r.Count(Failed), r.Count(Applied))
		}
	})
}

func wantCalls(t *testing.T, f *fakeNamespaces, want ...string) {
	t.Helper()
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("API calls = %q, want %q", f.calls, want)
	}
}

func TestTargets(t *testing.T) {
	p := &plan.Plan{Namespaces: []plan.Namespace{
		{Name: "kube-system", Labels: map[string]string{}, System: true},
		{Name: "shop", Labels: restrictedLabels},
		{Name: "batch", Labels: map[string]string{enforce: "baseline"}},
	}}
	targets, skipped := Targets(p)
	want := []Target{{"shop", restrictedLabels}, {"batch", map[string]string{enforce: "baseline"}}}
	if !reflect.DeepEqual(targets, want) || !reflect.DeepEqual(skipped, []string{"kube-system"}) {
		t.Errorf("Targets = %+v, skipped %v; want %+v, [kube-system]", targets, skipped, want)
	}
}
