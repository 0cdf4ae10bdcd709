package cluster

import (
	"sync"
)

// warningCollector keeps the Warning headers the server sends (deprecated
// APIs and the like), once each, instead of letting client-go log them.
// Requests run concurrently, hence the lock.
type warningCollector struct {
	mu       sync.Mutex
	seen     map[string]bool
	messages []string
}

func (w *warningCollector) HandleWarningHeader(_ int, _ string, message string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen[message] {
		return
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	w.seen[message] = true
	w.messages = append(w.messages, "the server warns: "+message)
}

func (w *warningCollector) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.messages...)
}
