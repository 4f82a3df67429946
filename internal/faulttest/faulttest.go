// Package faulttest drives the refresh engine through the failures of a
// credentials endpoint: a server (STS over HTTP, STS over TLS, IoT over
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
//
// The tests of each method package run it for their protocols (core/sts
// and core/iot faults_test.go); only tests import it.
package faulttest

import (
	"context"
	"crypto/tls"
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

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/testutil"
	json "github.com/goccy/go-json"
)

// Mode is how a Server answers.
type Mode int

const (
	OK            Mode = iota // fresh credentials
	Refuse                    // nothing listens: connection refused
	Reset                     // the connection is reset once the request is read
	Stall                     // no answer until the client gives up
	Status500                 // HTTP 500
	Status503                 // HTTP 503
	Throttle                  // throttling: STS 400 Throttling, IoT 429
	Malformed                 // HTTP 200 with a body that does not parse
	Truncated                 // HTTP 200 cut short before the promised length
	NoCredentials             // HTTP 200, well formed, without credentials
	Expired                   // HTTP 200 with credentials already expired
	SecretBody                // HTTP 500 whose body carries credentials
)

var modeNames = map[Mode]string{
	OK: "ok", Refuse: "refuse", Reset: "reset", Stall: "stall", Status500: "500",
	Status503: "503", Throttle: "throttle", Malformed: "malformed", Truncated: "truncated",
	NoCredentials: "no-credentials", Expired: "expired", SecretBody: "secret-in-error-body",
}

// String names the mode.
func (m Mode) String() string { return modeNames[m] }

// Secrets a Server hands out or signs with; none may appear in an
// error or log.
const (
	faultSecret  = "fault-secret-do-not-print"
	faultToken   = "fault-token-do-not-print"
	sourceSecret = "fault-source-secret-do-not-print"
)

// The request a session on a Server makes.
const (
	roleAlias = "my-role_alias=1"
	roleArn   = "arn:aws:iam::123456789012:role/demo"
	sourceKey = "AKIDFAULTSOURCE"
)

// Server is a switchable credentials endpoint on 127.0.0.1 that keeps
// its address across Refuse (it stops listening, then listens again
// on the same port).
type Server struct {
	t     *testing.T
	proto string // "sts" (HTTP), "sts-tls" or "iot" (mutual TLS)
	clock core.Clock
	// Addr is the host:port the server listens on.
	Addr string
	// TLS is the server's TLS config, nil for plain HTTP. A test may
	// change it while the server refuses (Set(Refuse), then Set(OK)).
	TLS    *tls.Config
	ca     *testutil.CA
	device testutil.Device // the IoT client certificate
	// sessionName is the RoleSessionName of the sessions on this server,
	// one per server: the sts method shares assumed-role credentials
	// process-wide by endpoint and request, and a server may get the port
	// of one closed before it.
	sessionName string

	mu   sync.Mutex
	mode Mode
	srv  *http.Server
	stop chan struct{} // closed to release stalled handlers
	n    int           // credentials issued
	// Hits counts the requests seen.
	Hits    atomic.Int64
	stalled sync.WaitGroup
}

// servers counts the Servers made, to name their sessions.
var servers atomic.Int64

