package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/gobrs/gobrs/internal/testutil"
)

// closerProvider counts Close calls on a wrapped provider.
type closerProvider struct {
	Provider
	closes atomic.Int64
}

func (c *closerProvider) Close() error { c.closes.Add(1); return nil }

func TestNewSessionDeferRefresh(t *testing.T) {
	for _, tc := range []struct {
		name         string
		deferRefresh bool
		fail         bool
		callsAtNew   int
	}{
		{"deferred", true, false, 0},
		{"deferred, getter fails", true, true, 0},
		{"eager", false, false, 1},
		{"eager, getter fails", false, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewFakeClock(testutil.T0)
			p := newFakeProvider(clock, time.Hour)
			if tc.fail {
				p.fail = failFrom(1)
			}
			cp := &closerProvider{Provider: p}
			s, err := NewSession(cp, func(o *Options) {
				o.DeferRefresh, o.Clock, o.Logger = tc.deferRefresh, clock, testutil.DiscardLogger
			})
			if got := p.Calls(); got != tc.callsAtNew {
				t.Fatalf("getter called %d times by NewSession, want %d", got, tc.callsAtNew)
			}
			if !tc.deferRefresh && tc.fail {
				if s != nil || !errors.Is(err, testutil.ErrBoom) {
					t.Fatalf("NewSession = %v, %v; want nil and the getter's error", s, err)
				}
				assertKind(t, err, KindCredential, "")
				if cp.closes.Load() != 1 {
					t.Errorf("provider closed %d times after a failed eager fetch, want 1", cp.closes.Load())
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSession: %v", err)
			}
			defer s.Close()
			c, err := s.Credentials(context.Background())
			if tc.fail {
				if !errors.Is(err, testutil.ErrBoom) {
					t.Fatalf("first use error = %v, want the getter's error", err)
				}
			} else if err != nil || c.AccessKeyID != testCreds(1, testutil.T0).AccessKeyID {
				t.Fatalf("first use = %v, %v; want the first credentials", c, err)
			}
			if p.Calls() != 1 {
				t.Errorf("getter called %d times, want 1", p.Calls())
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name             string
		advisory, manda  time.Duration
		retryMin, retryM time.Duration
		param            string
	}{
		{"defaults", 900 * time.Second, 600 * time.Second, time.Second, time.Minute, ""},
		{"zero windows", 0, 0, time.Second, time.Minute, ""},
		{"equal windows", time.Minute, time.Minute, time.Second, time.Minute, ""},
		{"negative advisory", -time.Second, 0, time.Second, time.Minute, "advisory_timeout"},
		{"negative mandatory", time.Minute, -time.Nanosecond, time.Second, time.Minute, "mandatory_timeout"},
		{"mandatory over advisory", time.Minute, time.Minute + time.Second, time.Second, time.Minute, "mandatory_timeout"},
		{"zero retry", time.Minute, 0, 0, time.Minute, "retry"},
		{"retry max below min", time.Minute, 0, time.Minute, time.Second, "retry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSession(ProviderFunc(func(context.Context) (Credentials, error) { return Credentials{}, testutil.ErrBoom }),
				func(o *Options) {
					o.AdvisoryTimeout, o.MandatoryTimeout, o.RetryMin, o.RetryMax = tc.advisory, tc.manda, tc.retryMin, tc.retryM
					o.Logger = testutil.DiscardLogger
				})
			if tc.param == "" {
				if err != nil {
					t.Fatalf("NewSession: %v", err)
				}
				s.Close()
				return
			}
			if s != nil {
				s.Close()
			}
			assertKind(t, err, KindValidation, tc.param)
			if !errors.Is(err, ErrValidation) {
				t.Errorf("errors.Is(%v, ErrValidation) = false", err)
			}
		})
	}
	if _, err := NewSession(nil); KindOf(err) != KindValidation {
		t.Errorf("NewSession(nil) error = %v, want a validation error", err)
	}
}

func TestNewSessionNilClockAndLogger(t *testing.T) {
	p := newFakeProvider(NewFakeClock(time.Now()), time.Hour)
	s, err := NewSession(p, func(o *Options) { o.Clock, o.Logger = nil, nil })
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer s.Close()
	if s.Options().Clock == nil || s.Options().Logger == nil {
		t.Fatal("nil Clock/Logger were not replaced by the defaults")
	}
	if _, err := s.Credentials(context.Background()); err != nil {
		t.Fatalf("Credentials: %v", err)
	}
}

func TestOptionsWindows(t *testing.T) {
	m := time.Minute
	for _, tc := range []struct {
		name                 string
		advisory, mandatory  time.Duration
		lifetime             time.Duration
		wantAdvisory, wantMa time.Duration
	}{
		{"1 hour, defaults", 15 * m, 10 * m, 60 * m, 15 * m, 10 * m},
		{"2 hours, defaults", 15 * m, 10 * m, 120 * m, 15 * m, 10 * m},
		{"20 minutes, defaults", 15 * m, 10 * m, 20 * m, 5 * m, 200 * time.Second},
		{"59 minutes, defaults", 15 * m, 10 * m, 59 * m, 885 * time.Second, 590 * time.Second},
		{"4 minutes, defaults", 15 * m, 10 * m, 4 * m, m, 40 * time.Second},
		{"equal windows scale together", 10 * m, 10 * m, 20 * m, 5 * m, 5 * m},
		{"zero mandatory stays zero", 15 * m, 0, 20 * m, 5 * m, 0},
		{"zero windows", 0, 0, 20 * m, 0, 0},
		{"zero lifetime", 15 * m, 10 * m, 0, 0, 0},
		{"short windows unscaled", 30 * time.Second, 10 * time.Second, 20 * m, 30 * time.Second, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{AdvisoryTimeout: tc.advisory, MandatoryTimeout: tc.mandatory}
			adv, mand := o.Windows(tc.lifetime)
			if adv != tc.wantAdvisory || mand != tc.wantMa {
				t.Errorf("Windows(%v) = %v, %v; want %v, %v", tc.lifetime, adv, mand, tc.wantAdvisory, tc.wantMa)
			}
		})
	}
	// The documented rule, over many lifetimes: the configured windows apply
	// while the lifetime is at least four advisory windows; otherwise the
	// advisory window is a quarter of the lifetime, and the mandatory window
	// never exceeds it.
	o := Options{AdvisoryTimeout: 900 * time.Second, MandatoryTimeout: 600 * time.Second}
	for lt := time.Duration(0); lt < 3*time.Hour; lt += 7*time.Second + 123*time.Millisecond {
		adv, mand := o.Windows(lt)
		switch {
		case lt >= 4*o.AdvisoryTimeout && (adv != o.AdvisoryTimeout || mand != o.MandatoryTimeout):
			t.Fatalf("Windows(%v) = %v, %v; want the configured windows", lt, adv, mand)
		case lt < 4*o.AdvisoryTimeout && adv != lt/4:
			t.Fatalf("Windows(%v) advisory = %v, want a quarter of the lifetime", lt, adv)
		case mand < 0 || mand > adv:
			t.Fatalf("Windows(%v) mandatory = %v, outside [0, advisory %v]", lt, mand, adv)
		}
	}
}

