package nslabels

import (
	"context"
	"sync"
)

// warnings collects the Warning headers of the responses to one request.
// client-go may call the handler from any goroutine, hence the mutex.
type warnings struct {
	mu       sync.Mutex
	messages []string
}

func (w *warnings) add(message string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.messages = append(w.messages, message)
}

func (w *warnings) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string{}, w.messages...)
}

type warningsKey struct{}

// withWarnings returns a context whose requests' warnings go to w.
func withWarnings(ctx context.Context, w *warnings) context.Context {
	return context.WithValue(ctx, warningsKey{}, w)
}

// warningRouter is the client's one warning handler: client-go passes it
// the request's context, which names the collector of that request. This
// keeps one client (and one connection pool) for all namespaces while the
// warnings stay apart. Warnings of requests without a collector (the reads)
// are dropped: they are not about the labels.
type warningRouter struct{}

func (warningRouter) HandleWarningHeaderWithContext(ctx context.Context, _ int, _ string, message string) {
	if w, ok := ctx.Value(warningsKey{}).(*warnings); ok {
		w.add(message)
	}
}
