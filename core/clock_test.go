package core

import (
	"testing"
	"time"

	"github.com/gobrs/gobrs/internal/testutil"
)

func TestFakeClock(t *testing.T) {
	c := NewFakeClock(testutil.T0)
	if !c.Now().Equal(testutil.T0) {
		t.Fatalf("Now = %v", c.Now())
	}
	immediate := c.After(0)
	negative := c.After(-time.Second)
	for _, ch := range []<-chan time.Time{immediate, negative} {
		select {
		case got := <-ch:
			if !got.Equal(testutil.T0) {
				t.Errorf("immediate After fired with %v", got)
			}
		default:
			t.Error("After(d <= 0) did not fire at once")
		}
	}
	a := c.After(time.Minute)
	b := c.After(2 * time.Minute)
	if c.Waiters() != 2 {
		t.Fatalf("Waiters = %d, want 2", c.Waiters())
	}
	pending := func(ch <-chan time.Time) bool {
		select {
		case <-ch:
			return false
		default:
			return true
		}
	}
	c.Advance(time.Minute - time.Nanosecond)
	if !pending(a) || !pending(b) {
		t.Fatal("a timer fired early")
	}
	c.Advance(time.Nanosecond)
	if pending(a) || !pending(b) || c.Waiters() != 1 {
		t.Fatal("the one-minute timer did not fire alone at one minute")
	}
	c.Set(testutil.T0.Add(time.Hour))
	if pending(b) || c.Waiters() != 0 {
		t.Fatal("Set did not fire the due timer")
	}
	c.Set(testutil.T0) // moving back is allowed and fires nothing
	if !c.Now().Equal(testutil.T0) {
		t.Fatalf("Now after Set back = %v", c.Now())
	}
}

func TestSystemClock(t *testing.T) {
	var c Clock = SystemClock{}
	before := time.Now()
	if now := c.Now(); now.Before(before) {
		t.Fatalf("SystemClock.Now went back: %v < %v", now, before)
	}
	<-c.After(time.Nanosecond)
}