// Short-lived credentials are used for three quarters of their life, not
// refreshed on every read.
func TestShortLivedCredentialsAreNotRefreshedOnEveryRead(t *testing.T) {
	for _, tc := range []struct {
		lifetime, wantAdvisory time.Duration
	}{
		{20 * time.Minute, 5 * time.Minute},
		{time.Hour, 15 * time.Minute},
		{2 * time.Hour, 15 * time.Minute},
		{2 * time.Minute, 30 * time.Second},
	} {
		t.Run(tc.lifetime.String(), func(t *testing.T) {
			ctx := context.Background()
			clock := NewFakeClock(testutil.T0)
			p := newFakeProvider(clock, tc.lifetime)
			s := newTestSession(t, p, clock)
			_, due, err := s.Lookup(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := testutil.T0.Add(tc.lifetime - tc.wantAdvisory); !due.Equal(want) {
				t.Fatalf("due = %v, want %v (advisory window %v)", due, want, tc.wantAdvisory)
			}
			for i := range 500 {
				clock.Set(testutil.T0.Add(due.Sub(testutil.T0) * time.Duration(i) / 500))
				if c, _, err := s.Lookup(ctx); err != nil || c.AccessKeyID != testCreds(1, testutil.T0).AccessKeyID {
					t.Fatalf("read %d: %v, %v", i, c, err)
				}
			}
			clock.Set(due.Add(-time.Nanosecond))
			s.Lookup(ctx)
			if p.Calls() != 1 {
				t.Fatalf("getter called %d times before the advisory window, want 1", p.Calls())
			}
			clock.Set(due)
			if c, _, err := s.Lookup(ctx); err != nil || c.AccessKeyID != testCreds(1, testutil.T0).AccessKeyID {
				t.Fatalf("read in the advisory window = %v, %v; want the current credentials at once", c, err)
			}
			s.settleForTest()
			if c, _, err := s.Lookup(ctx); err != nil || c.AccessKeyID != testCreds(2, testutil.T0).AccessKeyID {
				t.Fatalf("read after the advisory refresh = %v, %v; want refreshed credentials", c, err)
			}
			if p.Calls() != 2 {
				t.Fatalf("getter called %d times, want 2", p.Calls())
			}
		})
	}
}

// Both timeouts are honoured with deferred and eager first fetches: before
// the advisory window nothing happens; in it a failed refresh is tolerated;
// in the mandatory window it is the caller's error.
func TestTimeoutsHonoured(t *testing.T) {
	const lifetime = 3 * time.Hour
	for _, w := range []struct{ advisory, mandatory time.Duration }{
		{900 * time.Second, 600 * time.Second},
		{300 * time.Second, 100 * time.Second},
		{1200 * time.Second, 0},
		{600 * time.Second, 600 * time.Second},
		{0, 0},
	} {
		for _, deferRefresh := range []bool{true, false} {
			t.Run(fmt.Sprintf("advisory=%v/mandatory=%v/defer=%v", w.advisory, w.mandatory, deferRefresh), func(t *testing.T) {
				ctx := context.Background()
				clock := NewFakeClock(testutil.T0)
				p := newFakeProvider(clock, lifetime)
				p.fail = failFrom(2)
				s := newTestSession(t, p, clock, func(o *Options) {
					o.DeferRefresh, o.AdvisoryTimeout, o.MandatoryTimeout, o.RetryMin = deferRefresh, w.advisory, w.mandatory, time.Second
				})
				wantCalls := 1
				if deferRefresh {
					wantCalls = 0
				}
				check := func(step string, wantErr bool) {
					t.Helper()
					c, _, err := s.Lookup(ctx)
					s.settleForTest() // an advisory read does not wait for its refresh
					if wantErr {
						if !errors.Is(err, testutil.ErrBoom) {
							t.Fatalf("%s: error = %v, want the getter's error", step, err)
						}
					} else if err != nil || c.AccessKeyID != testCreds(1, testutil.T0).AccessKeyID {
						t.Fatalf("%s: %v, %v; want the first credentials", step, c, err)
					}
					if p.Calls() != wantCalls {
						t.Fatalf("%s: getter called %d times, want %d", step, p.Calls(), wantCalls)
					}
				}
				if p.Calls() != wantCalls {
					t.Fatalf("getter called %d times by NewSession, want %d", p.Calls(), wantCalls)
				}
				wantCalls = 1
				check("first read", false)
				exp := testutil.T0.Add(lifetime)
				clock.Set(exp.Add(-w.advisory - time.Nanosecond))
				check("just before the advisory window", false)
				if w.advisory > w.mandatory {
					clock.Set(exp.Add(-w.advisory))
					wantCalls++
					check("advisory window opens (refresh fails, tolerated)", false)
					clock.Set(exp.Add(-w.mandatory - time.Nanosecond))
					wantCalls++
					check("just before the mandatory window (retry, fails, tolerated)", false)
				}
				clock.Set(exp.Add(-w.mandatory))
				wantCalls++
				check("mandatory window opens", true)
			})
		}
	}
}

// In the advisory window the first caller starts one refresh and, like
// every other caller meanwhile, gets the current credentials at once
// (botocore: the others keep using them); a failure is logged without
// secrets and the next attempt waits RetryMin.
func TestAdvisoryWindowOneCallerRefreshes(t *testing.T) {
	for _, outcome := range []error{nil, testutil.ErrBoom} {
		t.Run(fmt.Sprintf("outcome=%v", outcome), func(t *testing.T) {
			ctx := context.Background()
			clock := NewFakeClock(testutil.T0)
			p := newFakeProvider(clock, time.Hour)
			var logs testutil.SyncBuffer
			const retryMin = 30 * time.Second
			s := newTestSession(t, p, clock, func(o *Options) {
				o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
				o.RetryMin = retryMin
			})
			first := testCreds(1, testutil.T0)
			if _, err := s.Credentials(ctx); err != nil {
				t.Fatal(err)
			}
			p.gated = true
			clock.Set(testutil.T0.Add(time.Hour - 900*time.Second + time.Second))
			now := clock.Now()

			// The caller that starts the refresh does not wait for it.
			c, due, err := s.Lookup(ctx)
			if err != nil || c.AccessKeyID != first.AccessKeyID || !due.Equal(now.Add(PendingRecheck)) {
				t.Fatalf("refreshing caller got %v, due %v, %v; want the current credentials at once", c, due, err)
			}
			if n := testutil.Recv(t, "the advisory refresh", p.entered); n != 2 {
				t.Fatalf("getter call %d, want 2", n)
			}
			const others = 20
			results := make(chan lookupResult, others)
			for range others {
				go func() {
					c, due, err := s.Lookup(ctx)
					results <- lookupResult{c, due, err}
				}()
			}
			for range others {
				r := testutil.Recv(t, "a reader during the advisory refresh", results)
				if r.err != nil || r.creds.AccessKeyID != first.AccessKeyID || !r.due.Equal(now.Add(PendingRecheck)) {
					t.Fatalf("reader got %v, due %v, %v; want the current credentials, due after PendingRecheck", r.creds, r.due, r.err)
				}
			}
			if p.Calls() != 2 {
				t.Fatalf("getter called %d times, want 2", p.Calls())
			}
			p.release <- outcome
			s.settleForTest()
			c, due, err = s.Lookup(ctx)
			if err != nil {
				t.Fatalf("read after the refresh: %v, want no error in the advisory window", err)
			}
			if outcome == nil {
				if c.AccessKeyID != testCreds(2, testutil.T0).AccessKeyID || !due.Equal(now.Add(45*time.Minute)) {
					t.Fatalf("read after the refresh got %v due %v, want new credentials due %v", c, due, now.Add(45*time.Minute))
				}
				if logs.String() != "" {
					t.Errorf("a successful refresh logged %q", logs.String())
				}
				return
			}
			if c.AccessKeyID != first.AccessKeyID || !due.Equal(now.Add(retryMin)) {
				t.Fatalf("read after the failed refresh got %v due %v, want the current credentials due %v", c, due, now.Add(retryMin))
			}
			log := logs.String()
			for _, want := range []string{`"level":"WARN"`, "credential refresh failed", `"kind":"credential"`, testutil.ErrBoom.Error()} {
				if !strings.Contains(log, want) {
					t.Errorf("log %q lacks %q", log, want)
				}
			}
			testutil.AssertNoSecret(t, "the refresh failure log", log)

			// The next attempt waits RetryMin.
			p.gated = false
			p.fail = failFrom(1)
			for _, step := range []struct {
				advance time.Duration
				calls   int
			}{{0, 2}, {retryMin - time.Nanosecond, 2}, {time.Nanosecond, 3}, {0, 3}} {
				clock.Advance(step.advance)
				c, _, err := s.Lookup(ctx)
				s.settleForTest()
				if err != nil || c.AccessKeyID != first.AccessKeyID {
					t.Fatalf("Lookup at +%v = %v, %v", clock.Now().Sub(now), c, err)
				}
				if p.Calls() != step.calls {
					t.Fatalf("at +%v getter called %d times, want %d", clock.Now().Sub(now), p.Calls(), step.calls)
				}
			}
		})
	}
}

// An advisory refresh still running when the mandatory window opens is
// joined by the callers that now must wait, and its failure is theirs;
// while the advisory window lasts nobody waits for it.
func TestAdvisoryRefreshJoinedWhenWindowMovesOn(t *testing.T) {
	exp := testutil.T0.Add(time.Hour)
	ctx := context.Background()
	clock := NewFakeClock(testutil.T0)
	p := newFakeProvider(clock, time.Hour)
	s := newTestSession(t, p, clock)
	if _, err := s.Credentials(ctx); err != nil {
		t.Fatal(err)
	}
	p.gated = true
	clock.Set(exp.Add(-800 * time.Second))
	if c, _, err := s.Lookup(ctx); err != nil || c.AccessKeyID != testCreds(1, testutil.T0).AccessKeyID {
		t.Fatalf("advisory read = %v, %v; want the current credentials at once", c, err)
	}
	testutil.Recv(t, "the advisory refresh", p.entered)
	clock.Set(exp.Add(-600 * time.Second))
	res := goLookup(ctx, s)
	testutil.WaitFor(t, "the mandatory caller to join the refresh", func() bool { return s.joinedForTest() == 1 })
	p.release <- testutil.ErrBoom
	r := testutil.Recv(t, "the mandatory caller", res)
	if !errors.Is(r.err, testutil.ErrBoom) || r.creds != (Credentials{}) {
		t.Fatalf("got %v, %v; want no credentials and the refresh's error", r.creds, r.err)
	}
	if p.Calls() != 2 {
		t.Fatalf("getter called %d times, want 2 (one refresh, joined)", p.Calls())
	}
}

// After a failed advisory refresh, the instant handed out with the current
// credentials never passes the mandatory window, however long RetryMin is.
func TestAdvisoryDueCappedAtMandatoryWindow(t *testing.T) {
	ctx := context.Background()
	clock := NewFakeClock(testutil.T0)
	p := newFakeProvider(clock, time.Hour)
	p.fail = failFrom(2)
	s := newTestSession(t, p, clock, func(o *Options) { o.RetryMin, o.RetryMax = 2*time.Hour, 2*time.Hour })
	if _, err := s.Credentials(ctx); err != nil {
		t.Fatal(err)
	}
	mandatoryAt := testutil.T0.Add(time.Hour - 600*time.Second)
	clock.Set(testutil.T0.Add(time.Hour - 800*time.Second))
	s.Lookup(ctx) // starts the refresh, which fails
	s.settleForTest()
	for i := range 2 {
		c, due, err := s.Lookup(ctx)
		if err != nil || c.AccessKeyID != testCreds(1, testutil.T0).AccessKeyID {
			t.Fatalf("Lookup %d = %v, %v", i, c, err)
		}
		if !due.Equal(mandatoryAt) {
			t.Fatalf("Lookup %d due = %v, want the mandatory window %v", i, due, mandatoryAt)
		}
	}
	if p.Calls() != 2 {
		t.Fatalf("getter called %d times, want 2", p.Calls())
	}
	clock.Set(mandatoryAt)
	if _, err := s.Credentials(ctx); !errors.Is(err, testutil.ErrBoom) {
		t.Fatalf("mandatory window error = %v, want the getter's error", err)
	}
}

// Callers that need credentials (first fetch, mandatory window) wait for a
// single refresh, and all of them get its result or its error.
func TestMandatorySingleFlight(t *testing.T) {
	const callers = 50
	for _, first := range []bool{true, false} {
		for _, outcome := range []error{nil, testutil.ErrBoom} {
			t.Run(fmt.Sprintf("first=%v/outcome=%v", first, outcome), func(t *testing.T) {
				ctx := context.Background()
				clock := NewFakeClock(testutil.T0)
				p := newFakeProvider(clock, time.Hour)
				s := newTestSession(t, p, clock)
				callsBefore := 0
				if !first {
					if _, err := s.Credentials(ctx); err != nil {
						t.Fatal(err)
					}
					callsBefore = 1
					clock.Set(testutil.T0.Add(time.Hour - 300*time.Second))
				}
				p.gated = true
				results := make(chan lookupResult, callers)
				var start sync.WaitGroup
				start.Add(1)
				for range callers {
					go func() {
						start.Wait()
						c, due, err := s.Lookup(ctx)
						results <- lookupResult{c, due, err}
					}()
				}
				start.Done()
				testutil.Recv(t, "the refresh", p.entered)
				testutil.WaitFor(t, "every caller to join the refresh", func() bool { return s.joinedForTest() == callers })
				p.release <- outcome
				want := testCreds(callsBefore+1, testutil.T0)
				for range callers {
					r := testutil.Recv(t, "a waiting caller", results)
					if outcome != nil {
						if !errors.Is(r.err, outcome) {
							t.Fatalf("caller error = %v, want the refresh's error", r.err)
						}
						assertKind(t, r.err, KindCredential, "")
					} else if r.err != nil || r.creds.AccessKeyID != want.AccessKeyID {
						t.Fatalf("caller got %v, %v; want %v", r.creds, r.err, want)
					}
				}
				if p.Calls() != callsBefore+1 {
					t.Fatalf("getter called %d times for %d callers, want one refresh", p.Calls()-callsBefore, callers)
				}
			})
		}
	}
}

// Credentials that are still expired after a refresh are an error naming
// expiry_time, on the first fetch and in the mandatory window.
func TestExpiredAfterRefresh(t *testing.T) {
	for _, first := range []bool{true, false} {
		for _, lifetime := range []time.Duration{0, -time.Minute} {
			t.Run(fmt.Sprintf("first=%v/lifetime=%v", first, lifetime), func(t *testing.T) {
				ctx := context.Background()
				clock := NewFakeClock(testutil.T0)
				p := newFakeProvider(clock, time.Hour)
				s := newTestSession(t, p, clock)
				if !first {
					if _, err := s.Credentials(ctx); err != nil {
						t.Fatal(err)
					}
					clock.Set(testutil.T0.Add(time.Hour))
				}
				p.lifetime = lifetime
				c, err := s.Credentials(ctx)
				if c != (Credentials{}) {
					t.Errorf("got credentials %v with the error", c)
				}
				assertKind(t, err, KindCredential, "expiry_time")
				testutil.AssertNoSecret(t, "the error", err.Error())
			})
		}
	}
}

// A caller whose context ends while it waits gets a credential error
// wrapping the context's; the refresh goes on for the others.
func TestContextCancelledWhileWaiting(t *testing.T) {
	clock := NewFakeClock(testutil.T0)
	p := newFakeProvider(clock, time.Hour)
	p.gated = true
	s := newTestSession(t, p, clock)
	ctx, cancel := context.WithCancel(context.Background())
	impatient := goLookup(ctx, s)
	testutil.Recv(t, "the first fetch", p.entered)
	patient := goLookup(context.Background(), s)
	testutil.WaitFor(t, "both callers to join", func() bool { return s.joinedForTest() == 2 })
	cancel()
	r := testutil.Recv(t, "the impatient caller", impatient)
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("impatient caller error = %v, want context.Canceled", r.err)
	}
	assertKind(t, r.err, KindCredential, "")
	p.release <- nil
	if r := testutil.Recv(t, "the patient caller", patient); r.err != nil || r.creds.AccessKeyID != testCreds(1, testutil.T0).AccessKeyID {
		t.Fatalf("patient caller got %v, %v", r.creds, r.err)
	}
	// Refresh honours its context too.
	ctx2, cancel2 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := s.Refresh(ctx2); done <- err }()
	testutil.Recv(t, "the forced refresh", p.entered)
	cancel2()
	if err := testutil.Recv(t, "Refresh", done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Refresh error = %v, want context.Canceled", err)
	}
	p.release <- nil
	testutil.WaitFor(t, "the refresh to land", func() bool { return s.curForTest().creds.AccessKeyID == testCreds(2, testutil.T0).AccessKeyID })
	if p.Calls() != 2 {
		t.Fatalf("getter called %d times, want 2", p.Calls())
	}
}

