package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobrs/gobrs/internal/testutil"
)

// testCreds returns the n-th set of fake credentials, expiring at exp.
func testCreds(n int, exp time.Time) Credentials {
	return Credentials{
		AccessKeyID:     fmt.Sprintf("AKIDTEST%08d", n),
		SecretAccessKey: fmt.Sprintf("%s%d", testutil.SecretMark, n),
		SessionToken:    fmt.Sprintf("%s%d", testutil.TokenMark, n),
		Expires:         exp,
	}
}

// fakeProvider counts its calls and answers each with fn (call numbers
// start at 1). With gated set, every call first announces itself on
// entered and then waits for its outcome on release (nil: succeed).
type fakeProvider struct {
	clock    *FakeClock
	lifetime time.Duration
	fail     func(n int) error // nil, or the error of call n (nil: succeed)
	gated    bool
	entered  chan int
	release  chan error

	calls atomic.Int64
}

func newFakeProvider(clock *FakeClock, lifetime time.Duration) *fakeProvider {
	return &fakeProvider{clock: clock, lifetime: lifetime, entered: make(chan int, 100), release: make(chan error)}
}

func (p *fakeProvider) Retrieve(ctx context.Context) (Credentials, error) {
	n := int(p.calls.Add(1))
	var err error
	if p.gated {
		p.entered <- n
		select {
		case err = <-p.release:
		case <-ctx.Done(): // Close: do not hang the test
			return Credentials{}, ctx.Err()
		}
	} else if p.fail != nil {
		err = p.fail(n)
	}
	if err != nil {
		return Credentials{}, err
	}
	return testCreds(n, p.clock.Now().Add(p.lifetime)), nil
}

func (p *fakeProvider) Calls() int { return int(p.calls.Load()) }

// failFrom returns a fail func that fails every call from n on.
func failFrom(n int) func(int) error {
	return func(i int) error {
		if i >= n {
			return testutil.ErrBoom
		}
		return nil
	}
}

// newTestSession opens a session on p with the fake clock and a discarding
// logger (options may override them) and closes it at the end of the test.
func newTestSession(t *testing.T, p Provider, clock Clock, optFns ...func(*Options)) *Session {
	t.Helper()
	fns := append([]func(*Options){func(o *Options) { o.Clock = clock; o.Logger = testutil.DiscardLogger }}, optFns...)
	s, err := NewSession(p, fns...)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// joinedForTest returns how many callers wait on the refresh in flight.
func (s *Session) joinedForTest() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.flights.InFlight(); f != nil {
		return f.Joined()
	}
	return 0
}

// settleForTest waits for the refresh in flight, if any (one an advisory
// read started without waiting), to finish.
func (s *Session) settleForTest() {
	s.mu.Lock()
	f := s.flights.InFlight()
	s.mu.Unlock()
	if f != nil {
		<-f.Done()
	}
}

// curForTest returns the current entry.
func (s *Session) curForTest() *entry { return s.cur.Load() }

// lookupResult is what one concurrent Lookup returned.
type lookupResult struct {
	creds Credentials
	due   time.Time
	err   error
}

func goLookup(ctx context.Context, s *Session) <-chan lookupResult {
	ch := make(chan lookupResult, 1)
	go func() {
		c, due, err := s.Lookup(ctx)
		ch <- lookupResult{c, due, err}
	}()
	return ch
}

// assertKind fails unless err is a *Error of kind k naming param (when
// param is not empty) in its text and Param.
func assertKind(t *testing.T, err error, k Kind, param string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *core.Error", err, err)
	}
	if e.Kind != k {
		t.Errorf("kind = %v, want %v (error: %v)", e.Kind, k, err)
	}
	if param != "" {
		if e.Param != param {
			t.Errorf("Param = %q, want %q (error: %v)", e.Param, param, err)
		}
		if !bytes.Contains([]byte(err.Error()), []byte(param)) {
			t.Errorf("error text %q does not name %q", err.Error(), param)
		}
	}
	return e
}

// waitArmed waits until clock has a timer due at exactly at: the background
// goroutine arms a relative timer, so a test moves the clock only once it
// is armed.
func waitArmed(t *testing.T, clock *FakeClock, at time.Time) {
	t.Helper()
	testutil.WaitFor(t, "a timer at "+at.String(), func() bool {
		clock.mu.Lock()
		defer clock.mu.Unlock()
		for _, w := range clock.waiters {
			if w.at.Equal(at) {
				return true
			}
		}
		return false
	})
}
