package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/psp2psa/psp2psa/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// maxRestarts bounds how often one list starts over from its first page
// because the server expired its continue token.
const maxRestarts = 3

// outcome is what listing one kind gave: its documents, or why some or
// all are missing.
type outcome struct {
	docs []manifest.Document
	// version is the group/version that served the kind.
	version string
	// forbidden is the server's refusal; the kind is then missing.
	forbidden error
	// notServed: no group/version of the kind exists on the server.
	notServed bool
	// missing, when set, is the incomplete entry of a kind the server
	// serves but that was not read whole; docs are the pages that were.
	missing string
}

// listConcurrently lists the kinds, at most opts.Concurrency at a time,
// starting them in the order given, and returns their outcomes in that
// order. The first hard error cancels the rest.
func listConcurrently(parent context.Context, l lister, kinds []resource) ([]outcome, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	l.prog = newProgress(l.opts.Progress, len(kinds))
	defer l.prog.clear()
	outcomes := make([]outcome, len(kinds))
	errs := make([]error, len(kinds))
	done := make([]bool, len(kinds))
	next := make(chan int)
	var wg sync.WaitGroup
	for range l.opts.Concurrency {
		wg.Go(func() {
			for i := range next {
				kl := l.of(kinds, i)
				if outcomes[i], errs[i] = kl.list(ctx); errs[i] != nil {
					cancel()
				}
				done[i] = true
				l.prog.done()
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
	for i := range kinds {
		if done[i] {
			continue
		}
		// Never started: the read ran out of time (or was cancelled)
		// first.
		kl := l.of(kinds, i)
		o, err := kl.failed(parent, kinds[i].groupVersionResources()[0], nil, context.Cause(parent))
		if err != nil {
			return nil, err
		}
		outcomes[i] = o
	}
	return outcomes, nil
}

// firstError prefers a real failure to the cancellations it caused in
// the other goroutines.
func firstError(errs []error) error {
	var canceled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled) && !errors.Is(err, ErrReadTimeout):
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
	// optionalFrom is the index of the first kind the read may do
	// without: one that fails is recorded, never the end of the read.
	optionalFrom int
	dyn          dynamic.Interface
	kind         resource
	opts         Options
	prog         *progress
	retry        *retrier
	// restarts counts lists begun again after an expired continue token.
	restarts *atomic.Int64
}

// of is the lister of kinds[i].
func (l lister) of(kinds []resource, i int) lister {
	l.kind = kinds[i]
	l.opts.AllowIncomplete = l.opts.AllowIncomplete || i >= l.optionalFrom
	return l
}

// list tries the kind's group/versions in order; a 404 for the first
// page means that one is not served here and the next is tried.
func (l *lister) list(ctx context.Context) (outcome, error) {
	for _, gvr := range l.kind.groupVersionResources() {
		docs, err := l.listVersion(ctx, gvr)
		version := gvr.GroupVersion().String()
		var bad *badPage
		switch {
		case err == nil:
			return outcome{docs: docs, version: version}, nil
		case errors.As(err, &bad):
			return outcome{docs: docs, version: version, missing: l.missing(gvr, docs, err)}, nil
		case apierrors.IsNotFound(err) && !l.single():
			continue
		case apierrors.IsNotFound(err):
			return outcome{}, fmt.Errorf("namespace %q: %w", l.opts.Namespace, ErrNamespaceNotFound)
		case apierrors.IsForbidden(err):
			return outcome{docs: docs, version: version, forbidden: unwrapPage(err)}, nil
		default:
			return l.failed(ctx, gvr, docs, err)
		}
	}
	return outcome{notServed: true}, nil
}

// failed is a kind that could not be read: an error, or with
// AllowIncomplete an incomplete entry. A read cancelled by its caller
// fails either way.
func (l *lister) failed(ctx context.Context, gvr schema.GroupVersionResource, docs []manifest.Document, err error) (outcome, error) {
	timedOut := errors.Is(context.Cause(ctx), ErrReadTimeout)
	if ctx.Err() != nil && !timedOut {
		return outcome{}, fmt.Errorf("reading %s: %w", l.describe(gvr), err)
	}
	if timedOut && !errors.Is(err, ErrReadTimeout) {
		err = &lastAttemptError{cause: context.Cause(ctx), last: err}
	}
	if !l.opts.AllowIncomplete {
		return outcome{}, &KindError{What: l.describe(gvr), Err: err}
	}
	return outcome{docs: docs, version: gvr.GroupVersion().String(), missing: l.missing(gvr, docs, err)}, nil
}

// KindError is a kind that could not be read, after the retries; with
// Options.AllowIncomplete it is an Incomplete entry instead.
type KindError struct {
	// What is the group/version and resource, e.g. "apps/v1 deployments".
	What string
	Err  error
}

func (e *KindError) Error() string { return "reading " + e.What + ": " + e.Err.Error() }
func (e *KindError) Unwrap() error { return e.Err }

// missing is the incomplete entry of a kind read in part: what, why, and
// how much arrived.
func (l *lister) missing(gvr schema.GroupVersionResource, docs []manifest.Document, err error) string {
	entry := l.describe(gvr) + ": " + err.Error()
	var pe *pageError
	switch {
	case !errors.As(err, &pe) || pe.total < 0:
		entry += fmt.Sprintf(" (%d read)", len(docs))
	default:
		entry += fmt.Sprintf(" (%d of %d read)", len(docs), pe.total)
	}
	return entry
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
		return l.get(ctx, client, gvr.GroupVersion())
	}
	var ri dynamic.ResourceInterface = client
	if l.kind.namespaced && l.opts.Namespace != "" {
		ri = client.Namespace(l.opts.Namespace)
	}
	return l.listPages(ctx, ri, gvr.GroupVersion())
}

// get fetches the one namespace of a restricted read.
func (l *lister) get(ctx context.Context, client dynamic.ResourceInterface, gv schema.GroupVersion) ([]manifest.Document, error) {
	var obj *unstructured.Unstructured
	_, err := l.retry.do(ctx, func(ctx context.Context) error {
		var err error
		if obj, err = client.Get(ctx, l.opts.Namespace, metav1.GetOptions{}); err != nil {
			return err
		}
		return l.checkItem(obj, gv)
	})
	if err != nil {
		return nil, err
	}
	doc, err := document(obj, gv, l.kind.kind)
	if err != nil {
		return nil, err
	}
	return []manifest.Document{doc}, nil
}

// listPages pages through one list. A page that fails transiently is
// asked for again with the same continue token, so the list resumes where
// it was. When the token has expired (the list took longer than etcd
// keeps old revisions) the pages so far are dropped and the list starts
// over, paged again, so the documents stay one consistent view without
// one huge unpaged response.
func (l *lister) listPages(ctx context.Context, ri dynamic.ResourceInterface, gv schema.GroupVersion) ([]manifest.Document, error) {
	var (
		docs     []manifest.Document
		opts     = metav1.ListOptions{Limit: l.opts.PageSize}
		p        = pageState{number: 1, promised: -1, total: -1}
		restarts int
	)
	for {
		var list *unstructured.UnstructuredList
		attempts, err := l.retry.do(ctx, func(ctx context.Context) error {
			var err error
			list, err = ri.List(ctx, opts)
			if apierrors.IsNotFound(err) && p.number > 1 {
				return &badPage{reason: fmt.Sprintf("answered 404 Not Found although page 1 was served (%v)", err)}
			}
			if err != nil {
				return err
			}
			return l.checkPage(list, gv, p)
		})
		expired := apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
		if expired && opts.Continue != "" && restarts < maxRestarts {
			restarts++
			l.restarts.Add(1)
			docs, opts.Continue, p = nil, "", pageState{number: 1, promised: -1, total: -1}
			continue
		}
		if err != nil {
			return l.keepGoodItems(docs, list, gv, &pageError{page: p.number, attempts: attempts, total: p.total, err: err})
		}
		if docs, err = l.appendItems(docs, list, gv, nil); err != nil {
			return docs, err
		}
		next, remaining := list.GetContinue(), list.GetRemainingItemCount()
		l.prog.update(l.kind.plural, len(docs), expectedTotal(len(docs), next, remaining))
		if next == "" {
			return docs, nil
		}
		p = p.next(len(docs), remaining)
		opts.Continue = next
	}
}

// keepGoodItems adds the items of a page that failed only the reader's
// count checks (they are good objects), and returns them with the page's
// error; the server's count then gives the size of the whole list.
func (l *lister) keepGoodItems(docs []manifest.Document, list *unstructured.UnstructuredList, gv schema.GroupVersion, pe *pageError) ([]manifest.Document, error) {
	var bad *badPage
	if !errors.As(pe.err, &bad) || !bad.keepItems {
		return docs, pe
	}
	docs, err := l.appendItems(docs, list, gv, pe)
	if remaining := list.GetRemainingItemCount(); remaining != nil {
		pe.total = len(docs) + int(*remaining)
	}
	return docs, err
}

// appendItems turns the page's items into documents; failure is the
// error to return once they are in (nil for a good page).
func (l *lister) appendItems(docs []manifest.Document, list *unstructured.UnstructuredList, gv schema.GroupVersion, failure error) ([]manifest.Document, error) {
	for i := range list.Items {
		doc, err := document(&list.Items[i], gv, l.kind.kind)
		if err != nil {
			return docs, err
		}
		docs = append(docs, doc)
	}
	return docs, failure
}

// pageState is where a paged list stands.
type pageState struct {
	number int
	// promised is how many items the page before said remain, -1 when
	// it did not say.
	promised int
	// total is the size of the whole list as the server last gave it,
	// -1 when unknown.
	total int
}

func (p pageState) next(read int, remaining *int64) pageState {
	n := pageState{number: p.number + 1, promised: -1, total: p.total}
	if remaining != nil {
		n.promised = int(*remaining)
		n.total = read + int(*remaining)
	}
	return n
}

// checkPage is the reader's own check of a page: the kind asked for, and
// a list that ends only when the server's own count says it does.
func (l *lister) checkPage(list *unstructured.UnstructuredList, gv schema.GroupVersion, p pageState) error {
	if want := l.kind.kind + "List"; list.GetKind() != want || list.GetAPIVersion() != gv.String() {
		return &badPage{reason: fmt.Sprintf("the server answered with %s %s instead of %s %s",
			list.GetAPIVersion(), list.GetKind(), gv, want)}
	}
	for i := range list.Items {
		if err := l.checkItem(&list.Items[i], gv); err != nil {
			return err
		}
	}
	if list.GetContinue() != "" {
		return nil
	}
	if remaining := list.GetRemainingItemCount(); remaining != nil && *remaining > 0 {
		return &badPage{keepItems: true, reason: fmt.Sprintf(
			"the page has no continue token, yet the server says %d more items remain", *remaining)}
	}
	if p.promised >= 0 && len(list.Items) < p.promised {
		return &badPage{keepItems: true, reason: fmt.Sprintf(
			"the last page holds %d items where page %d said %d remained", len(list.Items), p.number-1, p.promised)}
	}
	return nil
}

// checkItem rejects an object of another kind than the one asked for.
// List items come without apiVersion and kind on the wire and take the
// list's, so only a server or proxy that mixes kinds trips this.
func (l *lister) checkItem(obj *unstructured.Unstructured, gv schema.GroupVersion) error {
	if obj.GetKind() != l.kind.kind || obj.GetAPIVersion() != gv.String() {
		return &badPage{reason: fmt.Sprintf("the server answered with %s %s %q for %s %s",
			obj.GetAPIVersion(), obj.GetKind(), obj.GetName(), gv, l.kind.kind)}
	}
	return nil
}

// badPage is a page the server answered, but wrongly; it is asked for
// again, and when it stays wrong the kind is incomplete rather than the
// read failed: the server does answer, and says something is off.
type badPage struct {
	reason string
	// keepItems: the page's items are themselves good and are kept.
	keepItems bool
}

func (e *badPage) Error() string { return e.reason }

// pageError is a page that could not be read, with where the list stood.
type pageError struct {
	page     int // from 1
	attempts int
	// total is the size of the list as the server gave it, -1 unknown.
	total int
	err   error
}

func (e *pageError) Error() string {
	if e.attempts > 1 {
		return fmt.Sprintf("page %d, after %d attempts: %s", e.page, e.attempts, withoutURL(e.err))
	}
	return fmt.Sprintf("page %d: %s", e.page, withoutURL(e.err))
}

func (e *pageError) Unwrap() error { return e.err }

// unwrapPage is the server's error without where in the list it came.
func unwrapPage(err error) error {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe.err
	}
	return err
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
