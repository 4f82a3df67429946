package iot

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

// TestLeaksIoTSessions: each IoT session has its own mutual-TLS transport;
// Close releases its connections.
func TestLeaksIoTSessions(t *testing.T) {
	srv := newIoTServer(t)
	ctx := context.Background()
	testutil.CheckFlat(t, 4<<20, func() {
		for i := 0; i < 100; i++ {
			p, err := NewProvider(srv.options())
			if err != nil {
				t.Fatal(err)
			}
			s, err := core.NewSession(p, func(o *core.Options) { o.Logger = testutil.DiscardLogger })
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
