package core

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/gobrs/gobrs/internal/singleflight"
)

// Provider returns one set of temporary credentials per call. A Session
// calls Retrieve at most once at a time (single flight) and never after
// Close has returned.
type Provider interface {
	Retrieve(ctx context.Context) (Credentials, error)
}

// ProviderFunc adapts a function to a Provider.
type ProviderFunc func(ctx context.Context) (Credentials, error)

// Retrieve calls f(ctx).
func (f ProviderFunc) Retrieve(ctx context.Context) (Credentials, error) { return f(ctx) }

// Identifier is implemented by providers that can describe the identity the
// credentials belong to (GetCallerIdentity for STS, for instance).
type Identifier interface {
	Identity(ctx context.Context, creds Credentials) (map[string]any, error)
}

// OptionsReceiver is implemented by providers that adapt to the Session
// wrapping them: NewSession hands them its options (windows, clock,
// logger; Clock and Logger never nil) before the first Retrieve. The STS provider uses them to decide
// when a credential it shares with other sessions is too old to reuse.
type OptionsReceiver interface {
	ReceiveOptions(Options)
}

// Closer is implemented by providers that hold resources to release when
// their Session closes.
type Closer interface {
	Close() error
}

// Options configures a Session. NewSession fills the defaults before the
// option functions run, so a function only sets what it changes.
type Options struct {
	// DeferRefresh delays the first fetch until the first read (default
	// true). When false, NewSession fetches and returns the fetch's error.
	DeferRefresh bool

	// AdvisoryTimeout is how long before expiry one caller starts a refresh
	// while the others keep the current credentials; a failed advisory
	// refresh is logged and tolerated. Default 900 s.
	AdvisoryTimeout time.Duration

	// MandatoryTimeout is how long before expiry every caller waits for a
	// successful refresh and gets its error if it fails. Default 600 s.
	// It must not exceed AdvisoryTimeout.
	MandatoryTimeout time.Duration

	// BackgroundRefresh renews the credentials from a goroutine shortly
	// before the advisory window opens (with jitter), retrying with capped
	// exponential backoff, so that no reader ever waits. Default false.
	BackgroundRefresh bool

	// RetryMin and RetryMax bound the background refresh backoff
	// (defaults 1 s and 60 s). RetryMin is also how long a failed advisory
	// refresh is left alone before the next reader tries again.
	RetryMin, RetryMax time.Duration

	// RefreshTimeout, when positive, bounds how long a caller waits for a
	// refresh: after it the caller gets a KindCredential error (or, in the
	// advisory window, the current credentials) while the refresh goes on
	// in the background and is used once it lands. It is the way out of a
	// provider that never returns, such as a getter deadlocked on a read of
	// its own session from another thread. Default 0: wait as long as the
	// refresh takes, as boto3-refresh-session does.
	RefreshTimeout time.Duration

	// Clock is the time source (default SystemClock).
	Clock Clock

	// Logger receives refresh failures, never secrets (default
	// slog.Default()).
	Logger *slog.Logger

	// Published, when set, is called with each new set of credentials as
	// it becomes current, and the instant until which it may be reused (as
	// Lookup's second result), under the session's lock and before any
	// waiting caller is released, so that a copy kept from it (the C
	// library's) is never older than what a caller was handed. It must
	// return quickly and must not call the Session.
	Published func(c Credentials, until time.Time)
}

// Validate checks the options; errors name the Python parameter.
func (o *Options) Validate() error {
	switch {
	case o.AdvisoryTimeout < 0:
		return NewValidationError("advisory_timeout", fmt.Sprint(o.AdvisoryTimeout.Seconds()), "advisory_timeout must not be negative")
	case o.MandatoryTimeout < 0:
		return NewValidationError("mandatory_timeout", fmt.Sprint(o.MandatoryTimeout.Seconds()), "mandatory_timeout must not be negative")
	case o.MandatoryTimeout > o.AdvisoryTimeout:
		return NewValidationError("mandatory_timeout", fmt.Sprint(o.MandatoryTimeout.Seconds()),
			"mandatory_timeout (%gs) must not exceed advisory_timeout (%gs)", o.MandatoryTimeout.Seconds(), o.AdvisoryTimeout.Seconds())
	case o.RefreshTimeout < 0:
		return NewValidationError("refresh_timeout", fmt.Sprint(o.RefreshTimeout.Seconds()), "refresh_timeout must not be negative")
	case o.RetryMin <= 0 || o.RetryMax < o.RetryMin:
		return NewValidationError("retry", "", "background retry bounds must satisfy 0 < RetryMin <= RetryMax")
	}
	return nil
}