// NewServer starts a Server for proto ("sts", "sts-tls" or "iot") that
// hands out credentials expiring an hour after clock's now, and stops it
// when the test ends.
func NewServer(t *testing.T, proto string, clock core.Clock) *Server {
	t.Helper()
	f := &Server{t: t, proto: proto, clock: clock, stop: make(chan struct{}),
		sessionName: fmt.Sprintf("faults-%s-%d", proto, servers.Add(1))}
	switch proto {
	case "sts":
	case "sts-tls", "iot":
		f.ca = testutil.NewCA(t, "test CA")
		f.device = testutil.NewDevice(t, f.ca, "thing-1")
		f.TLS = testutil.ServerTLS(t, f.ca)
		if proto == "sts-tls" {
			f.TLS.ClientAuth = tls.NoClientCert
		}
	default:
		t.Fatalf("unknown protocol %q", proto)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.Addr = l.Addr().String()
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
func (f *Server) serve(l net.Listener) {
	if f.TLS != nil {
		l = tls.NewListener(l, f.TLS)
	}
	srv := &http.Server{Handler: http.HandlerFunc(f.handle), ErrorLog: log.New(io.Discard, "", 0)}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go srv.Serve(l)
}

// Set switches the answer. Refuse closes the listener and every
// connection; leaving it listens again on the same address.
func (f *Server) Set(m Mode) {
	f.t.Helper()
	f.mu.Lock()
	old, srv := f.mode, f.srv
	f.mode = m
	if old == Stall && m != Stall {
		close(f.stop)
		f.stop = make(chan struct{})
	}
	f.mu.Unlock()
	switch {
	case m == Refuse && old != Refuse:
		srv.Close()
	case m != Refuse && old == Refuse:
		var l net.Listener
		var err error
		for i := 0; i < 100; i++ { // the port may linger a moment
			if l, err = net.Listen("tcp", f.Addr); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			f.t.Fatalf("listen again on %s: %v", f.Addr, err)
		}
		f.serve(l)
	}
}

func (f *Server) handle(w http.ResponseWriter, r *http.Request) {
	f.Hits.Add(1)
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
	case OK, Expired:
		f.mu.Lock()
		f.n++
		n := f.n
		f.mu.Unlock()
		exp := f.clock.Now().Add(time.Hour)
		if mode == Expired {
			exp = f.clock.Now().Add(-time.Minute)
		}
		f.credentials(w, fmt.Sprintf("ASIAFAULT%s%05d", strings.ToUpper(f.proto[:3]), n), exp)
	case Reset:
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
	case Stall:
		f.stalled.Add(1)
		defer f.stalled.Done()
		select {
		case <-r.Context().Done():
		case <-stop:
		}
		// A stalled endpoint never answers: drop the connection rather
		// than let the handler's return send an empty HTTP 200.
		panic(http.ErrAbortHandler)
	case Status500:
		f.failure(w, 500, "InternalFailure", "internal failure")
	case Status503:
		f.failure(w, 503, "ServiceUnavailable", "service unavailable")
	case Throttle:
		if f.proto == "iot" {
			f.failure(w, 429, "", "Rate exceeded")
		} else {
			f.failure(w, 400, "Throttling", "Rate exceeded")
		}
	case Malformed:
		w.WriteHeader(200)
		io.WriteString(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><SecretAccessKey>`+faultSecret+`{"credentials":`)
	case Truncated:
		w.Header().Set("Content-Length", "4096")
		w.WriteHeader(200)
		io.WriteString(w, `{"credentials":{"secretAccessKey":"`+faultSecret)
	case NoCredentials:
		if f.proto == "iot" {
			io.WriteString(w, `{"message":"ok"}`)
		} else {
			io.WriteString(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>`)
		}
	case SecretBody:
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
func (f *Server) credentials(w http.ResponseWriter, key string, exp time.Time) {
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
func (f *Server) failure(w http.ResponseWriter, status int, code, msg string) {
	if f.proto == "iot" {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":%q}`, msg)
		return
	}
	testutil.STSError(w, status, code, msg)
}

// Config is the JSON config of a session on f: the request timeout is
// short (the stall mode waits for it) and STS retries twice.
func (f *Server) Config() []byte {
	var cfg map[string]any
	switch f.proto {
	case "iot":
		cfg = map[string]any{"method": "iot", "endpoint": f.Addr, "role_alias": roleAlias, "thing_name": "thing-1",
			"certificate": string(f.device.Cert), "private_key": string(f.device.Key), "ca": string(f.ca.PEM),
			"timeout": 0.3}
	default:
		scheme := "http"
		client := map[string]any{"region_name": "us-east-1", "aws_access_key_id": sourceKey,
			"aws_secret_access_key": sourceSecret,
			"config":                map[string]any{"read_timeout": 0.3, "connect_timeout": 1, "retries": map[string]any{"total_max_attempts": 2}}}
		if f.proto == "sts-tls" {
			scheme = "https"
			client["verify"] = false
		}
		client["endpoint_url"] = scheme + "://" + f.Addr
		cfg = map[string]any{"method": "sts", "sts_client_kwargs": client,
			"assume_role_kwargs": map[string]any{"RoleArn": roleArn, "RoleSessionName": f.sessionName}}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// Case is one way an endpoint fails and what a read then returns.
type Case struct {
	Mode   Mode
	Kind   core.Kind // a negative Kind: connection or credential
	Status int       // HTTP status of a request error, when known
	Param  string    // the error's Param, when it names one
}

// Cases returns the cases for proto.
func Cases(proto string) []Case {
	throttle := 400
	if proto == "iot" {
		throttle = 429
	}
	expired := Case{Expired, core.KindCredential, 0, "expiry_time"}
	noCreds := Case{NoCredentials, core.KindCredential, 0, "credentials"}
	if proto != "iot" {
		noCreds.Param = "Credentials"
	}
	return []Case{
		{Refuse, core.KindConnection, 0, ""},
		{Reset, core.KindConnection, 0, ""},
		{Stall, core.KindConnection, 0, ""},
		{Status500, core.KindRequest, 500, ""},
		{Status503, core.KindRequest, 503, ""},
		{Throttle, core.KindRequest, throttle, ""},
		{Malformed, core.KindCredential, 0, ""},
		{Truncated, core.KindConnection, 0, ""}, // the body ends early: a transport failure
		noCreds,
		expired,
		{SecretBody, core.KindRequest, 500, ""},
	}
}

// Session opens a session on f with a FakeClock and the default
// windows (advisory 900 s, mandatory 600 s).
func Session(t *testing.T, f *Server, clock *core.FakeClock, logs io.Writer, optFns ...func(*core.Options)) *core.Session {
	t.Helper()
	fns := append([]func(*core.Options){func(o *core.Options) {
		o.Clock = clock
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}}, optFns...)
	s, err := core.NewSessionFromJSON(f.Config(), core.Hooks{}, fns...)
	if err != nil {
		t.Fatalf("NewSessionFromJSON: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Check checks err is the case's error and holds no secret.
func Check(t *testing.T, err error, c Case) {
	t.Helper()
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("read error = %v (%T), want a *core.Error", err, err)
	}
	switch {
	case c.Kind < 0:
		if e.Kind != core.KindConnection && e.Kind != core.KindCredential {
			t.Fatalf("kind = %s, want connection or credential: %v", e.Kind, err)
		}
	case e.Kind != c.Kind:
		t.Fatalf("kind = %s, want %s: %v", e.Kind, c.Kind, err)
	}
	if c.Status != 0 && e.StatusCode != c.Status {
		t.Errorf("status = %d, want %d: %v", e.StatusCode, c.Status, err)
	}
	if c.Param != "" && e.Param != c.Param {
		t.Errorf("param = %q, want %q: %v", e.Param, c.Param, err)
	}
	AssertNoSecret(t, err.Error()+" "+e.Value)
}

// AssertNoSecret fails when text holds a secret the server handed out or
// a session on it signed with.
func AssertNoSecret(t *testing.T, text string) {
	t.Helper()
	for _, s := range []string{faultSecret, faultToken, sourceSecret} {
		if strings.Contains(text, s) {
			t.Errorf("secret %q leaked: %s", s, text)
		}
	}
}

// AcrossTheWindows drives every fault through the windows of a
// real Session, for each endpoint kind of protos.
func AcrossTheWindows(t *testing.T, protos ...string) {
	for _, proto := range protos {
		for _, c := range Cases(proto) {
			t.Run(proto+"/"+c.Mode.String(), func(t *testing.T) {
				t.Parallel()
				clock := core.NewFakeClock(testutil.T0)
				f := NewServer(t, proto, clock)
				logs := &testutil.SyncBuffer{}
				s := Session(t, f, clock, logs)
				ctx := context.Background()

				first, err := s.Credentials(ctx)
				if err != nil {
					t.Fatalf("first read: %v", err)
				}
				expiry := first.Expires

				// advisory window: the refresh fails, the old credentials stay
				f.Set(c.Mode)
				clock.Set(expiry.Add(-800 * time.Second))
				before := s.Stats()
				got, err := s.Credentials(ctx)
				if err != nil {
					t.Fatalf("advisory window: read failed: %v", err)
				}
				if got.AccessKeyID != first.AccessKeyID {
					t.Fatalf("advisory window: got %s, want the old %s", got.AccessKeyID, first.AccessKeyID)
				}
				// the read started the refresh without waiting for it
				testutil.WaitFor(t, "the advisory refresh", func() bool { return s.Stats().Fetches > before.Fetches })
				if after := s.Stats(); after.Failures != before.Failures+1 {
					t.Fatalf("advisory window: %d failed refreshes, want 1 (the refresh was not tried)", after.Failures-before.Failures)
				}

				// mandatory window: the read fails with the fault's error
				clock.Set(expiry.Add(-300 * time.Second))
				_, err = s.Credentials(ctx)
				Check(t, err, c)

				// healed: the next read recovers, in the mandatory window
				f.Set(OK)
				healed, err := s.Credentials(ctx)
				if err != nil {
					t.Fatalf("after healing: %v", err)
				}
				if healed.AccessKeyID == first.AccessKeyID || !healed.Expires.After(expiry) {
					t.Fatalf("after healing: got %v, want new credentials", healed)
				}

				// past expiry with the endpoint down again: an error, never
				// the expired credentials; then healed once more
				f.Set(c.Mode)
				clock.Set(healed.Expires.Add(time.Second))
				if got, err := s.Credentials(ctx); err == nil {
					t.Fatalf("after expiry: got %v, want an error", got)
				} else {
					Check(t, err, c)
				}
				f.Set(OK)
				if _, err := s.Credentials(ctx); err != nil {
					t.Fatalf("after expiry, healed: %v", err)
				}
				AssertNoSecret(t, logs.String())
				if !strings.Contains(logs.String(), "credential refresh failed") {
					t.Errorf("no refresh failure was logged: %s", logs.String())
				}
			})
		}
	}
}

// BackgroundRefresh: with background refresh, a failing endpoint
// at renewal time is retried with backoff while readers keep the old
// credentials; once healed, the next retry renews them and no reader ever
// waited or failed.
func BackgroundRefresh(t *testing.T, protos ...string) {
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			clock := core.NewFakeClock(testutil.T0)
			f := NewServer(t, proto, clock)
			s := Session(t, f, clock, io.Discard, func(o *core.Options) {
				o.BackgroundRefresh = true
				o.DeferRefresh = false
				o.RetryMin, o.RetryMax = 10*time.Second, 40*time.Second
			})
			ctx := context.Background()
			first, err := s.Credentials(ctx)
			if err != nil {
				t.Fatal(err)
			}
			testutil.WaitFor(t, "the renewal timer", func() bool { return clock.Waiters() == 1 })
			f.Set(Status503)
			// up to the advisory window: the renewal fires and fails
			clock.Set(first.Expires.Add(-900 * time.Second))
			testutil.WaitFor(t, "a failed renewal and its backoff timer", func() bool { return s.Stats().Failures >= 1 && clock.Waiters() == 1 })
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
			f.Set(OK)
			fetches := s.Stats().Fetches
			failures := s.Stats().Failures
			clock.Advance(45 * time.Second)
			// no reader asks meanwhile: only the background can renew
			testutil.WaitFor(t, "the background renewal", func() bool { return s.Stats().Fetches > fetches })
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

// ConcurrentReadersInTheMandatoryWindow: many readers waiting on
// one failing refresh all get its error (one endpoint call per attempt,
// not one per reader), and all recover together.
func ConcurrentReadersInTheMandatoryWindow(t *testing.T, proto string) {
	clock := core.NewFakeClock(testutil.T0)
	f := NewServer(t, proto, clock)
	s := Session(t, f, clock, io.Discard)
	ctx := context.Background()
	first, err := s.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Set(Stall)
	clock.Set(first.Expires.Add(-100 * time.Second))
	hits := f.Hits.Load()
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
		if core.KindOf(err) != core.KindConnection {
			t.Fatalf("reader %d: %v, want a connection error", i, err)
		}
	}
	// 32 readers, a few refreshes at most (each of 2 attempts): single flight
	if n := f.Hits.Load() - hits; n > 2*8 {
		t.Fatalf("the endpoint was called %d times for 32 readers", n)
	}
	f.Set(OK)
	errs = readAll()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("reader %d after healing: %v", i, err)
		}
	}
}