// TestRefreshTimeout: with RefreshTimeout set, a caller waiting for a
// provider that does not return gets a KindCredential error naming
// refresh_timeout once it passes (on the session's clock), the refresh goes
// on, and the next caller gets its result without a second fetch.
func TestRefreshTimeout(t *testing.T) {
	clock := NewFakeClock(testutil.T0)
	p := newFakeProvider(clock, time.Hour)
	p.gated = true
	s := newTestSession(t, p, clock, func(o *Options) { o.RefreshTimeout = 5 * time.Second })
	waiting := goLookup(context.Background(), s)
	testutil.Recv(t, "the first fetch", p.entered)
	waitArmed(t, clock, testutil.T0.Add(5*time.Second))
	clock.Advance(5 * time.Second)
	r := testutil.Recv(t, "the waiting caller", waiting)
	assertKind(t, r.err, KindCredential, "refresh_timeout")
	// Refresh gives up the same way; the refresh in flight is the same one.
	forced := make(chan error, 1)
	go func() { _, err := s.Refresh(context.Background()); forced <- err }()
	waitArmed(t, clock, clock.Now().Add(5*time.Second))
	clock.Advance(5 * time.Second)
	assertKind(t, testutil.Recv(t, "Refresh", forced), KindCredential, "refresh_timeout")
	p.release <- nil // the provider returns at last
	testutil.WaitFor(t, "the refresh to land", func() bool { return s.curForTest() != nil })
	c, err := s.Credentials(context.Background())
	if err != nil || c.AccessKeyID != testCreds(1, testutil.T0).AccessKeyID || p.Calls() != 1 {
		t.Fatalf("after the late refresh: %v, %v, %d fetches", c.AccessKeyID, err, p.Calls())
	}
	if err := (&Options{AdvisoryTimeout: 1, RetryMin: 1, RetryMax: 1, RefreshTimeout: -1}).Validate(); err == nil {
		t.Error("a negative RefreshTimeout was accepted")
	}
}