// entry is one fetched set of credentials and the instants its windows open.
type entry struct {
	creds       Credentials
	advisoryAt  time.Time // advisory window opens
	mandatoryAt time.Time // mandatory window opens
	renewAt     time.Time // background refresh fires (jittered, before advisoryAt)
	retryAt     time.Time // no advisory refresh before this, after a failed one
}

// flight is one refresh in progress; every caller that needs it waits on
// it and gets the new entry or the refresh's error.
type flight = singleflight.Flight[*entry]

// Session wraps a Provider with botocore's refresh contract (advisory and
// mandatory windows), single flight and optional background refresh. It is
// safe for concurrent use and implements aws.CredentialsProvider.
type Session struct {
	provider Provider
	opts     Options
	ctx      context.Context // the provider's; cancelled by Close
	cancel   context.CancelFunc
	updated  chan struct{}
	wg       sync.WaitGroup

	mu  sync.Mutex
	cur atomic.Pointer[entry] // written under mu; read without it on the fast path

	onRefresh atomic.Pointer[func(Credentials, time.Time)]
	notifyMu  sync.Mutex                 // one OnRefresh listener call at a time
	flights   singleflight.Group[*entry] // guarded by mu
	closed    bool
	stats     Stats
	warnings  []Warning // set by NewSessionFromJSON, then read only
}

// Stats counts what a Session has done.
type Stats struct {
	// Fetches is the number of provider calls; Failures how many failed.
	Fetches, Failures int64
}

var _ aws.CredentialsProvider = (*Session)(nil)

// DefaultOptions returns the options a Session has before its option
// functions run (botocore's windows, the system clock, slog.Default()).
func DefaultOptions() Options {
	return Options{
		DeferRefresh:     true,
		AdvisoryTimeout:  900 * time.Second,
		MandatoryTimeout: 600 * time.Second,
		RetryMin:         time.Second,
		RetryMax:         time.Minute,
		Clock:            SystemClock{},
		Logger:           slog.Default(),
	}
}

