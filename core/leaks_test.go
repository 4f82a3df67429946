package core

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// Leaks: opening and closing many sessions leaves the goroutine count and
// the live Go heap where they were. Close waits for the session's own
// goroutines (refresh in flight, background refresh); the HTTP transports
// of the network methods let their connection goroutines go shortly after.

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

// checkFlat runs batch twice (the first warms up caches and pools) and
// fails when goroutines or the live heap grew across the second run. Each
// batch should end by dropping the test server's connections, so that
// both counts are taken without keep-alive connection goroutines.
func checkFlat(t *testing.T, heapSlack uint64, batch func()) {
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

func quietLogger(o *Options) { o.Logger = discardLogger }

// TestLeaksCustomSessions: 10,000 sessions, a third with background
// refresh, some closed with a refresh in flight, some failing.
func TestLeaksCustomSessions(t *testing.T) {
	ctx := context.Background()
	n := 10000
	if testing.Short() {
		n = 1000
	}
	release := make(chan struct{})
	close(release)
	checkFlat(t, 4<<20, func() {
		for i := 0; i < n; i++ {
			fail := i%7 == 0
			slow := i%50 == 0
			fn := func(ctx context.Context) (map[string]string, error) {
				if slow {
					select {
					case <-release:
					case <-ctx.Done():
					}
				}
				if fail {
					return nil, &Error{Kind: KindCredential, Message: "scheduled failure"}
				}
				return map[string]string{"access_key": "AKIDLEAKS", "secret_key": "s", "token": "t",
					"expiry_time": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, nil
			}
			s, err := NewSession(NewCustomProvider(fn), quietLogger, func(o *Options) { o.BackgroundRefresh = i%3 == 0 })
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				if _, err := s.Credentials(ctx); (err != nil) != fail {
					t.Fatalf("read %d: %v", i, err)
				}
			} else {
				// close while a forced refresh may still be running
				go s.Refresh(ctx)
			}
			s.Close()
			if _, err := s.Credentials(ctx); KindOf(err) != KindClosed {
				t.Fatalf("read after close: %v", err)
			}
		}
	})
}

// TestLeaksSTSSessions: sessions of one role on one endpoint share a
// client and its connections; closing them leaves nothing behind.
func TestLeaksSTSSessions(t *testing.T) {
	f := newFakeSTS(t)
	ctx := context.Background()
	checkFlat(t, 4<<20, func() {
		for i := 0; i < 500; i++ {
			s, err := NewSessionFromJSON(stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "leaks"}, nil, nil), Hooks{}, quietLogger)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Credentials(ctx); err != nil {
				t.Fatal(err)
			}
			if i%10 == 0 {
				if _, err := s.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
		}
		f.srv.CloseClientConnections() // the shared client's keep-alive connection
	})
}

// TestLeaksIoTSessions: each IoT session has its own mutual-TLS transport;
// Close releases its connections.
func TestLeaksIoTSessions(t *testing.T) {
	srv := newIoTServer(t)
	ctx := context.Background()
	checkFlat(t, 4<<20, func() {
		for i := 0; i < 100; i++ {
			p, err := NewIoTProvider(srv.options())
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSession(p, quietLogger)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Credentials(ctx); err != nil {
				t.Fatal(err)
			}
			s.Close()
		}
		srv.CloseClientConnections()
	})
}