func TestRefreshForcesAndJoins(t *testing.T) {
	ctx := context.Background()
	clock := NewFakeClock(testutil.T0)
	p := newFakeProvider(clock, time.Hour)
	s := newTestSession(t, p, clock)
	for i := 1; i <= 3; i++ {
		c, err := s.Refresh(ctx)
		if err != nil || c.AccessKeyID != testCreds(i, testutil.T0).AccessKeyID {
			t.Fatalf("Refresh %d = %v, %v", i, c, err)
		}
	}
	if got, _ := s.Credentials(ctx); got.AccessKeyID != testCreds(3, testutil.T0).AccessKeyID {
		t.Fatalf("Credentials after Refresh = %v", got)
	}
	p.fail = failFrom(4)
	if _, err := s.Refresh(ctx); !errors.Is(err, testutil.ErrBoom) {
		t.Fatalf("failed Refresh error = %v", err)
	}
	if st := s.Stats(); st.Fetches != 4 || st.Failures != 1 {
		t.Fatalf("Stats = %+v, want 4 fetches, 1 failure", st)
	}
}

// A provider panic becomes a credential error (without the panic value,
// which may hold secrets), and the session keeps working.
func TestProviderPanic(t *testing.T) {
	for _, v := range []any{testutil.SecretMark + "in a panic", errors.New(testutil.TokenMark), 42} {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
			clock := NewFakeClock(testutil.T0)
			var calls atomic.Int64
			p := ProviderFunc(func(ctx context.Context) (Credentials, error) {
				if calls.Add(1) == 1 {
					panic(v)
				}
				return testCreds(2, clock.Now().Add(time.Hour)), nil
			})
			var logs testutil.SyncBuffer
			_, err := NewSession(p, func(o *Options) {
				o.DeferRefresh, o.Clock, o.Logger = false, clock, slog.New(slog.NewTextHandler(&logs, nil))
			})
			assertKind(t, err, KindCredential, "")
			if !strings.Contains(err.Error(), "panicked") {
				t.Errorf("error %q does not say the provider panicked", err)
			}
			testutil.AssertNoSecret(t, "the panic error", err.Error())
			testutil.AssertNoSecret(t, "the panic log", logs.String())

			calls.Store(0)
			s := newTestSession(t, p, clock)
			if _, err := s.Credentials(context.Background()); KindOf(err) != KindCredential {
				t.Fatalf("deferred panic error = %v", err)
			}
			if c, err := s.Credentials(context.Background()); err != nil || c.AccessKeyID != testCreds(2, testutil.T0).AccessKeyID {
				t.Fatalf("after a panic: %v, %v", c, err)
			}
		})
	}
}