// fillNil puts the defaults back into a nil Clock or Logger.
func (o *Options) fillNil() {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// NewSession wraps provider in a refreshing Session. With DeferRefresh
// false it fetches once before returning and returns that error, if any.
func NewSession(provider Provider, optFns ...func(*Options)) (*Session, error) {
	if provider == nil {
		return nil, NewValidationError("provider", "", "a credential provider is required")
	}
	opts := DefaultOptions()
	for _, fn := range optFns {
		fn(&opts)
	}
	opts.fillNil()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if r, ok := provider.(OptionsReceiver); ok {
		r.ReceiveOptions(opts)
	}
	s := &Session{provider: provider, opts: opts, updated: make(chan struct{}, 1)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.BackgroundRefresh {
		s.wg.Add(1)
		go s.background()
	}
	if !opts.DeferRefresh {
		if _, err := s.Credentials(context.Background()); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Options returns the options the session runs with.
func (s *Session) Options() Options { return s.opts }

// Warnings returns what the session does otherwise than its JSON config
// asked (NewSessionFromJSON), in the order decided; nil when nothing.
func (s *Session) Warnings() []Warning { return s.warnings }

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Credentials returns credentials valid for use now, refreshing them as the
// windows demand.
func (s *Session) Credentials(ctx context.Context) (Credentials, error) {
	c, _, err := s.Lookup(ctx)
	return c, err
}

// Retrieve implements aws.CredentialsProvider.
func (s *Session) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := s.Credentials(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Source: "gobrs", CanExpire: true, Expires: c.Expires}, nil
}

// Lookup returns credentials valid for use now and the instant until which
// the caller may keep using them without asking again (the start of the
// advisory window, or sooner while a refresh is pending). Callers that keep
// a copy, like the Python layer, use it to avoid a call per request.
func (s *Session) Lookup(ctx context.Context) (Credentials, time.Time, error) {
	// Fast path, without the lock: fresh credentials. An entry's creds and
	// window instants never change once it is published. now is read once:
	// the checks under the lock below use the same instant.
	now := s.opts.Clock.Now()
	if e := s.cur.Load(); e != nil && now.Before(e.advisoryAt) {
		return e.creds, e.advisoryAt, nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Credentials{}, time.Time{}, errClosed()
	}
	e := s.cur.Load()
	if e != nil && now.Before(e.advisoryAt) { // a refresh landed meanwhile
		s.mu.Unlock()
		return e.creds, e.advisoryAt, nil
	}
	if e != nil && now.Before(e.mandatoryAt) {
		// Advisory window: the first caller starts a refresh and, like
		// every caller until it lands, goes on at once with the current
		// credentials. A failure is logged and tolerated (retried after
		// RetryMin); the mandatory window makes callers wait.
		if s.flights.InFlight() == nil && !now.Before(e.retryAt) {
			s.startLocked()
		}
		due := s.dueLocked(e, now)
		s.mu.Unlock()
		return e.creds, due, nil
	}
	// No credentials yet, or mandatory window: everyone waits for one refresh.
	f := s.joinLocked()
	s.mu.Unlock()
	ne, err := s.await(ctx, f)
	if err != nil {
		return Credentials{}, time.Time{}, err
	}
	if now := s.opts.Clock.Now(); !now.Before(ne.creds.Expires) {
		return Credentials{}, time.Time{}, &Error{Kind: KindCredential, Param: "expiry_time", Value: ne.creds.ExpiryString(),
			Details: map[string]any{"reason": "expired"}, Message: "credentials are still expired after a refresh"}
	}
	return ne.creds, ne.advisoryAt, nil
}

// Refresh forces a refresh now (joining one already in flight) and returns
// the new credentials or the refresh's error.
func (s *Session) Refresh(ctx context.Context) (Credentials, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Credentials{}, errClosed()
	}
	f := s.joinLocked()
	s.mu.Unlock()
	e, err := s.await(ctx, f)
	if err != nil {
		return Credentials{}, err
	}
	return e.creds, nil
}

// Identity describes who the credentials belong to. Providers that
// implement Identifier answer; otherwise the method name alone is returned.
func (s *Session) Identity(ctx context.Context) (map[string]any, error) {
	id, ok := s.provider.(Identifier)
	if !ok {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return nil, errClosed()
		}
		return map[string]any{"method": "custom"}, nil
	}
	c, err := s.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	return id.Identity(ctx, c)
}

// Close stops background refresh, waits for a refresh in flight to finish
// and releases the provider. The provider is never called after Close
// returns. Later calls return a KindClosed error; closing twice is safe.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cur.Store(nil)
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	if c, ok := s.provider.(Closer); ok {
		return c.Close()
	}
	return nil
}

// PendingRecheck is how long a caller handed the current credentials in the
// advisory window, while another caller's refresh is in flight, may keep
// them before asking again. Callers that cache a copy (Python) thus do not
// cross into the library on every read while the refresh runs; they pick
// up the new credentials at most this much later, still well before the
// mandatory window.
const PendingRecheck = 100 * time.Millisecond

// dueLocked is the instant until which a caller handed e's credentials in
// the advisory window may keep them: PendingRecheck while a refresh is in
// flight, now when a refresh is due, the retry instant after a failed
// refresh, never past the mandatory window.
func (s *Session) dueLocked(e *entry, now time.Time) time.Time {
	due := e.retryAt
	switch {
	case s.flights.InFlight() != nil:
		due = now.Add(PendingRecheck)
	case !now.Before(e.retryAt):
		return now
	}
	if due.After(e.mandatoryAt) {
		return e.mandatoryAt
	}
	return due
}

func errClosed() *Error { return &Error{Kind: KindClosed, Message: "the session is closed"} }

