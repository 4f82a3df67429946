package custom

import (
	"context"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/testutil"
)

// Leaks: opening and closing many sessions leaves the goroutine count and
// the live Go heap where they were. Close waits for the session's own
// goroutines (refresh in flight, background refresh); the HTTP transports
// of the network methods let their connection goroutines go shortly after.

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
	testutil.CheckFlat(t, 4<<20, func() {
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
					return nil, &core.Error{Kind: core.KindCredential, Message: "scheduled failure"}
				}
				return map[string]string{"access_key": "AKIDLEAKS", "secret_key": "s", "token": "t",
					"expiry_time": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, nil
			}
			s, err := core.NewSession(NewProvider(fn), func(o *core.Options) { o.Logger = testutil.DiscardLogger }, func(o *core.Options) { o.BackgroundRefresh = i%3 == 0 })
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
			if _, err := s.Credentials(ctx); core.KindOf(err) != core.KindClosed {
				t.Fatalf("read after close: %v", err)
			}
		}
	})
}
