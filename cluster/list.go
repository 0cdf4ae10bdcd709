package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/psp2psa/psp2psa/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// outcome is what listing one kind gave: its documents, or why there are
// none.
type outcome struct {
	docs []manifest.Document
	// version is the group/version that served the kind.
	version string
	// forbidden is the server's refusal; the kind is then missing.
	forbidden error
	// notServed: no group/version of the kind exists on the server.
	notServed bool
}

// listConcurrently lists the kinds, at most opts.Concurrency at a time,
// starting them in the order given, and returns their outcomes in that
// order. The first hard error cancels the rest.
func listConcurrently(parent context.Context, dyn dynamic.Interface, kinds []resource, opts Options) ([]outcome, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	prog := newProgress(opts.Progress, len(kinds))
	defer prog.clear()
	outcomes := make([]outcome, len(kinds))
	errs := make([]error, len(kinds))
	next := make(chan int)
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Go(func() {
			for i := range next {
				l := lister{dyn: dyn, kind: kinds[i], opts: opts, prog: prog}
				if outcomes[i], errs[i] = l.list(ctx); errs[i] != nil {
					cancel()
				}
				prog.done()
			}
		})
	}
dispatch:
	for i := range kinds {
		select {
		case next <- i:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(next)
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	// Cancelled before every kind was started: not a complete read.
	return outcomes, parent.Err()
}

// firstError prefers a real failure to the cancellations it caused in
// the other goroutines.
func firstError(errs []error) error {
	var canceled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			if canceled == nil {
				canceled = err
			}
		default:
			return err
		}
	}
	return canceled
}

// lister lists one kind.
type lister struct {
	dyn  dynamic.Interface
	kind resource
	opts Options
	prog *progress
}

// list tries the kind's group/versions in order; a 404 means that one is
// not served here and the next is tried.
func (l *lister) list(ctx context.Context) (outcome, error) {
	for _, gvr := range l.kind.groupVersionResources() {
		docs, err := l.listVersion(ctx, gvr)
		version := gvr.GroupVersion().String()
		switch {
		case err == nil:
			return outcome{docs: docs, version: version}, nil
		case apierrors.IsNotFound(err) && !l.single():
			continue
		case apierrors.IsNotFound(err):
			return outcome{}, fmt.Errorf("namespace %q: %w", l.opts.Namespace, ErrNamespaceNotFound)
		case apierrors.IsForbidden(err):
			return outcome{version: version, forbidden: err}, nil
		default:
			return outcome{}, fmt.Errorf("reading %s: %w", l.describe(gvr), err)
		}
	}
	return outcome{notServed: true}, nil
}

// single is true for the one namespace of a read restricted to it: it is
// fetched by name rather than listed.
func (l *lister) single() bool {
	return l.kind.plural == namespaces.plural && l.opts.Namespace != ""
}

func (l *lister) describe(gvr schema.GroupVersionResource) string {
	what := gvr.GroupVersion().String() + " " + gvr.Resource
	if l.kind.namespaced && l.opts.Namespace != "" {
		what += " in namespace " + l.opts.Namespace
	}
	return what
}

func (l *lister) listVersion(ctx context.Context, gvr schema.GroupVersionResource) ([]manifest.Document, error) {
	client := l.dyn.Resource(gvr)
	if l.single() {
		obj, err := client.Get(ctx, l.opts.Namespace, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		doc, err := document(obj, gvr.GroupVersion(), l.kind.kind)
		if err != nil {
			return nil, err
		}
		return []manifest.Document{doc}, nil
	}
	var ri dynamic.ResourceInterface = client
	if l.kind.namespaced && l.opts.Namespace != "" {
		ri = client.Namespace(l.opts.Namespace)
	}
	return l.listPages(ctx, ri, gvr.GroupVersion())
}

// listPages pages through one list. When the continue token expires (the
// list took longer than etcd keeps old revisions) the pages so far are
// dropped and the kind is read again in one request, as kubectl's pager
// does, so the documents stay one consistent view.
func (l *lister) listPages(ctx context.Context, ri dynamic.ResourceInterface, gv schema.GroupVersion) ([]manifest.Document, error) {
	var docs []manifest.Document
	opts := metav1.ListOptions{Limit: l.opts.PageSize}
	for {
		list, err := ri.List(ctx, opts)
		if apierrors.IsResourceExpired(err) && opts.Continue != "" {
			docs, opts = nil, metav1.ListOptions{}
			continue
		}
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			doc, err := document(&list.Items[i], gv, l.kind.kind)
			if err != nil {
				return nil, err
			}
			docs = append(docs, doc)
		}
		next := list.GetContinue()
		l.prog.update(l.kind.plural, len(docs), expectedTotal(len(docs), next, list.GetRemainingItemCount()))
		if next == "" {
			return docs, nil
		}
		opts.Continue = next
	}
}

// expectedTotal is the size of the whole list as far as the server said,
// or -1 when it did not.
func expectedTotal(read int, next string, remaining *int64) int {
	switch {
	case next == "":
		return read
	case remaining != nil:
		return read + int(*remaining)
	default:
		return -1
	}
}

// document turns one object into a Document. List items come without
// apiVersion and kind on the wire, so both are set from what was asked
// for. managedFields are dropped: nothing downstream reads them, and they
// are often the bulk of an object.
func document(obj *unstructured.Unstructured, gv schema.GroupVersion, kind string) (manifest.Document, error) {
	obj.SetAPIVersion(gv.String())
	obj.SetKind(kind)
	unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		return manifest.Document{}, fmt.Errorf("encoding %s %s/%s: %w", kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return manifest.Document{
		APIVersion: gv.String(),
		Kind:       kind,
		Name:       obj.GetName(),
		Namespace:  obj.GetNamespace(),
		Raw:        raw,
	}, nil
}
