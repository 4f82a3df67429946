package testutil

import (
	"runtime"
	"testing"
	"time"
)

// settle waits (a bounded time) for the goroutine count to drop to at most
// want, and returns the count.
func settle(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(10 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// steady waits (a bounded time) until the goroutine count stops falling
// for a moment, and returns it.
func steady() int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return n
		}
		n = m
	}
	return n
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// CheckFlat runs batch twice (the first warms up caches and pools) and
// fails when goroutines or the live heap grew across the second run. Each
// batch should end by dropping the test server's connections, so that
// both counts are taken without keep-alive connection goroutines.
func CheckFlat(t *testing.T, heapSlack uint64, batch func()) {
	t.Helper()
	batch()
	goroutines := steady()
	heap := liveHeap()
	batch()
	if n := settle(goroutines); n > goroutines {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines grew from %d to %d:\n%s", goroutines, n, buf[:runtime.Stack(buf, true)])
	}
	if after := liveHeap(); after > heap+heapSlack {
		t.Fatalf("live heap grew from %d to %d bytes", heap, after)
	}
}
