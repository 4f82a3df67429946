// Package singleflight runs one call of a function at a time for any
// number of callers: the first caller begins a Flight, the others join
// it, and every one of them gets the same result. It is the single flight
// of gobrs, used by the refresh engine (core.Session: one provider call
// per session) and by the shared assumed-role cache of core/sts (one
// AssumeRole call per identity, shared by sessions).
//
// Unlike golang.org/x/sync/singleflight it holds no lock and no goroutine
// of its own. Its owner guards a Group with its own mutex, so that it can
// decide under one lock whether a call is due and publish a call's result
// in the same critical section that ends the flight; and the owner runs
// the call on a goroutine of its own, so that a caller may stop waiting
// (its context ends, a timeout passes) while the call goes on for the
// others. The life of a flight:
//
//	mu.Lock()
//	f := g.Join(func() *Flight[T] { f := g.Begin(); go run(f); return f })
//	mu.Unlock()
//	select { case <-f.Done(): v, err := f.Result() ...; case <-ctx.Done(): ... }
//
//	// run, on its own goroutine:
//	v, err := singleflight.Call(fetch, onPanic) // a panic is an error
//	mu.Lock(); g.End(f); publish(v, err); mu.Unlock()
//	f.Finish(v, err) // releases the waiters
package singleflight

// Flight is one call in progress and, once finished, its result.
type Flight[T any] struct {
	done   chan struct{}
	val    T
	err    error
	joined int // guarded by the owner's mutex
}

// Done returns a channel that is closed when the flight finishes.
func (f *Flight[T]) Done() <-chan struct{} { return f.done }

// Result returns the flight's result. It is set once Done is closed.
func (f *Flight[T]) Result() (T, error) { return f.val, f.err }

// Joined returns how many callers joined the flight with Group.Join. The
// owner's mutex must be held.
func (f *Flight[T]) Joined() int { return f.joined }

// Finish sets the result and releases every waiter. It is called once, by
// the goroutine that ran the call, after Group.End.
func (f *Flight[T]) Finish(val T, err error) {
	f.val, f.err = val, err
	close(f.done)
}

// Group holds the flight in progress, if any. The zero value is a Group
// without one. Its methods are called with the owner's mutex held.
type Group[T any] struct {
	flight *Flight[T]
}

// InFlight returns the flight in progress, or nil.
func (g *Group[T]) InFlight() *Flight[T] { return g.flight }

// Begin records a new flight and returns it; the caller starts the call.
// It panics when a flight is in progress: a Group has one at a time.
func (g *Group[T]) Begin() *Flight[T] {
	if g.flight != nil {
		panic("singleflight: Begin with a flight in progress")
	}
	g.flight = &Flight[T]{done: make(chan struct{})}
	return g.flight
}

// Join returns the flight in progress, or the one begin begins (begin
// calls Begin and starts the call) when there is none, and counts the
// caller among the flight's waiters.
func (g *Group[T]) Join(begin func() *Flight[T]) *Flight[T] {
	f := g.flight
	if f == nil {
		f = begin()
	}
	f.joined++
	return f
}

// End forgets f, so that the next caller begins a new flight; f's waiters
// are released by f.Finish. The owner calls it in the critical section in
// which it publishes f's result. Ending a flight that is not the one in
// progress does nothing.
func (g *Group[T]) End(f *Flight[T]) {
	if g.flight == f {
		g.flight = nil
	}
}

// Call returns fn's result, or onPanic's error when fn panics (with the
// value the panic was called with): the goroutine of a flight never dies
// with its waiters still waiting.
func Call[T any](fn func() (T, error), onPanic func(r any) error) (val T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			val, err = zero, onPanic(r)
		}
	}()
	return fn()
}