// identityProvider answers Identity with the access key it was given.
type identityProvider struct{ *fakeProvider }

func (p identityProvider) Identity(ctx context.Context, c Credentials) (map[string]any, error) {
	return map[string]any{"access_key": c.AccessKeyID}, nil
}

func TestIdentity(t *testing.T) {
	ctx := context.Background()
	clock := NewFakeClock(testutil.T0)
	s := newTestSession(t, newFakeProvider(clock, time.Hour), clock)
	if id, err := s.Identity(ctx); err != nil || id["method"] != "custom" {
		t.Fatalf("Identity = %v, %v", id, err)
	}
	s2 := newTestSession(t, identityProvider{newFakeProvider(clock, time.Hour)}, clock)
	if id, err := s2.Identity(ctx); err != nil || id["access_key"] != testCreds(1, testutil.T0).AccessKeyID {
		t.Fatalf("Identity = %v, %v", id, err)
	}
}

// Every call after Close is a KindClosed error; Close twice is fine and
// releases the provider once.
func TestCallsAfterClose(t *testing.T) {
	ctx := context.Background()
	for _, withIdentity := range []bool{false, true} {
		clock := NewFakeClock(testutil.T0)
		var inner Provider = newFakeProvider(clock, time.Hour)
		if withIdentity {
			inner = identityProvider{inner.(*fakeProvider)}
		}
		cp := &closerProvider{Provider: inner}
		s, err := NewSession(cp, func(o *Options) {
			o.DeferRefresh, o.BackgroundRefresh, o.Clock, o.Logger = false, true, clock, testutil.DiscardLogger
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := s.Close(); err != nil {
				t.Fatalf("Close #%d = %v", i+1, err)
			}
		}
		if cp.closes.Load() != 1 {
			t.Fatalf("provider closed %d times, want 1", cp.closes.Load())
		}
		calls := map[string]func() error{
			"Credentials": func() error { _, err := s.Credentials(ctx); return err },
			"Lookup":      func() error { _, _, err := s.Lookup(ctx); return err },
			"Refresh":     func() error { _, err := s.Refresh(ctx); return err },
			"Retrieve":    func() error { _, err := s.Retrieve(ctx); return err },
			"Identity":    func() error { _, err := s.Identity(ctx); return err },
		}
		for name, call := range calls {
			err := call()
			assertKind(t, err, KindClosed, "")
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close: errors.Is(%v, ErrClosed) = false", name, err)
			}
		}
		clock.Advance(24 * time.Hour)
		if n := cp.Provider.(interface{ Calls() int }).Calls(); n != 1 {
			t.Fatalf("getter called %d times, want only the eager fetch", n)
		}
	}
}

