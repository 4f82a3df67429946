package singleflight

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var errFailed = errors.New("the call failed")

// owner uses a Group as core.Session and the shared STS cache do: its own
// mutex guards the group, the call runs on its own goroutine and ends the
// flight under the mutex, waiters select on Done and their context.
type owner struct {
	mu      sync.Mutex
	g       Group[int]
	calls   atomic.Int64
	entered chan struct{} // a call started
	release chan struct{} // closed to let the calls return
	outcome string        // "value", "error" or "panic"
	landed  int           // the value published under mu
}

func newOwner(outcome string) *owner {
	return &owner{entered: make(chan struct{}, 100), release: make(chan struct{}), outcome: outcome}
}

func (o *owner) fetch() (int, error) {
	n := int(o.calls.Add(1))
	o.entered <- struct{}{}
	<-o.release
	switch o.outcome {
	case "error":
		return 0, errFailed
	case "panic":
		panic(fmt.Sprintf("boom %d", n))
	}
	return 40 + n, nil
}

func (o *owner) run(f *Flight[int]) {
	v, err := Call(o.fetch, func(r any) error { return fmt.Errorf("the call panicked: %v", r) })
	o.mu.Lock()
	o.g.End(f)
	if err == nil {
		o.landed = v
	}
	o.mu.Unlock()
	f.Finish(v, err)
}

func (o *owner) begin() *Flight[int] {
	f := o.g.Begin()
	go o.run(f)
	return f
}

// get joins the flight (beginning one if needed) and waits for it or ctx.
func (o *owner) get(ctx context.Context) (int, error) {
	o.mu.Lock()
	f := o.g.Join(o.begin)
	o.mu.Unlock()
	select {
	case <-f.Done():
		return f.Result()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// wait blocks until n callers have joined the flight in progress.
func (o *owner) waitJoined(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		o.mu.Lock()
		f := o.g.InFlight()
		joined := 0
		if f != nil {
			joined = f.Joined()
		}
		o.mu.Unlock()
		if joined == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %d callers to join (%d did)", n, joined)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func TestGroupOneCallForEveryWaiter(t *testing.T) {
	for _, tc := range []struct {
		outcome   string
		waiters   int
		cancelOne bool // one waiter's context ends before the call returns
		wantVal   int
		wantErr   string
	}{
		{"value", 1, false, 41, ""},
		{"value", 16, false, 41, ""},
		{"value", 16, true, 41, ""},
		{"error", 16, false, 0, errFailed.Error()},
		{"error", 16, true, 0, errFailed.Error()},
		{"panic", 1, false, 0, "the call panicked: boom 1"},
		{"panic", 16, true, 0, "the call panicked: boom 1"},
	} {
		t.Run(fmt.Sprintf("%s/%d/cancel=%t", tc.outcome, tc.waiters, tc.cancelOne), func(t *testing.T) {
			o := newOwner(tc.outcome)
			type result struct {
				v   int
				err error
			}
			results := make(chan result, tc.waiters)
			for i := 0; i < tc.waiters; i++ {
				go func() {
					v, err := o.get(context.Background())
					results <- result{v, err}
				}()
			}
			cancelled := make(chan error, 1)
			if tc.cancelOne {
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					_, err := o.get(ctx)
					cancelled <- err
				}()
				o.waitJoined(t, tc.waiters+1)
				cancel()
				// the cancelled waiter leaves while the call goes on
				if err := <-cancelled; !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
				}
			} else {
				o.waitJoined(t, tc.waiters)
			}
			<-o.entered
			close(o.release)
			for i := 0; i < tc.waiters; i++ {
				r := <-results
				gotErr := ""
				if r.err != nil {
					gotErr = r.err.Error()
				}
				if r.v != tc.wantVal || gotErr != tc.wantErr {
					t.Fatalf("waiter %d got %d, %q; want %d, %q", i, r.v, gotErr, tc.wantVal, tc.wantErr)
				}
			}
			if n := o.calls.Load(); n != 1 {
				t.Fatalf("%d calls for %d waiters, want 1", n, tc.waiters)
			}
			o.mu.Lock()
			inFlight, landed := o.g.InFlight(), o.landed
			o.mu.Unlock()
			if inFlight != nil {
				t.Fatal("the flight is still in progress after every waiter got its result")
			}
			if landed != tc.wantVal {
				t.Fatalf("the owner published %d, want %d", landed, tc.wantVal)
			}
			// the group is free: the next caller begins a new flight
			// (after a panic too)
			o.release = make(chan struct{})
			close(o.release)
			if _, err := o.get(context.Background()); o.calls.Load() != 2 || (tc.outcome == "value" && err != nil) {
				t.Fatalf("after the flight: %d calls, %v; want a second call", o.calls.Load(), err)
			}
		})
	}
}

// TestGroupEndBeforeFinish: once a flight has ended under the owner's
// mutex, a caller begins a new flight, while the old one's waiters still
// get the old result.
func TestGroupEndBeforeFinish(t *testing.T) {
	var g Group[string]
	old := g.Join(g.Begin)
	g.End(old)
	if g.InFlight() != nil {
		t.Fatal("the ended flight is still in progress")
	}
	next := g.Join(g.Begin)
	if next == old || next.Joined() != 1 {
		t.Fatalf("Join after End returned the old flight or a wrong count (%d)", next.Joined())
	}
	g.End(old) // not the flight in progress: nothing changes
	if g.InFlight() != next {
		t.Fatal("ending a past flight ended the current one")
	}
	old.Finish("old", nil)
	if v, err := old.Result(); v != "old" || err != nil {
		t.Fatalf("old flight: %q, %v", v, err)
	}
	select {
	case <-next.Done():
		t.Fatal("the new flight finished with the old one")
	default:
	}
}

func TestGroupBeginTwicePanics(t *testing.T) {
	var g Group[int]
	g.Begin()
	defer func() {
		if recover() == nil {
			t.Fatal("Begin with a flight in progress did not panic")
		}
	}()
	g.Begin()
}

func TestCallTurnsAPanicIntoAnError(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fn      func() (int, error)
		wantVal int
		wantErr string
	}{
		{"value", func() (int, error) { return 7, nil }, 7, ""},
		{"error", func() (int, error) { return 7, errFailed }, 7, errFailed.Error()},
		{"panic", func() (int, error) { panic("boom") }, 0, "panicked: boom"},
		{"panic with an error", func() (int, error) { panic(errFailed) }, 0, "panicked: " + errFailed.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Call(tc.fn, func(r any) error { return fmt.Errorf("panicked: %v", r) })
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if v != tc.wantVal || gotErr != tc.wantErr {
				t.Fatalf("Call = %d, %q; want %d, %q", v, gotErr, tc.wantVal, tc.wantErr)
			}
		})
	}
}