// await blocks until f is done, ctx ends or RefreshTimeout passes, and
// returns f's entry or the error that ended the wait (the refresh's, or
// the context's or the timeout's, the refresh going on).
func (s *Session) await(ctx context.Context, f *flight) (*entry, error) {
	var timeout <-chan time.Time
	if d := s.opts.RefreshTimeout; d > 0 {
		select { // no timer when the refresh is done already
		case <-f.Done():
			return f.Result()
		default:
		}
		timeout = s.opts.Clock.After(d)
	}
	select {
	case <-f.Done():
		return f.Result()
	case <-ctx.Done():
		return nil, &Error{Kind: KindCredential, Err: ctx.Err(), Message: "gave up waiting for a credential refresh"}
	case <-timeout:
		return nil, &Error{Kind: KindCredential, Param: "refresh_timeout", Value: fmt.Sprint(s.opts.RefreshTimeout.Seconds()),
			Message: fmt.Sprintf("the credential refresh did not finish within refresh_timeout (%gs); it goes on in the background",
				s.opts.RefreshTimeout.Seconds())}
	}
}

// startLocked starts a refresh; s.mu must be held and the session open.
func (s *Session) startLocked() *flight {
	f := s.flights.Begin()
	s.wg.Add(1)
	go s.run(f)
	return f
}

// joinLocked returns the refresh in flight, starting one if there is none,
// and counts the caller among its waiters; s.mu must be held and the
// session open.
func (s *Session) joinLocked() *flight {
	return s.flights.Join(s.startLocked)
}

// run performs one refresh for flight f. The failure is logged (outside
// the lock) before the waiters are released.
func (s *Session) run(f *flight) {
	defer s.wg.Done()
	creds, err := s.fetch()
	now := s.opts.Clock.Now() // validates the result and places its windows
	if err == nil {
		err = creds.Validate(now)
	}
	s.mu.Lock()
	s.stats.Fetches++
	s.flights.End(f)
	if err != nil {
		s.stats.Failures++
		if e := s.cur.Load(); e != nil {
			e.retryAt = now.Add(s.opts.RetryMin)
		}
		s.mu.Unlock()
		s.opts.Logger.Warn("gobrs: credential refresh failed", "kind", KindOf(err).String(), "error", err.Error())
		f.Finish(nil, err)
		return
	}
	e := s.newEntry(creds, now)
	published := !s.closed
	if published {
		s.cur.Store(e)
		if s.opts.Published != nil {
			s.opts.Published(e.creds, e.advisoryAt)
		}
		select {
		case s.updated <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	f.Finish(e, nil)
	if published {
		s.notify(e)
	}
}

// OnRefresh registers fn to be called after each successful refresh with
// the new credentials and the instant until which they may be reused (as
// Lookup's second result), so that a caller keeping a copy (the Python
// layer) has renewed credentials pushed to it, by background refresh
// above all, instead of asking. fn runs on the refreshing goroutine after
// the waiting callers are released, one call at a time per session, only
// for credentials still current, and never after Close returns. A panic in
// fn is logged and swallowed. nil removes the listener.
func (s *Session) OnRefresh(fn func(c Credentials, due time.Time)) {
	if fn == nil {
		s.onRefresh.Store(nil)
		return
	}
	s.onRefresh.Store(&fn)
}

// notify hands e to the OnRefresh listener, if any, unless e has been
// superseded (or the session closed) meanwhile.
func (s *Session) notify(e *entry) {
	fn := s.onRefresh.Load()
	if fn == nil {
		return
	}
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			s.opts.Logger.Warn("gobrs: OnRefresh listener panicked", "panic", fmt.Sprintf("%T", r))
		}
	}()
	if s.cur.Load() == e {
		(*fn)(e.creds, e.advisoryAt)
	}
}

// fetch calls the provider once, turning a panic into a credential error.
func (s *Session) fetch() (Credentials, error) {
	creds, err := singleflight.Call(func() (Credentials, error) { return s.provider.Retrieve(s.ctx) }, func(r any) error {
		return &Error{Kind: KindCredential, Message: fmt.Sprintf("the credential provider panicked: %T", r)}
	})
	if err != nil && KindOf(err) == KindUnknown {
		err = &Error{Kind: KindCredential, Err: err, Message: "the credential provider failed"}
	}
	return creds, err
}