// Close waits for a refresh in flight; the caller waiting on it gets an
// answer, and the getter sees its context cancelled.
func TestCloseWaitsForRefreshInFlight(t *testing.T) {
	clock := NewFakeClock(testutil.T0)
	var returned atomic.Bool
	entered := make(chan struct{})
	release := make(chan struct{})
	var sawCancel atomic.Bool
	p := ProviderFunc(func(ctx context.Context) (Credentials, error) {
		close(entered)
		<-release
		sawCancel.Store(ctx.Err() != nil)
		returned.Store(true)
		return testCreds(1, clock.Now().Add(time.Hour)), nil
	})
	s := newTestSession(t, p, clock)
	waiter := goLookup(context.Background(), s)
	<-entered
	closed := make(chan struct{})
	go func() {
		s.Close()
		if !returned.Load() {
			t.Error("Close returned before the getter did")
		}
		close(closed)
	}()
	testutil.WaitFor(t, "Close to start", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.closed })
	select {
	case <-closed:
		t.Fatal("Close returned while a refresh was in flight")
	default:
	}
	close(release)
	testutil.Recv(t, "Close", closed)
	if !sawCancel.Load() {
		t.Error("the getter's context was not cancelled by Close")
	}
	testutil.Recv(t, "the waiting caller", waiter)
	if _, err := s.Credentials(context.Background()); KindOf(err) != KindClosed {
		t.Fatalf("after Close: %v", err)
	}
}

// Renewal is scheduled before the advisory window opens, with jitter of at
// most a tenth of the time to it (at most a minute).
func TestRenewAtJitter(t *testing.T) {
	for _, lifetime := range []time.Duration{4 * time.Minute, 20 * time.Minute, time.Hour, 12 * time.Hour} {
		t.Run(lifetime.String(), func(t *testing.T) {
			s := &Session{opts: Options{AdvisoryTimeout: 900 * time.Second, MandatoryTimeout: 600 * time.Second}}
			distinct := map[time.Time]bool{}
			for n := range 200 {
				e := s.newEntry(testCreds(n, testutil.T0.Add(lifetime)), testutil.T0)
				lead := min(e.advisoryAt.Sub(testutil.T0)/10, time.Minute)
				if !e.renewAt.After(testutil.T0) || e.renewAt.After(e.advisoryAt) || e.renewAt.Before(e.advisoryAt.Add(-lead)) {
					t.Fatalf("renewAt %v outside (%v, %v]", e.renewAt, e.advisoryAt.Add(-lead), e.advisoryAt)
				}
				if e.mandatoryAt.Before(e.advisoryAt) {
					t.Fatalf("mandatory window %v opens before the advisory one %v", e.mandatoryAt, e.advisoryAt)
				}
				distinct[e.renewAt] = true
			}
			if len(distinct) < 100 {
				t.Fatalf("only %d distinct renewal instants in 200: no jitter", len(distinct))
			}
		})
	}
}

