package core

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

// Faults: a credentials endpoint (STS over HTTP, STS over TLS, IoT over
// mutual TLS) that the test switches between answering and failing —
// refusing connections, resetting them, stalling past the timeout,
// answering 500, 503 or throttling, or answering with a malformed body —
// driven through a real Session over the refresh windows on a FakeClock:
//
//   - a refresh failing inside the advisory window keeps the old
//     credentials and reports no error;
//   - inside the mandatory window (and after expiry) the read fails with
//     the error of the right kind;
//   - once the endpoint heals, the next read recovers, nothing restarted.

// faultMode is how a faultServer answers.
type faultMode int

const (
	faultOK         faultMode = iota // fresh credentials
	faultRefuse                      // nothing listens: connection refused
	faultReset                       // the connection is reset once the request is read
	faultStall                       // no answer until the client gives up
	fault500                         // HTTP 500
	fault503                         // HTTP 503
	faultThrottle                    // throttling: STS 400 Throttling, IoT 429
	faultMalformed                   // HTTP 200 with a body that does not parse
	faultTruncated                   // HTTP 200 cut short before the promised length
	faultNoCreds                     // HTTP 200, well formed, without credentials
	faultExpired                     // HTTP 200 with credentials already expired
	faultSecretBody                  // HTTP 500 whose body carries credentials
)

var faultNames = map[faultMode]string{
	faultOK: "ok", faultRefuse: "refuse", faultReset: "reset", faultStall: "stall", fault500: "500",
	fault503: "503", faultThrottle: "throttle", faultMalformed: "malformed", faultTruncated: "truncated",
	faultNoCreds: "no-credentials", faultExpired: "expired", faultSecretBody: "secret-in-error-body",
}

func (m faultMode) String() string { return faultNames[m] }

// Secrets a faultServer hands out; none may appear in an error or log.
const (
	faultSecret = "fault-secret-do-not-print"
	faultToken  = "fault-token-do-not-print"
)

// faultServer is a switchable credentials endpoint on 127.0.0.1 that keeps
// its address across faultRefuse (it stops listening, then listens again
// on the same port).
type faultServer struct {
	t     *testing.T
	proto string // "sts" (HTTP), "sts-tls" or "iot" (mutual TLS)
	clock Clock
	addr  string
	tls   *tls.Config // nil for plain HTTP
	iot   *iotServer  // the CA and device of the IoT endpoint

	mu      sync.Mutex
	mode    faultMode
	srv     *http.Server
	stop    chan struct{} // closed to release stalled handlers
	n       int           // credentials issued
	hits    atomic.Int64  // requests seen
	stalled sync.WaitGroup
}

