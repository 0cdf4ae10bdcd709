package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
)

// Defaults for Retry.
const (
	DefaultRetries    = 5
	DefaultBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff = 8 * time.Second
)

// maxServerDelay caps the wait a server asks for with Retry-After: a read
// must stay bounded even when a server asks for an hour.
const maxServerDelay = 30 * time.Second

// Retry says how a read repeats a request that failed transiently: a 5xx
// or 429 answer, a connection reset or refused (once the server has
// answered), a response cut off mid-body, a request timeout, or a page
// that fails the reader's own checks. Waits double from Backoff up to
// MaxBackoff, without jitter, so a test sees the same requests every run.
type Retry struct {
	// Retries bounds how often one request is sent again (default 5).
	Retries int
	// Backoff is the wait before the first retry (default 500ms); a
	// longer Retry-After from the server is honoured instead.
	Backoff time.Duration
	// MaxBackoff caps the doubled wait (default 8s).
	MaxBackoff time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Retries <= 0 {
		r.Retries = DefaultRetries
	}
	if r.Backoff <= 0 {
		r.Backoff = DefaultBackoff
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = DefaultMaxBackoff
	}
	if r.MaxBackoff < r.Backoff {
		r.MaxBackoff = r.Backoff
	}
	return r
}

// wait is the pause before retry n (0 for the first) after err.
func (r Retry) wait(n int, err error) time.Duration {
	d := r.Backoff
	for i := 0; i < n && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	if s, ok := apierrors.SuggestsClientDelay(err); ok {
		server := min(time.Duration(s)*time.Second, maxServerDelay)
		d = max(d, server)
	}
	return d
}

// retrier runs the requests of one read under its Retry, and counts what
// it repeats.
type retrier struct {
	Retry
	retries atomic.Int64
	// answered is set once the server has answered: from then on a
	// refused connection is a server restarting, while before it is an
	// address where nothing listens, which no retry fixes.
	answered atomic.Bool
}

// do calls try until it succeeds, fails in a way no retry fixes, or
// r.Retries retries have failed as well. It returns the number of
// attempts made and the last error.
func (r *retrier) do(ctx context.Context, try func(context.Context) error) (int, error) {
	for n := 0; ; n++ {
		err := try(ctx)
		if err == nil || !r.transient(ctx, err) || n == r.Retries {
			return n + 1, r.final(ctx, err)
		}
		r.retries.Add(1)
		t := time.NewTimer(r.wait(n, err))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return n + 1, r.final(ctx, err)
		}
	}
}

// final names why the read as a whole ended, when it did, beside the
// last request's error: "context deadline exceeded" alone would not say
// whose deadline it was.
func (r *retrier) final(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(ctx); !errors.Is(err, cause) {
		return &lastAttemptError{cause: cause, last: err}
	}
	return err
}

// lastAttemptError is why a read ended, with the error of the request it
// ended during.
type lastAttemptError struct{ cause, last error }

func (e *lastAttemptError) Error() string {
	return fmt.Sprintf("%v (last attempt: %s)", e.cause, withoutURL(e.last))
}

func (e *lastAttemptError) Unwrap() []error { return []error{e.cause, e.last} }

// withoutURL is an error's message without the "Get \"URL\": " that
// net/http puts first: where in the list it failed is said already, and
// the URL's continue token is a long opaque string.
func withoutURL(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

// transient reports whether a failed request is worth repeating.
func (r *retrier) transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		// The read itself is over: cancelled, or out of time.
		return false
	}
	var bad *badPage
	if errors.As(err, &bad) {
		return true
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		code := status.Status().Code
		return code == 429 || code >= 500
	}
	var streamErr http2.StreamError
	var netErr net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), utilnet.IsProbableEOF(err),
		utilnet.IsConnectionReset(err), utilnet.IsHTTP2ConnectionLost(err), errors.As(err, &streamErr):
		// Cut off: a reset, a closed connection, a truncated body.
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		// This request's timeout, since the read's own context is live.
		return true
	case utilnet.IsConnectionRefused(err):
		return r.answered.Load()
	}
	return false
}

// noRetries is a REST client whose GETs client-go does not repeat by
// itself (it would for a Retry-After, up to ten times, unseen and
// uncounted): every retry of a read is the retrier's.
type noRetries struct{ rest.Interface }

func (c noRetries) Get() *rest.Request { return c.Interface.Get().MaxRetries(0) }