// Background refresh renews before the advisory window, so readers never
// refresh or wait themselves.
func TestBackgroundRefreshRenewsAhead(t *testing.T) {
	ctx := context.Background()
	clock := NewFakeClock(testutil.T0)
	p := newFakeProvider(clock, time.Hour)
	s := newTestSession(t, p, clock, func(o *Options) { o.DeferRefresh, o.BackgroundRefresh = false, true })
	for cycle := 2; cycle <= 4; cycle++ {
		e := s.curForTest()
		waitArmed(t, clock, e.renewAt)
		clock.Set(e.renewAt.Add(-time.Nanosecond))
		if c, _, err := s.Lookup(ctx); err != nil || c != e.creds {
			t.Fatalf("cycle %d: before renewAt: %v, %v", cycle, c, err)
		}
		if p.Calls() != cycle-1 {
			t.Fatalf("cycle %d: getter called %d times before renewAt", cycle, p.Calls())
		}
		clock.Set(e.renewAt)
		testutil.WaitFor(t, "the background refresh", func() bool { return s.curForTest() != e })
		if !clock.Now().Before(e.advisoryAt) && e.renewAt != e.advisoryAt {
			t.Fatalf("renewed at %v, not before the advisory window %v", clock.Now(), e.advisoryAt)
		}
		c, due, err := s.Lookup(ctx)
		if err != nil || c.AccessKeyID != testCreds(cycle, testutil.T0).AccessKeyID {
			t.Fatalf("cycle %d: reader got %v, %v", cycle, c, err)
		}
		if !due.Equal(s.curForTest().advisoryAt) {
			t.Fatalf("due %v, want the new advisory window %v", due, s.curForTest().advisoryAt)
		}
		if p.Calls() != cycle {
			t.Fatalf("cycle %d: getter called %d times", cycle, p.Calls())
		}
	}
}

// A reader's refresh moves the background renewal to the new credentials
// instead of renewing them again at the old instant.
func TestBackgroundFollowsForegroundRefresh(t *testing.T) {
	clock := NewFakeClock(testutil.T0)
	p := newFakeProvider(clock, time.Hour)
	s := newTestSession(t, p, clock, func(o *Options) { o.DeferRefresh, o.BackgroundRefresh = false, true })
	e1 := s.curForTest()
	waitArmed(t, clock, e1.renewAt)
	clock.Set(e1.renewAt.Add(-time.Second))
	if _, err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	e2 := s.curForTest()
	waitArmed(t, clock, e2.renewAt)
	clock.Set(e1.renewAt)
	if p.Calls() != 2 {
		t.Fatalf("background renewed fresh credentials (%d calls)", p.Calls())
	}
	clock.Set(e2.renewAt)
	testutil.WaitFor(t, "the renewal of the new credentials", func() bool { return p.Calls() == 3 })
}

// With refresh deferred, background refresh fetches nothing until first use.
func TestBackgroundRefreshDeferred(t *testing.T) {
	clock := NewFakeClock(testutil.T0)
	p := newFakeProvider(clock, time.Hour)
	s := newTestSession(t, p, clock, func(o *Options) { o.BackgroundRefresh = true })
	clock.Advance(48 * time.Hour)
	if p.Calls() != 0 || clock.Waiters() != 0 {
		t.Fatalf("deferred session with background refresh: %d calls, %d timers", p.Calls(), clock.Waiters())
	}
	if _, err := s.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := s.curForTest()
	waitArmed(t, clock, e.renewAt)
	clock.Set(e.renewAt)
	testutil.WaitFor(t, "the background refresh", func() bool { return p.Calls() == 2 })
}

// failingBackgroundSession opens an eager session with background refresh
// (RetryMin 1 s, RetryMax 4 s) whose getter fails while healthy is false,
// turns healthy off and moves the clock to the first entry's renewal, and
// waits for that (failed) refresh. It returns the first entry.
func failingBackgroundSession(t *testing.T) (*FakeClock, *fakeProvider, *Session, *atomic.Bool, *entry) {
	t.Helper()
	clock := NewFakeClock(testutil.T0)
	p := newFakeProvider(clock, time.Hour)
	var healthy atomic.Bool
	healthy.Store(true)
	p.fail = func(int) error {
		if healthy.Load() {
			return nil
		}
		return testutil.ErrBoom
	}
	s := newTestSession(t, p, clock, func(o *Options) {
		o.DeferRefresh, o.BackgroundRefresh, o.RetryMin, o.RetryMax = false, true, time.Second, 4*time.Second
	})
	healthy.Store(false)
	e := s.curForTest()
	waitArmed(t, clock, e.renewAt)
	clock.Set(e.renewAt)
	testutil.WaitFor(t, "the first background refresh (failing)", func() bool { return p.Calls() == 2 })
	return clock, p, s, &healthy, e
}

// After failures the background retries with exponential backoff between
// RetryMin/2..RetryMin, doubling, capped at RetryMax; a success resets it.
func TestBackgroundRefreshBackoff(t *testing.T) {
	clock, p, s, healthy, e := failingBackgroundSession(t)
	for i, b := range []struct{ lo, hi time.Duration }{
		{500 * time.Millisecond, time.Second},
		{time.Second, 2 * time.Second},
		{2 * time.Second, 4 * time.Second},
		{2 * time.Second, 4 * time.Second},
		{2 * time.Second, 4 * time.Second},
	} {
		testutil.WaitFor(t, "the backoff timer", func() bool { return clock.Waiters() == 1 })
		start := clock.Now()
		clock.Set(start.Add(b.lo - time.Nanosecond))
		if clock.Waiters() != 1 || p.Calls() != 2+i {
			t.Fatalf("retry %d fired before %v", i+1, b.lo)
		}
		clock.Set(start.Add(b.hi))
		testutil.WaitFor(t, fmt.Sprintf("retry %d", i+1), func() bool { return p.Calls() == 3+i })
	}
	healthy.Store(true)
	testutil.WaitFor(t, "the backoff timer", func() bool { return clock.Waiters() == 1 })
	clock.Advance(4 * time.Second)
	testutil.WaitFor(t, "the successful retry", func() bool { return s.curForTest() != e })
	e = s.curForTest()
	calls := p.Calls()
	// Success resets the backoff: the next timer is the renewal, not a retry.
	waitArmed(t, clock, e.renewAt)
	clock.Advance(time.Hour / 2)
	if p.Calls() != calls {
		t.Fatalf("background refreshed at +30m after a success; renewAt is %v", e.renewAt)
	}
	clock.Set(e.renewAt)
	testutil.WaitFor(t, "the next renewal", func() bool { return p.Calls() == calls+1 })
}

