package sts

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/faulttest"
	"github.com/gobrs/gobrs/internal/testutil"
)

// The engine through the failures of an STS endpoint, over HTTP and TLS
// (internal/faulttest).

func TestFaultsAcrossTheWindows(t *testing.T) { faulttest.AcrossTheWindows(t, "sts", "sts-tls") }

func TestFaultsBackgroundRefresh(t *testing.T) { faulttest.BackgroundRefresh(t, "sts") }

func TestFaultsConcurrentReadersInTheMandatoryWindow(t *testing.T) {
	faulttest.ConcurrentReadersInTheMandatoryWindow(t, "sts")
}

// TestFaultsTruncatedAnswerIsRetried: an STS answer cut off mid-body is a
// transport failure, retried like a reset (every attempt is made) and a
// KindConnection error once the attempts run out.
func TestFaultsTruncatedAnswerIsRetried(t *testing.T) {
	for _, proto := range []string{"sts", "sts-tls"} {
		t.Run(proto, func(t *testing.T) {
			clock := core.NewFakeClock(testutil.T0)
			f := faulttest.NewServer(t, proto, clock)
			s := faulttest.Session(t, f, clock, io.Discard)
			f.Set(faulttest.Truncated)
			hits := f.Hits.Load()
			_, err := s.Credentials(context.Background())
			faulttest.Check(t, err, faulttest.Case{Mode: faulttest.Truncated, Kind: core.KindConnection})
			if n := f.Hits.Load() - hits; n != 2 { // total_max_attempts 2 (faultServer.config)
				t.Fatalf("%d attempts, want 2: a truncated answer was not retried", n)
			}
		})
	}
}

// TestSTSDefaultTimeoutsBoundAStall: with sts_client_kwargs setting no
// timeout and no retries, a stalled STS fails a read within
// DefaultCallTimeout (30 s) in total: the attempts' own timeouts add up
// to less (3 x read + the SDK's backoff under 2 s + 4 s), and the whole
// call is bounded by a deadline on top, which the stall here meets
// (shortened for the test). Setting any timeout or retries lifts it.
func TestSTSDefaultTimeoutsBoundAStall(t *testing.T) {
	s := resolveClientSettings(&ClientConfig{})
	if worst := 3*s.read + 6*time.Second; s.callTimeout != DefaultCallTimeout || worst > DefaultCallTimeout ||
		3*s.connect+6*time.Second > DefaultCallTimeout {
		t.Fatalf("defaults %+v: a stall may last %v, more than %v", s, worst, DefaultCallTimeout)
	}
	one := 1
	for _, c := range []Config{{ReadTimeout: time.Minute}, {ConnectTimeout: time.Minute}, {Retries: RetryConfig{TotalMaxAttempts: &one}}} {
		if s := resolveClientSettings(&ClientConfig{Config: c}); s.callTimeout != 0 {
			t.Errorf("%+v: the overall bound stays (%v)", c, s.callTimeout)
		}
	}

	clock := core.NewFakeClock(testutil.T0)
	f := faulttest.NewServer(t, "sts", clock)
	p, err := NewProvider(Options{AssumeRole: AssumeRoleParams{RoleArn: testRoleArn},
		Client: ClientConfig{RegionName: "us-east-1", EndpointURL: "http://" + f.Addr,
			AccessKeyID: testSourceKey, SecretAccessKey: testSourceSecret}})
	if err != nil {
		t.Fatal(err)
	}
	p.settings.callTimeout = 200 * time.Millisecond // the default's mechanism, shortened
	f.Set(faulttest.Stall)
	_, err = p.Retrieve(context.Background())
	faulttest.Check(t, err, faulttest.Case{Mode: faulttest.Stall, Kind: core.KindConnection})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v: not the call deadline", err)
	}
}