func newFaultServer(t *testing.T, proto string, clock Clock) *faultServer {
	t.Helper()
	f := &faultServer{t: t, proto: proto, clock: clock, stop: make(chan struct{})}
	switch proto {
	case "sts":
	case "sts-tls":
		f.iot = newIoTServer(t) // only for its CA and a server certificate
		f.tls = f.iot.TLS.Clone()
		f.tls.ClientAuth = tls.NoClientCert
	case "iot":
		f.iot = newIoTServer(t)
		f.tls = f.iot.TLS.Clone()
	default:
		t.Fatalf("unknown protocol %q", proto)
	}
	if f.iot != nil {
		f.iot.Close() // only its certificates are used
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	f.serve(l)
	t.Cleanup(func() {
		f.mu.Lock()
		srv := f.srv
		f.srv = nil
		select {
		case <-f.stop:
		default:
			close(f.stop)
		}
		f.mu.Unlock()
		if srv != nil {
			srv.Close()
		}
		f.stalled.Wait()
	})
	return f
}

// serve starts an http.Server on l; f.mu must not be held.
func (f *faultServer) serve(l net.Listener) {
	if f.tls != nil {
		l = tls.NewListener(l, f.tls)
	}
	srv := &http.Server{Handler: http.HandlerFunc(f.handle), ErrorLog: log.New(io.Discard, "", 0)}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go srv.Serve(l)
}

// set switches the answer. faultRefuse closes the listener and every
// connection; leaving it listens again on the same address.
func (f *faultServer) set(m faultMode) {
	f.t.Helper()
	f.mu.Lock()
	old, srv := f.mode, f.srv
	f.mode = m
	if old == faultStall && m != faultStall {
		close(f.stop)
		f.stop = make(chan struct{})
	}
	f.mu.Unlock()
	switch {
	case m == faultRefuse && old != faultRefuse:
		srv.Close()
	case m != faultRefuse && old == faultRefuse:
		var l net.Listener
		var err error
		for i := 0; i < 100; i++ { // the port may linger a moment
			if l, err = net.Listen("tcp", f.addr); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			f.t.Fatalf("listen again on %s: %v", f.addr, err)
		}
		f.serve(l)
	}
}

func (f *faultServer) handle(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	f.mu.Lock()
	mode, stop := f.mode, f.stop
	f.mu.Unlock()
	if f.proto != "iot" {
		r.ParseForm()
		if r.PostForm.Get("Action") == "GetCallerIdentity" {
			io.WriteString(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/demo/f</Arn>`+
				`<UserId>AROADEMO:f</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
			return
		}
	}
	switch mode {
	case faultOK, faultExpired:
		f.mu.Lock()
		f.n++
		n := f.n
		f.mu.Unlock()
		exp := f.clock.Now().Add(time.Hour)
		if mode == faultExpired {
			exp = f.clock.Now().Add(-time.Minute)
		}
		f.credentials(w, fmt.Sprintf("ASIAFAULT%s%05d", strings.ToUpper(f.proto[:3]), n), exp)
	case faultReset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*tls.Conn); ok {
			conn = tc.NetConn()
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			tcp.SetLinger(0) // RST, not FIN
		}
		conn.Close()
	case faultStall:
		f.stalled.Add(1)
		defer f.stalled.Done()
		select {
		case <-r.Context().Done():
		case <-stop:
		}
		// A stalled endpoint never answers: drop the connection rather
		// than let the handler's return send an empty HTTP 200.
		panic(http.ErrAbortHandler)
	case fault500:
		f.failure(w, 500, "InternalFailure", "internal failure")
	case fault503:
		f.failure(w, 503, "ServiceUnavailable", "service unavailable")
	case faultThrottle:
		if f.proto == "iot" {
			f.failure(w, 429, "", "Rate exceeded")
		} else {
			f.failure(w, 400, "Throttling", "Rate exceeded")
		}
	case faultMalformed:
		w.WriteHeader(200)
		io.WriteString(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><SecretAccessKey>`+faultSecret+`{"credentials":`)
	case faultTruncated:
		w.Header().Set("Content-Length", "4096")
		w.WriteHeader(200)
		io.WriteString(w, `{"credentials":{"secretAccessKey":"`+faultSecret)
	case faultNoCreds:
		if f.proto == "iot" {
			io.WriteString(w, `{"message":"ok"}`)
		} else {
			io.WriteString(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>`)
		}
	case faultSecretBody:
		w.WriteHeader(500)
		if f.proto == "iot" {
			fmt.Fprintf(w, `{"credentials":{"accessKeyId":"ASIAFAULTLEAK","secretAccessKey":%q,"sessionToken":%q}}`, faultSecret, faultToken)
		} else {
			fmt.Fprintf(w, `<AssumeRoleResponse><Credentials><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken></Credentials></AssumeRoleResponse>`,
				faultSecret, faultToken)
		}
	}
}

// credentials answers with one set of credentials in the protocol's form.
func (f *faultServer) credentials(w http.ResponseWriter, key string, exp time.Time) {
	if f.proto == "iot" {
		fmt.Fprintf(w, `{"credentials":{"accessKeyId":%q,"secretAccessKey":%q,"sessionToken":%q,"expiration":%q}}`,
			key, faultSecret, faultToken, exp.UTC().Format(time.RFC3339))
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
		`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken>`+
		`<Expiration>%s</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
		key, faultSecret, faultToken, exp.UTC().Format(time.RFC3339))
}

// failure answers with an error in the protocol's form.
func (f *faultServer) failure(w http.ResponseWriter, status int, code, msg string) {
	if f.proto == "iot" {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":%q}`, msg)
		return
	}
	stsErrorResponse(w, status, code, msg)
}

// config is the JSON config of a session on f: the request timeout is
// short (the stall mode waits for it) and STS retries twice.
func (f *faultServer) config() []byte {
	var cfg map[string]any
	switch f.proto {
	case "iot":
		cfg = map[string]any{"method": "iot", "endpoint": f.addr, "role_alias": testRoleAlias, "thing_name": "thing-1",
			"certificate": string(f.iot.device.cert), "private_key": string(f.iot.device.key), "ca": string(f.iot.ca.pem),
			"timeout": 0.3}
	default:
		scheme := "http"
		client := map[string]any{"region_name": "us-east-1", "aws_access_key_id": testSourceKey,
			"aws_secret_access_key": testSourceSecret,
			"config":                map[string]any{"read_timeout": 0.3, "connect_timeout": 1, "retries": map[string]any{"total_max_attempts": 2}}}
		if f.proto == "sts-tls" {
			scheme = "https"
			client["verify"] = false
		}
		client["endpoint_url"] = scheme + "://" + f.addr
		cfg = map[string]any{"method": "sts", "sts_client_kwargs": client,
			"assume_role_kwargs": map[string]any{"RoleArn": testRoleArn, "RoleSessionName": "faults-" + f.proto}}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// faultCase is one way an endpoint fails and what a read then returns.
type faultCase struct {
	mode   faultMode
	kind   Kind
	status int    // HTTP status of a request error, when known
	param  string // the error's Param, when it names one
}

// faultCases returns the cases for proto.
func faultCases(proto string) []faultCase {
	throttle := 400
	if proto == "iot" {
		throttle = 429
	}
	expired := faultCase{faultExpired, KindCredential, 0, "expiry_time"}
	noCreds := faultCase{faultNoCreds, KindCredential, 0, "credentials"}
	if proto != "iot" {
		noCreds.param = "Credentials"
	}
	return []faultCase{
		{faultRefuse, KindConnection, 0, ""},
		{faultReset, KindConnection, 0, ""},
		{faultStall, KindConnection, 0, ""},
		{fault500, KindRequest, 500, ""},
		{fault503, KindRequest, 503, ""},
		{faultThrottle, KindRequest, throttle, ""},
		{faultMalformed, KindCredential, 0, ""},
		{faultTruncated, KindConnection, 0, ""}, // the body ends early: a transport failure
		noCreds,
		expired,
		{faultSecretBody, KindRequest, 500, ""},
	}
}

// faultSession opens a session on f with a FakeClock and the default
// windows (advisory 900 s, mandatory 600 s).
func faultSession(t *testing.T, f *faultServer, clock *FakeClock, logs io.Writer, optFns ...func(*Options)) *Session {
	t.Helper()
	fns := append([]func(*Options){func(o *Options) {
		o.Clock = clock
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}}, optFns...)
	s, err := NewSessionFromJSON(f.config(), Hooks{}, fns...)
	if err != nil {
		t.Fatalf("NewSessionFromJSON: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkFault checks err is the case's error and holds no secret.
func checkFault(t *testing.T, err error, c faultCase) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("read error = %v (%T), want a *core.Error", err, err)
	}
	switch {
	case c.kind < 0:
		if e.Kind != KindConnection && e.Kind != KindCredential {
			t.Fatalf("kind = %s, want connection or credential: %v", e.Kind, err)
		}
	case e.Kind != c.kind:
		t.Fatalf("kind = %s, want %s: %v", e.Kind, c.kind, err)
	}
	if c.status != 0 && e.StatusCode != c.status {
		t.Errorf("status = %d, want %d: %v", e.StatusCode, c.status, err)
	}
	if c.param != "" && e.Param != c.param {
		t.Errorf("param = %q, want %q: %v", e.Param, c.param, err)
	}
	assertNoFaultSecret(t, err.Error()+" "+e.Value)
}

func assertNoFaultSecret(t *testing.T, text string) {
	t.Helper()
	for _, s := range []string{faultSecret, faultToken, testSourceSecret} {
		if strings.Contains(text, s) {
			t.Errorf("secret %q leaked: %s", s, text)
		}
	}
}

// TestFaultsAcrossTheWindows drives every fault through the windows of a
// real Session, for each endpoint kind.
func TestFaultsAcrossTheWindows(t *testing.T) {
	for _, proto := range []string{"sts", "sts-tls", "iot"} {
		for _, c := range faultCases(proto) {
			t.Run(proto+"/"+c.mode.String(), func(t *testing.T) {
				t.Parallel()
				clock := NewFakeClock(t0)
				f := newFaultServer(t, proto, clock)
				logs := &syncBuffer{}
				s := faultSession(t, f, clock, logs)
				ctx := context.Background()

				first, err := s.Credentials(ctx)
				if err != nil {
					t.Fatalf("first read: %v", err)
				}
				expiry := first.Expires

				// advisory window: the refresh fails, the old credentials stay
				f.set(c.mode)
				clock.Set(expiry.Add(-800 * time.Second))
				before := s.Stats()
				got, err := s.Credentials(ctx)
				if err != nil {
					t.Fatalf("advisory window: read failed: %v", err)
				}
				if got.AccessKeyID != first.AccessKeyID {
					t.Fatalf("advisory window: got %s, want the old %s", got.AccessKeyID, first.AccessKeyID)
				}
				s.settleForTest() // the read started the refresh without waiting for it
				if after := s.Stats(); after.Failures != before.Failures+1 {
					t.Fatalf("advisory window: %d failed refreshes, want 1 (the refresh was not tried)", after.Failures-before.Failures)
				}

				// mandatory window: the read fails with the fault's error
				clock.Set(expiry.Add(-300 * time.Second))
				_, err = s.Credentials(ctx)
				checkFault(t, err, c)

				// healed: the next read recovers, in the mandatory window
				f.set(faultOK)
				healed, err := s.Credentials(ctx)
				if err != nil {
					t.Fatalf("after healing: %v", err)
				}
				if healed.AccessKeyID == first.AccessKeyID || !healed.Expires.After(expiry) {
					t.Fatalf("after healing: got %v, want new credentials", healed)
				}

				// past expiry with the endpoint down again: an error, never
				// the expired credentials; then healed once more
				f.set(c.mode)
				clock.Set(healed.Expires.Add(time.Second))
				if got, err := s.Credentials(ctx); err == nil {
					t.Fatalf("after expiry: got %v, want an error", got)
				} else {
					checkFault(t, err, c)
				}
				f.set(faultOK)
				if _, err := s.Credentials(ctx); err != nil {
					t.Fatalf("after expiry, healed: %v", err)
				}
				assertNoFaultSecret(t, logs.String())
				if !strings.Contains(logs.String(), "credential refresh failed") {
					t.Errorf("no refresh failure was logged: %s", logs.String())
				}
			})
		}
	}
}

// TestFaultsBackgroundRefresh: with background refresh, a failing endpoint
// at renewal time is retried with backoff while readers keep the old
// credentials; once healed, the next retry renews them and no reader ever
// waited or failed.
func TestFaultsBackgroundRefresh(t *testing.T) {
	for _, proto := range []string{"sts", "iot"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			clock := NewFakeClock(t0)
			f := newFaultServer(t, proto, clock)
			s := faultSession(t, f, clock, io.Discard, func(o *Options) {
				o.BackgroundRefresh = true
				o.DeferRefresh = false
				o.RetryMin, o.RetryMax = 10*time.Second, 40*time.Second
			})
			ctx := context.Background()
			first, err := s.Credentials(ctx)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the renewal timer", func() bool { return clock.Waiters() == 1 })
			f.set(fault503)
			// up to the advisory window: the renewal fires and fails
			clock.Set(first.Expires.Add(-900 * time.Second))
			waitFor(t, "a failed renewal and its backoff timer", func() bool { return s.Stats().Failures >= 1 && clock.Waiters() == 1 })
			// readers in the advisory window keep the old set, no error
			// (4 s: short of the first backoff, which is 5 to 10 s)
			clock.Advance(4 * time.Second)
			for i := 0; i < 3; i++ {
				got, err := s.Credentials(ctx)
				if err != nil || got.AccessKeyID != first.AccessKeyID {
					t.Fatalf("advisory read %d: %v %v, want the old credentials", i, got, err)
				}
			}
			// healed: the next backoff retry (at most RetryMax away) renews
			f.set(faultOK)
			fetches := s.Stats().Fetches
			failures := s.Stats().Failures
			clock.Advance(45 * time.Second)
			// no reader asks meanwhile: only the background can renew
			waitFor(t, "the background renewal", func() bool { return s.Stats().Fetches > fetches })
			if st := s.Stats(); st.Failures != failures {
				t.Fatalf("the healed endpoint failed: %+v", st)
			}
			got, err := s.Credentials(ctx)
			if err != nil || got.AccessKeyID == first.AccessKeyID {
				t.Fatalf("after the background renewal: %v %v, want new credentials", got, err)
			}
		})
	}
}

// TestFaultsConcurrentReadersInTheMandatoryWindow: many readers waiting on
// one failing refresh all get its error (one endpoint call per attempt,
// not one per reader), and all recover together.
func TestFaultsConcurrentReadersInTheMandatoryWindow(t *testing.T) {
	clock := NewFakeClock(t0)
	f := newFaultServer(t, "sts", clock)
	s := faultSession(t, f, clock, io.Discard)
	ctx := context.Background()
	first, err := s.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.set(faultStall)
	clock.Set(first.Expires.Add(-100 * time.Second))
	hits := f.hits.Load()
	// readAll has 32 readers read at once and returns their errors.
	readAll := func() []error {
		var wg sync.WaitGroup
		errs := make([]error, 32)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, errs[i] = s.Credentials(ctx)
			}(i)
		}
		wg.Wait()
		return errs
	}
	errs := readAll()
	for i, err := range errs {
		if KindOf(err) != KindConnection {
			t.Fatalf("reader %d: %v, want a connection error", i, err)
		}
	}
	// 32 readers, a few refreshes at most (each of 2 attempts): single flight
	if n := f.hits.Load() - hits; n > 2*8 {
		t.Fatalf("the endpoint was called %d times for 32 readers", n)
	}
	f.set(faultOK)
	errs = readAll()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("reader %d after healing: %v", i, err)
		}
	}
}

// TestFaultsTLSMisconfiguration: a server whose certificate the client
// does not trust, or that refuses the client's certificate, is a
// connection error naming no secret; fixing the trust is a new session.
func TestFaultsTLSMisconfiguration(t *testing.T) {
	clock := NewFakeClock(t0)
	f := newFaultServer(t, "iot", clock)
	// the server trusts only another CA's clients
	other := newIoTCA(t, "other CA")
	pool := x509.NewCertPool()
	pool.AddCert(other.cert)
	f.tls.ClientCAs = pool
	f.set(faultRefuse)
	f.set(faultOK) // listen again with the new TLS config
	s := faultSession(t, f, clock, io.Discard)
	_, err := s.Credentials(context.Background())
	checkFault(t, err, faultCase{kind: KindConnection, param: "endpoint"})
}

// FuzzIoTErrorHoldsNoSecret: whatever the status and the rest of the body,
// an IoT answer carrying credentials never puts their secret and token in
// the error (a JSON answer shows only its message).
func FuzzIoTErrorHoldsNoSecret(f *testing.F) {
	f.Add(500, "fault-secret-1234", "internal failure", "x")
	f.Add(403, "s3cr3t-s3cr3t", "", `{"nested": true}`)
	f.Add(200, "tokentokentoken", "ok", "")
	f.Add(429, "\u00e9", "Rate exceeded", "\x00")
	f.Fuzz(func(t *testing.T, status int, seed, message, junk string) {
		// hex after a marker: no cleaning of the message can forge it
		secret := "SECRETMARK" + hex.EncodeToString([]byte(seed))
		if strings.Contains(message, secret) || strings.Contains(cleanMessage(message), secret) || strings.Contains(junk, secret) {
			return // the fuzzer put the secret where it is meant to be shown
		}
		body, err := json.Marshal(map[string]any{
			"message": message,
			"extra":   junk,
			"credentials": map[string]any{"accessKeyId": "AKIDFUZZ", "secretAccessKey": secret,
				"sessionToken": secret, "expiration": "not a time"},
		})
		if err != nil {
			return
		}
		_, err = parseIoTResponse(status, body)
		if err == nil {
			t.Fatalf("status %d accepted credentials with an expiration that is not a time", status)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is %T, not *core.Error", err, err)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(e.Value, secret) {
			t.Fatalf("status %d: the error holds the secret %q: %v", status, secret, err)
		}
	})
}

// TestFaultsTruncatedAnswerIsRetried: an STS answer cut off mid-body is a
// transport failure, retried like a reset (every attempt is made) and a
// KindConnection error once the attempts run out.
func TestFaultsTruncatedAnswerIsRetried(t *testing.T) {
	for _, proto := range []string{"sts", "sts-tls"} {
		t.Run(proto, func(t *testing.T) {
			clock := NewFakeClock(t0)
			f := newFaultServer(t, proto, clock)
			s := faultSession(t, f, clock, io.Discard)
			f.set(faultTruncated)
			hits := f.hits.Load()
			_, err := s.Credentials(context.Background())
			checkFault(t, err, faultCase{faultTruncated, KindConnection, 0, ""})
			if n := f.hits.Load() - hits; n != 2 { // total_max_attempts 2 (faultServer.config)
				t.Fatalf("%d attempts, want 2: a truncated answer was not retried", n)
			}
		})
	}
}

// TestSTSDefaultTimeoutsBoundAStall: with sts_client_kwargs setting no
// timeout and no retries, a stalled STS fails a read within
// DefaultSTSCallTimeout (30 s) in total: the attempts' own timeouts add up
// to less (3 x read + the SDK's backoff under 2 s + 4 s), and the whole
// call is bounded by a deadline on top, which the stall here meets
// (shortened for the test). Setting any timeout or retries lifts it.
func TestSTSDefaultTimeoutsBoundAStall(t *testing.T) {
	s := resolveClientSettings(&STSClientConfig{})
	if worst := 3*s.read + 6*time.Second; s.callTimeout != DefaultSTSCallTimeout || worst > DefaultSTSCallTimeout ||
		3*s.connect+6*time.Second > DefaultSTSCallTimeout {
		t.Fatalf("defaults %+v: a stall may last %v, more than %v", s, worst, DefaultSTSCallTimeout)
	}
	one := 1
	for _, c := range []ClientConfig{{ReadTimeout: time.Minute}, {ConnectTimeout: time.Minute}, {Retries: RetryConfig{TotalMaxAttempts: &one}}} {
		if s := resolveClientSettings(&STSClientConfig{Config: c}); s.callTimeout != 0 {
			t.Errorf("%+v: the overall bound stays (%v)", c, s.callTimeout)
		}
	}

	clock := NewFakeClock(t0)
	f := newFaultServer(t, "sts", clock)
	p, err := NewSTSProvider(STSOptions{AssumeRole: AssumeRoleParams{RoleArn: testRoleArn},
		Client: STSClientConfig{RegionName: "us-east-1", EndpointURL: "http://" + f.addr,
			AccessKeyID: testSourceKey, SecretAccessKey: testSourceSecret}})
	if err != nil {
		t.Fatal(err)
	}
	p.settings.callTimeout = 200 * time.Millisecond // the default's mechanism, shortened
	f.set(faultStall)
	_, err = p.Retrieve(context.Background())
	checkFault(t, err, faultCase{faultStall, KindConnection, 0, ""})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v: not the call deadline", err)
	}
}