// A reader's successful refresh ends the background backoff: the next
// timer is the new entry's renewal.
func TestBackgroundBackoffEndsOnReaderRefresh(t *testing.T) {
	clock, p, s, healthy, _ := failingBackgroundSession(t)
	testutil.WaitFor(t, "the backoff timer", func() bool { return clock.Waiters() == 1 })
	healthy.Store(true)
	if _, err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := s.curForTest()
	waitArmed(t, clock, e.renewAt)
	clock.Advance(4 * time.Second) // the old backoff timer fires to no one
	if p.Calls() != 3 {
		t.Fatalf("getter called %d times, want 3: the backoff went on after a reader's refresh", p.Calls())
	}
	clock.Set(e.renewAt)
	testutil.WaitFor(t, "the renewal", func() bool { return p.Calls() == 4 })
}

func TestBackoffBounds(t *testing.T) {
	for _, tc := range []struct{ min, max time.Duration }{
		{time.Second, time.Minute},
		{5 * time.Second, time.Hour},
		{time.Hour, 1 << 62},
		{time.Nanosecond, 1<<63 - 1},
		{time.Minute, time.Minute},
	} {
		s := &Session{opts: Options{RetryMin: tc.min, RetryMax: tc.max}}
		for n := 1; n <= 200; n++ {
			want := tc.max // min(RetryMin * 2^(n-1), RetryMax), computed without overflow
			if w := new(big.Int).Lsh(big.NewInt(int64(tc.min)), uint(n-1)); w.Cmp(big.NewInt(int64(tc.max))) < 0 {
				want = time.Duration(w.Int64())
			}
			for range 20 {
				d := s.backoff(n)
				if d < want/2 || d > want {
					t.Fatalf("backoff(%d) with RetryMin %v, RetryMax %v = %v, want in [%v, %v]", n, tc.min, tc.max, d, want/2, want)
				}
			}
		}
	}
}

// The getter is never called after Close returns, with background refresh
// and readers racing Close.
func TestNoGetterCallAfterClose(t *testing.T) {
	for i := range 60 {
		var closed atomic.Bool
		var after, calls atomic.Int64
		p := ProviderFunc(func(ctx context.Context) (Credentials, error) {
			if closed.Load() {
				after.Add(1)
			}
			switch n := calls.Add(1); {
			case n == 1: // the eager fetch must not fail on a slow machine
				return testCreds(i, time.Now().Add(time.Hour)), nil
			case n%3 == 0:
				return Credentials{}, testutil.ErrBoom
			}
			return testCreds(i, time.Now().Add(4*time.Millisecond)), nil
		})
		s, err := NewSession(p, func(o *Options) {
			o.DeferRefresh, o.BackgroundRefresh, o.Logger = false, true, testutil.DiscardLogger
			o.RetryMin, o.RetryMax = time.Microsecond, 50*time.Microsecond
		})
		if err != nil {
			t.Fatal(err)
		}
		var readers sync.WaitGroup
		for r := range 3 {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					var err error
					if r == 0 {
						_, err = s.Refresh(context.Background())
					} else {
						_, err = s.Credentials(context.Background())
					}
					if KindOf(err) == KindClosed {
						return
					}
				}
			}()
		}
		testutil.WaitFor(t, "some refreshes", func() bool { return calls.Load() >= int64(2+i%5) })
		s.Close()
		closed.Store(true)
		readers.Wait()
		if n := after.Load(); n != 0 {
			t.Fatalf("iteration %d: getter called %d times after Close returned", i, n)
		}
	}
}

// Retrieve hands the SDK the current credentials with their expiry.
func TestRetrieve(t *testing.T) {
	clock := NewFakeClock(testutil.T0)
	s := newTestSession(t, newFakeProvider(clock, time.Hour), clock)
	var cp aws.CredentialsProvider = s
	got, err := cp.Retrieve(context.Background())
	want := testCreds(1, testutil.T0.Add(time.Hour))
	if err != nil || got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey ||
		got.SessionToken != want.SessionToken || !got.Expires.Equal(want.Expires) || !got.CanExpire || got.Source == "" {
		t.Fatalf("Retrieve = %+v, %v", got, err)
	}
}

// TestOnRefreshPushesNewCredentials: the listener sees every refreshed set
// with its reuse deadline, and is never called after Close returns.
func TestOnRefreshPushesNewCredentials(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := NewFakeClock(t0)
	p := newFakeProvider(clock, time.Hour)
	s := newTestSession(t, p, clock)
	type push struct {
		key string
		due time.Time
	}
	pushes := make(chan push, 10)
	var closed atomic.Bool
	var late atomic.Int32
	s.OnRefresh(func(c Credentials, due time.Time) {
		if closed.Load() {
			late.Add(1)
		}
		pushes <- push{c.AccessKeyID, due}
	})
	ctx := context.Background()
	c, due, err := s.Lookup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := testutil.Recv(t, "the first push", pushes)
	if got.key != c.AccessKeyID || !got.due.Equal(due) {
		t.Fatalf("push %+v, want key %s due %v", got, c.AccessKeyID, due)
	}
	c2, err := s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := testutil.Recv(t, "the second push", pushes); got.key != c2.AccessKeyID || got.key == c.AccessKeyID {
		t.Fatalf("second push %+v, want the new key %s", got, c2.AccessKeyID)
	}
	s.OnRefresh(nil)
	if _, err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-pushes:
		t.Fatalf("removed listener was called with %+v", p)
	default:
	}
	s.OnRefresh(func(Credentials, time.Time) {
		if closed.Load() {
			late.Add(1)
		}
	})
	go func() {
		for range 50 {
			s.Refresh(ctx)
		}
	}()
	s.Close()
	closed.Store(true)
	time.Sleep(20 * time.Millisecond) // let a straggler run, if there were one
	if n := late.Load(); n != 0 {
		t.Fatalf("listener called %d times after Close returned", n)
	}
}