// Windows returns the advisory and mandatory windows used for credentials
// with the given lifetime. The rule: the configured windows apply as they
// are while the lifetime is at least four times the advisory window; for
// shorter lifetimes both windows shrink in proportion so that the advisory
// window is a quarter of the lifetime (a 20-minute credential refreshes 5
// minutes before expiry, a 1-hour one 15 minutes before with the defaults).
// Short-lived credentials are thus used for three quarters of their life
// instead of being refreshed on every read.
func (o *Options) Windows(lifetime time.Duration) (advisory, mandatory time.Duration) {
	advisory, mandatory = o.AdvisoryTimeout, o.MandatoryTimeout
	if limit := lifetime / 4; advisory > limit && advisory > 0 {
		mandatory = time.Duration(float64(mandatory) * float64(limit) / float64(advisory))
		advisory = limit
		mandatory = max(min(mandatory, advisory), 0) // float rounding
	}
	return advisory, mandatory
}

func (s *Session) newEntry(c Credentials, now time.Time) *entry {
	adv, mand := s.opts.Windows(c.Expires.Sub(now))
	e := &entry{creds: c, advisoryAt: c.Expires.Add(-adv), mandatoryAt: c.Expires.Add(-mand)}
	// Background refresh fires before the advisory window opens, by a lead
	// of half to all of L = min(a tenth of the time to it, one minute),
	// drawn at random so that many sessions do not renew in the same
	// instant, and at least L/2 ahead so that the renewed credentials are
	// in place (and pushed to OnRefresh) before anyone's copy runs out.
	lead := min(e.advisoryAt.Sub(now)/10, time.Minute)
	e.renewAt = e.advisoryAt.Add(-lead/2 - time.Duration(rand.Float64()*float64(lead/2)))
	return e
}

// background renews the credentials ahead of the advisory window until
// Close, backing off exponentially (with jitter) after failures. It arms one
// timer per entry (or per failure) and follows refreshes made by readers.
func (s *Session) background() {
	defer s.wg.Done()
	failures := 0
	for {
		e := s.cur.Load()
		var timer <-chan time.Time
		switch {
		case failures > 0:
			timer = s.opts.Clock.After(s.backoff(failures))
		case e != nil:
			timer = s.opts.Clock.After(e.renewAt.Sub(s.opts.Clock.Now()))
		}
		if !s.sleep(e, timer) {
			failures = 0 // a refresh landed: follow the new entry
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		if s.cur.Load() != e {
			// A reader refreshed since the timer was armed: follow the new
			// entry instead of renewing it at once.
			s.mu.Unlock()
			failures = 0
			continue
		}
		f := s.flights.InFlight()
		if f == nil {
			f = s.startLocked()
		}
		s.mu.Unlock()
		select {
		case <-s.ctx.Done():
			return
		case <-f.Done():
		}
		if _, err := f.Result(); err != nil {
			failures++
		} else {
			failures = 0
		}
	}
}

// sleep waits for timer (nil: forever) and reports true when it fired, or
// false when a refresh replaced e first. Signals about e itself, such as the
// one a background refresh sends, are ignored. After Close it reports true
// so that the caller sees s.closed.
func (s *Session) sleep(e *entry, timer <-chan time.Time) bool {
	for {
		select {
		case <-s.ctx.Done():
			return true
		case <-timer:
			return true
		case <-s.updated:
			if s.cur.Load() != e {
				return false
			}
		}
	}
}

// backoff is the wait before background retry n (n >= 1): RetryMin doubled
// per failure, capped at RetryMax, with up to 50% jitter taken off.
func (s *Session) backoff(n int) time.Duration {
	d := s.opts.RetryMin
	for i := 1; i < n && d < s.opts.RetryMax; i++ {
		if d > s.opts.RetryMax/2 {
			d = s.opts.RetryMax // doubling would pass the cap (or overflow)
		} else {
			d *= 2
		}
	}
	d = min(d, s.opts.RetryMax)
	return d - time.Duration(rand.Float64()*float64(d)/2)
}
