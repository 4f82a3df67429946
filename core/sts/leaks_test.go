package sts

import (
	"context"
	"testing"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/testutil"
)

// Leaks: opening and closing many sessions leaves the goroutine count and
// the live Go heap where they were. Close waits for the session's own
// goroutines (refresh in flight, background refresh); the HTTP transports
// of the network methods let their connection goroutines go shortly after.

// TestLeaksSTSSessions: sessions of one role on one endpoint share a
// client and its connections; closing them leaves nothing behind.
func TestLeaksSTSSessions(t *testing.T) {
	f := newFakeSTS(t)
	ctx := context.Background()
	testutil.CheckFlat(t, 4<<20, func() {
		for i := 0; i < 500; i++ {
			s, err := core.NewSessionFromJSON(stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "leaks"}, nil, nil), core.Hooks{}, func(o *core.Options) { o.Logger = testutil.DiscardLogger })
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
