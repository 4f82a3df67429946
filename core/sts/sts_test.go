package sts

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/testutil"
	json "github.com/goccy/go-json"
)

// Fake credentials: obviously not real AWS keys.
const (
	testSourceKey    = "AKIDSOURCEEXAMPLE"
	testSourceSecret = "source-secret-do-not-print"
	testSourceToken  = "source-token-do-not-print"
	testRoleArn      = "arn:aws:iam::123456789012:role/demo"
	testAssumedKey   = "ASIDASSUMEDEXAMPLE"
	testAssumedSec   = "assumed-secret-do-not-print"
	testAssumedTok   = "assumed-token-do-not-print"
)

// backoffCalls counts how often the retryer asked for a backoff delay.
var backoffCalls atomic.Int64

func init() {
	// Retries in these tests wait a millisecond instead of the SDK's
	// jittered exponential backoff (up to seconds); the retry decisions
	// themselves are the SDK's.
	stsRetryBackoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
		backoffCalls.Add(1)
		return time.Millisecond, nil
	})
}

// fakeSTS is an STS Query API endpoint on 127.0.0.1. By default it answers
// AssumeRole with fresh credentials (expiring an hour after clock's now)
// and GetCallerIdentity with the assumed-role identity.
type fakeSTS struct {
	srv   *httptest.Server
	clock core.Clock

	mu       sync.Mutex
	forms    []url.Values // every AssumeRole form received
	auths    []string     // their Authorization headers
	tokens   []string     // their X-Amz-Security-Token headers
	identity []string     // Authorization headers of GetCallerIdentity
	// respond, when set, answers AssumeRole attempt n (1-based) and
	// returns true, or returns false for the default answer.
	respond func(w http.ResponseWriter, r *http.Request, n int) bool
	delay   time.Duration // before each AssumeRole answer
	gate    chan struct{} // when set, AssumeRole waits for it to close
}

func newFakeSTS(t *testing.T) *fakeSTS {
	t.Helper()
	f := &fakeSTS{clock: core.SystemClock{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSTS) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.forms)
}

func (f *fakeSTS) lastForm() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[len(f.forms)-1]
}

func (f *fakeSTS) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	switch r.PostForm.Get("Action") {
	case "GetCallerIdentity":
		f.mu.Lock()
		f.identity = append(f.identity, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
			`<Arn>arn:aws:sts::123456789012:assumed-role/demo/boto3-refresh-session</Arn><UserId>AROADEMO:boto3-refresh-session</UserId>`+
			`<Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		return
	case "AssumeRole":
	default:
		testutil.STSError(w, 400, "InvalidAction", "unexpected action")
		return
	}
	f.mu.Lock()
	f.forms = append(f.forms, r.PostForm)
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	f.tokens = append(f.tokens, r.Header.Get("X-Amz-Security-Token"))
	n, respond, delay, gate := len(f.forms), f.respond, f.delay, f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if respond != nil && respond(w, r, n) {
		return
	}
	assumeRoleResponse(w, fmt.Sprintf("%s%d", testAssumedKey, n), f.clock.Now().Add(time.Hour))
}

func assumeRoleResponse(w http.ResponseWriter, key string, exp time.Time) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
		`<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/demo/s</Arn><AssumedRoleId>AROADEMO:s</AssumedRoleId></AssumedRoleUser>`+
		`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken>`+
		`<Expiration>%s</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></AssumeRoleResponse>`,
		key, testAssumedSec, testAssumedTok, exp.UTC().Format(time.RFC3339))
}

// stsConfig is a JSON sts config for endpoint with explicit source keys;
// extra keys are merged into the top level, assume into assume_role_kwargs
// and client into sts_client_kwargs.
func stsConfig(endpoint string, assume, client, extra map[string]any) []byte {
	ar := map[string]any{"RoleArn": testRoleArn}
	for k, v := range assume {
		ar[k] = v
	}
	cl := map[string]any{"endpoint_url": endpoint, "region_name": "us-east-1",
		"aws_access_key_id": testSourceKey, "aws_secret_access_key": testSourceSecret}
	for k, v := range client {
		if v == nil {
			delete(cl, k)
		} else {
			cl[k] = v
		}
	}
	cfg := map[string]any{"method": "sts", "assume_role_kwargs": ar, "sts_client_kwargs": cl}
	for k, v := range extra {
		cfg[k] = v
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err)
	}
	return b
}

func newSTSSession(t *testing.T, cfg []byte, hooks core.Hooks, optFns ...func(*core.Options)) *core.Session {
	t.Helper()
	optFns = append([]func(*core.Options){func(o *core.Options) { o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) }}, optFns...)
	s, err := core.NewSessionFromJSON(cfg, hooks, optFns...)
	if err != nil {
		t.Fatalf("NewSessionFromJSON: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// assertNoSTSSecret fails when text holds any of the STS test secrets.
func assertNoSTSSecret(t *testing.T, text string, extra ...string) {
	t.Helper()
	for _, s := range append([]string{testSourceSecret, testSourceToken, testAssumedSec, testAssumedTok}, extra...) {
		if strings.Contains(text, s) {
			t.Errorf("text leaks a secret %q: %s", s, text)
		}
	}
}

func wantErr(t *testing.T, err error, kind core.Kind, param string) *core.Error {
	t.Helper()
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *core.Error of kind %s", err, err, kind)
	}
	if e.Kind != kind {
		t.Fatalf("kind = %s, want %s (error: %v)", e.Kind, kind, err)
	}
	if param != "" && e.Param != param {
		t.Fatalf("param = %q, want %q (error: %v)", e.Param, param, err)
	}
	return e
}

func TestSTSAssumeRoleEveryParameter(t *testing.T) {
	f := newFakeSTS(t)
	assume := map[string]any{
		"RoleSessionName":   "my-session",
		"PolicyArns":        []any{map[string]any{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, map[string]any{"arn": "arn:aws:iam::123456789012:policy/p2"}},
		"Policy":            `{"Version":"2012-10-17","Statement":[]}`,
		"DurationSeconds":   1800,
		"ExternalId":        "ext-id-42",
		"Tags":              []any{map[string]any{"Key": "team", "Value": "blue"}, map[string]any{"Key": "env", "Value": ""}},
		"TransitiveTagKeys": []any{"team"},
		"SourceIdentity":    "alice@example.com",
		"ProvidedContexts":  []any{map[string]any{"ProviderArn": "arn:aws:iam::aws:contextProvider/IdentityCenter", "ContextAssertion": "assertion-blob"}},
	}
	s := newSTSSession(t, stsConfig(f.srv.URL, assume, map[string]any{"aws_session_token": testSourceToken}, nil), core.Hooks{})
	if f.calls() != 0 {
		t.Fatalf("a deferred session called AssumeRole at construction")
	}
	c, err := s.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != testAssumedKey+"1" || c.SecretAccessKey != testAssumedSec || c.SessionToken != testAssumedTok {
		t.Fatalf("credentials = %v", c)
	}
	if d := time.Until(c.Expires); d < 50*time.Minute || d > 70*time.Minute {
		t.Fatalf("expiry %s is not the server's", c.ExpiryString())
	}
	form := f.lastForm()
	want := map[string]string{
		"Action": "AssumeRole", "Version": "2011-06-15",
		"RoleArn": testRoleArn, "RoleSessionName": "my-session",
		"PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
		"PolicyArns.member.2.arn": "arn:aws:iam::123456789012:policy/p2",
		"Policy":                  `{"Version":"2012-10-17","Statement":[]}`,
		"DurationSeconds":         "1800", "ExternalId": "ext-id-42",
		"Tags.member.1.Key": "team", "Tags.member.1.Value": "blue",
		"Tags.member.2.Key": "env", "Tags.member.2.Value": "",
		"TransitiveTagKeys.member.1":                 "team",
		"SourceIdentity":                             "alice@example.com",
		"ProvidedContexts.member.1.ProviderArn":      "arn:aws:iam::aws:contextProvider/IdentityCenter",
		"ProvidedContexts.member.1.ContextAssertion": "assertion-blob",
	}
	for k, v := range want {
		if got, ok := form[k]; !ok || got[0] != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
	if _, ok := form["TokenCode"]; ok {
		t.Errorf("TokenCode sent without MFA")
	}
	if len(form) != len(want) {
		t.Errorf("form has %d values, want %d: %v", len(form), len(want), form)
	}
	f.mu.Lock()
	auth, tok := f.auths[0], f.tokens[0]
	f.mu.Unlock()
	if !strings.Contains(auth, "Credential="+testSourceKey+"/") || !strings.Contains(auth, "/us-east-1/sts/aws4_request") {
		t.Errorf("AssumeRole not signed with the source key for us-east-1: %s", auth)
	}
	if tok != testSourceToken {
		t.Errorf("source session token header = %q", tok)
	}
}

func TestSTSDefaultSessionName(t *testing.T) {
	f := newFakeSTS(t)
	s := newSTSSession(t, stsConfig(f.srv.URL, nil, nil, nil), core.Hooks{})
	if _, err := s.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.lastForm().Get("RoleSessionName"); got != DefaultRoleSessionName {
		t.Fatalf("RoleSessionName = %q, want %q", got, DefaultRoleSessionName)
	}
}

func TestSTSEagerFetchAtConstruction(t *testing.T) {
	f := newFakeSTS(t)
	cfg := stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "eager"}, nil, map[string]any{"defer_refresh": false})
	newSTSSession(t, cfg, core.Hooks{})
	if f.calls() != 1 {
		t.Fatalf("defer_refresh false made %d AssumeRole calls at construction, want 1", f.calls())
	}
}

func TestSTSRetries(t *testing.T) {
	tests := []struct {
		name     string
		retries  map[string]any
		fail     func(w http.ResponseWriter)
		failures int
		calls    int // attempts seen by the server
		kind     core.Kind
		status   int
	}{
		{"throttling then success", nil, func(w http.ResponseWriter) { testutil.STSError(w, 400, "Throttling", "Rate exceeded") }, 2, 3, -1, 0},
		{"5xx then success", nil, func(w http.ResponseWriter) { testutil.STSError(w, 503, "ServiceUnavailable", "try later") }, 2, 3, -1, 0},
		{"500 then success, adaptive", map[string]any{"mode": "adaptive"}, func(w http.ResponseWriter) { testutil.STSError(w, 500, "InternalFailure", "oops") }, 1, 2, -1, 0},
		{"legacy mode runs as standard", map[string]any{"mode": "legacy", "max_attempts": 4}, func(w http.ResponseWriter) { testutil.STSError(w, 502, "BadGateway", "x") }, 4, 5, -1, 0},
		{"total_max_attempts exhausted", map[string]any{"total_max_attempts": 2}, func(w http.ResponseWriter) { testutil.STSError(w, 503, "ServiceUnavailable", "down") }, 99, 2, core.KindRequest, 503},
		{"max_attempts 0: no retry", map[string]any{"max_attempts": 0}, func(w http.ResponseWriter) { testutil.STSError(w, 400, "Throttling", "slow down") }, 99, 1, core.KindRequest, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSTS(t)
			f.respond = func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n <= tt.failures {
					tt.fail(w)
					return true
				}
				return false
			}
			client := map[string]any{}
			if tt.retries != nil {
				client["config"] = map[string]any{"retries": tt.retries}
			}
			s := newSTSSession(t, stsConfig(f.srv.URL, nil, client, nil), core.Hooks{})
			before := backoffCalls.Load()
			_, err := s.Credentials(context.Background())
			if tt.kind < 0 {
				if err != nil {
					t.Fatalf("want success after retries, got %v", err)
				}
			} else {
				e := wantErr(t, err, tt.kind, "")
				if e.StatusCode != tt.status {
					t.Fatalf("status = %d, want %d", e.StatusCode, tt.status)
				}
			}
			if f.calls() != tt.calls {
				t.Fatalf("server saw %d attempts, want %d", f.calls(), tt.calls)
			}
			if got := backoffCalls.Load() - before; got != int64(tt.calls-1) {
				t.Fatalf("retryer backed off %d times, want %d", got, tt.calls-1)
			}
		})
	}
}

func TestSTSAccessDenied(t *testing.T) {
	f := newFakeSTS(t)
	f.respond = func(w http.ResponseWriter, r *http.Request, n int) bool {
		testutil.STSError(w, 403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole")
		return true
	}
	s := newSTSSession(t, stsConfig(f.srv.URL, nil, nil, nil), core.Hooks{})
	_, err := s.Credentials(context.Background())
	e := wantErr(t, err, core.KindRequest, "")
	if e.StatusCode != 403 || e.Code != "AccessDenied" {
		t.Fatalf("status %d code %q, want 403 AccessDenied", e.StatusCode, e.Code)
	}
	if !strings.Contains(err.Error(), "User is not authorized to perform: sts:AssumeRole") {
		t.Fatalf("error does not carry the AWS message: %v", err)
	}
	if !errors.Is(err, core.ErrRequest) {
		t.Fatalf("errors.Is(err, ErrRequest) is false")
	}
	// what botocore's ClientError holds, for the hosts
	if e.Details["operation"] != "AssumeRole" || e.Details["error_message"] != "User is not authorized to perform: sts:AssumeRole" {
		t.Fatalf("details = %v", e.Details)
	}
	if f.calls() != 1 {
		t.Fatalf("AccessDenied was retried: %d calls", f.calls())
	}
	assertNoSTSSecret(t, err.Error())
}

func TestSTSMalformedResponse(t *testing.T) {
	for name, body := range map[string]string{
		"not xml":        `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>`,
		"no credentials": `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>`,
		"bad expiration": `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>` +
			`<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>tomorrow</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeSTS(t)
			f.respond = func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.Header().Set("Content-Type", "text/xml")
				io.WriteString(w, body)
				return true
			}
			s := newSTSSession(t, stsConfig(f.srv.URL, nil, nil, nil), core.Hooks{})
			_, err := s.Credentials(context.Background())
			wantErr(t, err, core.KindCredential, "")
			assertNoSTSSecret(t, err.Error())
		})
	}
}

func TestSTSReadTimeout(t *testing.T) {
	f := newFakeSTS(t)
	f.delay = 10 * time.Second // the handler returns as soon as the client goes away
	client := map[string]any{"config": map[string]any{"read_timeout": 0.2, "retries": map[string]any{"total_max_attempts": 1}}}
	s := newSTSSession(t, stsConfig(f.srv.URL, nil, client, nil), core.Hooks{})
	_, err := s.Credentials(context.Background())
	wantErr(t, err, core.KindConnection, "")
	if !strings.Contains(err.Error(), f.srv.URL) {
		t.Errorf("connection error does not name the endpoint: %v", err)
	}
}

func TestSTSConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	client := map[string]any{"config": map[string]any{"connect_timeout": 2, "retries": map[string]any{"total_max_attempts": 2}}}
	s := newSTSSession(t, stsConfig("http://"+addr, nil, client, nil), core.Hooks{})
	_, err = s.Credentials(context.Background())
	wantErr(t, err, core.KindConnection, "")
	if !errors.Is(err, core.ErrConnection) {
		t.Fatalf("errors.Is(err, ErrConnection) is false")
	}
	assertNoSTSSecret(t, err.Error())
}

func TestSTSTLSVerify(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		assumeRoleResponse(w, testAssumedKey, time.Now().Add(time.Hour))
	}))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(bundle, block, 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(notPEM, []byte("nothing here"), 0o600)
	one := map[string]any{"total_max_attempts": 1}
	for _, tt := range []struct {
		name   string
		verify any
		kind   core.Kind // -1: success
	}{
		{"default verifies and fails", nil, core.KindConnection},
		{"verify true fails", true, core.KindConnection},
		{"verify false", false, -1},
		{"CA bundle", bundle, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := map[string]any{"config": map[string]any{"retries": one}}
			if tt.verify != nil {
				client["verify"] = tt.verify
			}
			s := newSTSSession(t, stsConfig(srv.URL, nil, client, nil), core.Hooks{})
			_, err := s.Credentials(context.Background())
			if tt.kind < 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, tt.kind, "")
		})
	}
	for name, path := range map[string]string{"missing CA bundle": filepath.Join(t.TempDir(), "nope.pem"), "CA bundle without PEM": notPEM} {
		t.Run(name, func(t *testing.T) {
			_, err := core.NewSessionFromJSON(stsConfig(srv.URL, nil, map[string]any{"verify": path}, nil), core.Hooks{})
			wantErr(t, err, core.KindValidation, "sts_client_kwargs.verify")
		})
	}
}

// TestSTSProxyAndPlainHTTP points the AWS endpoint (use_ssl false, so
// http) at a local proxy: the request reaches the proxy with the AWS URL
// and never leaves the machine.
func TestSTSProxyAndPlainHTTP(t *testing.T) {
	f := newFakeSTS(t)
	var proxied atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Store(r.URL.String())
		f.serve(w, r)
	}))
	defer proxy.Close()
	client := map[string]any{"endpoint_url": nil, "region_name": "eu-west-3", "use_ssl": false,
		"config": map[string]any{"proxies": map[string]any{"http": proxy.URL}}}
	s := newSTSSession(t, stsConfig("", nil, client, nil), core.Hooks{})
	if _, err := s.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := proxied.Load().(string); got != "http://sts.eu-west-3.amazonaws.com/" {
		t.Fatalf("proxy saw %q, want the plain-http regional STS URL", got)
	}
}

func TestSTSNSessionsOneAssumeRole(t *testing.T) {
	const n = 16
	f := newFakeSTS(t)
	clk := core.NewFakeClock(time.Now())
	f.clock = clk
	f.gate = make(chan struct{})
	cfg := stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "shared"}, nil, nil)
	sessions := make([]*core.Session, n)
	for i := range sessions {
		sessions[i] = newSTSSession(t, cfg, core.Hooks{}, func(o *core.Options) { o.Clock = clk })
	}
	readAll := func() []core.Credentials {
		out := make([]core.Credentials, n)
		var wg sync.WaitGroup
		for i, s := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.Credentials(context.Background())
				if err != nil {
					t.Error(err)
				}
				out[i] = c
			}()
		}
		// Hold the first call until every session has asked, so that all
		// of them are in flight together.
		testutil.WaitFor(t, "the first AssumeRole call", func() bool { return f.calls() >= 1 })
		time.Sleep(20 * time.Millisecond)
		wg.Wait()
		return out
	}
	go func() {
		testutil.WaitFor(t, "the first AssumeRole call", func() bool { return f.calls() >= 1 })
		time.Sleep(50 * time.Millisecond)
		close(f.gate)
	}()
	first := readAll()
	if f.calls() != 1 {
		t.Fatalf("%d sessions made %d AssumeRole calls, want 1", n, f.calls())
	}
	for _, c := range first {
		if c.AccessKeyID != testAssumedKey+"1" {
			t.Fatalf("a session got %q, want the shared credentials", c.AccessKeyID)
		}
	}
	f.mu.Lock()
	f.gate = nil
	f.mu.Unlock()
	// Into the mandatory window: every session must refresh, and they
	// still make a single call together.
	clk.Advance(51 * time.Minute)
	second := readAll()
	if f.calls() != 2 {
		t.Fatalf("after expiry the sessions made %d calls in all, want 2", f.calls())
	}
	for _, c := range second {
		if c.AccessKeyID != testAssumedKey+"2" {
			t.Fatalf("a session got %q after refresh, want the new shared credentials", c.AccessKeyID)
		}
	}
	// A forced refresh of one session makes a new call (joined by any
	// other session refreshing at the same time), and the result is
	// shared with sessions that ask afterwards.
	forced, err := sessions[0].Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.calls() != 3 || forced.AccessKeyID != testAssumedKey+"3" {
		t.Fatalf("a forced refresh returned %s after %d calls, want new credentials from call 3", forced.AccessKeyID, f.calls())
	}
	late := newSTSSession(t, cfg, core.Hooks{}, func(o *core.Options) { o.Clock = clk })
	if c, err := late.Credentials(context.Background()); err != nil || c.AccessKeyID != forced.AccessKeyID || f.calls() != 3 {
		t.Fatalf("a new session got %s (%v) after %d calls, want the refreshed shared credentials", c.AccessKeyID, err, f.calls())
	}
	// A different identity (session name) is not shared.
	other := newSTSSession(t, stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "other"}, nil, nil), core.Hooks{}, func(o *core.Options) { o.Clock = clk })
	if _, err := other.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.calls() != 4 {
		t.Fatalf("a different RoleSessionName reused shared credentials (%d calls)", f.calls())
	}
	// Different source credentials are not shared either.
	third := newSTSSession(t, stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "shared"}, map[string]any{"aws_access_key_id": "AKIDOTHEREXAMPLE"}, nil),
		core.Hooks{}, func(o *core.Options) { o.Clock = clk })
	if _, err := third.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.calls() != 5 {
		t.Fatalf("different source credentials reused shared credentials (%d calls)", f.calls())
	}
}

// TestSTSSharedRespectsAdvisoryWindow: a session whose advisory window is
// wider than another's does not take credentials already inside it.
func TestSTSSharedRespectsAdvisoryWindow(t *testing.T) {
	f := newFakeSTS(t)
	clk := core.NewFakeClock(time.Now())
	f.clock = clk
	cfg := stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "windows"}, nil, nil)
	narrow := newSTSSession(t, cfg, core.Hooks{}, func(o *core.Options) {
		o.Clock = clk
		o.AdvisoryTimeout = 5 * time.Minute
		o.MandatoryTimeout = time.Minute
	})
	if _, err := narrow.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(40 * time.Minute) // 20 minutes left
	wide := newSTSSession(t, cfg, core.Hooks{}, func(o *core.Options) { o.Clock = clk; o.AdvisoryTimeout = 15 * time.Minute })
	if _, err := wide.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.calls() != 1 {
		t.Fatalf("credentials with 20 min left were not reused for a 15 min window (%d calls)", f.calls())
	}
	clk.Advance(10 * time.Minute) // 10 minutes left: inside wide's window only
	third := newSTSSession(t, cfg, core.Hooks{}, func(o *core.Options) { o.Clock = clk; o.AdvisoryTimeout = 15 * time.Minute })
	c, err := third.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.calls() != 2 || c.AccessKeyID != testAssumedKey+"2" {
		t.Fatalf("credentials inside the advisory window were reused (%d calls, key %s)", f.calls(), c.AccessKeyID)
	}
}

func TestSTSIdentity(t *testing.T) {
	f := newFakeSTS(t)
	s := newSTSSession(t, stsConfig(f.srv.URL, nil, nil, nil), core.Hooks{})
	id, err := s.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Arn": "arn:aws:sts::123456789012:assumed-role/demo/boto3-refresh-session",
		"UserId": "AROADEMO:boto3-refresh-session", "Account": "123456789012"}
	for k, v := range want {
		if id[k] != v {
			t.Errorf("identity[%s] = %v, want %v", k, id[k], v)
		}
	}
	f.mu.Lock()
	auth := f.identity[0]
	f.mu.Unlock()
	if !strings.Contains(auth, "Credential="+testAssumedKey+"1/") {
		t.Fatalf("GetCallerIdentity not signed with the assumed credentials: %s", auth)
	}
}

func TestSTSSourceCredentialsHook(t *testing.T) {
	f := newFakeSTS(t)
	var asked atomic.Int64
	hooks := core.Hooks{SourceCredentials: func(ctx context.Context) (map[string]string, error) {
		n := asked.Add(1)
		return map[string]string{"access_key": fmt.Sprintf("AKIDHOOK%d", n), "secret_key": testSourceSecret, "token": testSourceToken}, nil
	}}
	cfg := stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "hooked"}, map[string]any{"aws_access_key_id": nil, "aws_secret_access_key": nil}, nil)
	s := newSTSSession(t, cfg, hooks)
	for i := 1; i <= 2; i++ {
		if _, err := s.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		auth, tok := f.auths[i-1], f.tokens[i-1]
		f.mu.Unlock()
		if !strings.Contains(auth, fmt.Sprintf("Credential=AKIDHOOK%d/", i)) || tok != testSourceToken {
			t.Fatalf("refresh %d not signed with the hook's fresh credentials: %s", i, auth)
		}
	}
	if asked.Load() != 2 {
		t.Fatalf("source hook asked %d times for 2 refreshes", asked.Load())
	}

	// Explicit keys win over the hook.
	asked.Store(0)
	s2 := newSTSSession(t, stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "explicit"}, nil, nil), hooks)
	if _, err := s2.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if asked.Load() != 0 {
		t.Fatalf("the hook was asked although explicit keys were given")
	}

	// Hook failures and bad source credentials are credential errors.
	for name, hook := range map[string]func(context.Context) (map[string]string, error){
		"fails":     func(context.Context) (map[string]string, error) { return nil, errors.New("no keys today") },
		"no secret": func(context.Context) (map[string]string, error) { return map[string]string{"access_key": "AKIDX"}, nil },
		"NUL in key": func(context.Context) (map[string]string, error) {
			return map[string]string{"access_key": "A\x00", "secret_key": "s"}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSTSSession(t, cfg, core.Hooks{SourceCredentials: hook})
			_, err := s.Credentials(context.Background())
			e := wantErr(t, err, core.KindCredential, "")
			if !strings.HasPrefix(e.Param, "source_credentials") {
				t.Fatalf("param = %q", e.Param)
			}
		})
	}
}

// TestSTSDefaultChain: with no keys and a hook that gives none, the AWS SDK
// default chain signs (here from the environment). It is the only test
// that loads the default config, which happens once per process.
func TestSTSDefaultChain(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSourceSecret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	f := newFakeSTS(t)
	cfg := stsConfig(f.srv.URL, map[string]any{"RoleSessionName": "env"}, map[string]any{"aws_access_key_id": nil, "aws_secret_access_key": nil}, nil)
	empty := core.Hooks{SourceCredentials: func(context.Context) (map[string]string, error) { return map[string]string{}, nil }}
	for _, hooks := range []core.Hooks{{}, empty} {
		s := newSTSSession(t, cfg, hooks)
		if _, err := s.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		auth := f.auths[len(f.auths)-1]
		f.mu.Unlock()
		if !strings.Contains(auth, "Credential=AKIDFROMENV/") {
			t.Fatalf("not signed by the default chain: %s", auth)
		}
	}
}

func TestSTSErrorsAndLogsHoldNoSecret(t *testing.T) {
	f := newFakeSTS(t)
	f.respond = func(w http.ResponseWriter, r *http.Request, n int) bool {
		testutil.STSError(w, 403, "AccessDenied", "denied")
		return true
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hooks := core.Hooks{MFAToken: func(context.Context) (string, error) { return "918273", nil }}
	cfg := stsConfig(f.srv.URL, map[string]any{"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "564738"},
		map[string]any{"aws_session_token": testSourceToken}, nil)
	s, err := core.NewSessionFromJSON(cfg, hooks, func(o *core.Options) { o.Logger = logger })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Credentials(context.Background())
	wantErr(t, err, core.KindRequest, "")
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	if !strings.Contains(text, "TokenCode is ignored") {
		t.Errorf("no warning for TokenCode given with a token provider: %q", text)
	}
	if !strings.Contains(text, "credential refresh failed") {
		t.Errorf("the failed refresh was not logged: %q", text)
	}
	assertNoSTSSecret(t, err.Error()+text+fmt.Sprintf("%v %+v %#v", err, err, err), "918273", "564738")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// BenchmarkSTSNewSession measures building a deferred sts session (no
// network): JSON decoding, validation and the shared client lookup.
func BenchmarkSTSNewSession(b *testing.B) {
	cfg := stsConfig("http://127.0.0.1:9", map[string]any{"RoleSessionName": "bench", "DurationSeconds": 3600}, nil, nil)
	discard := func(o *core.Options) { o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) }
	b.ReportAllocs()
	for b.Loop() {
		s, err := core.NewSessionFromJSON(cfg, core.Hooks{}, discard)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// The botocore Config options the STS client honours reach the request.
func TestSTSClientConfigUserAgent(t *testing.T) {
	f := newFakeSTS(t)
	var agent string
	f.respond = func(w http.ResponseWriter, r *http.Request, n int) bool {
		agent = r.Header.Get("User-Agent")
		return false
	}
	cfg := map[string]any{"user_agent_extra": "myapp/1.2", "user_agent_appid": "billing", "max_pool_connections": 3,
		"signature_version": "v4", "use_fips_endpoint": false}
	s := newSTSSession(t, stsConfig(f.srv.URL, nil, map[string]any{"config": cfg}, nil), core.Hooks{})
	if _, err := s.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(agent, "myapp-1.2") || !strings.Contains(agent, "app/billing") {
		t.Fatalf("User-Agent %q lacks user_agent_extra (the SDK spells / as -) or user_agent_appid", agent)
	}
}

// A refused connection says so in Details, as botocore's
// EndpointConnectionError does.
func TestSTSConnectionDetails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	s := newSTSSession(t, stsConfig(url, nil, map[string]any{"config": map[string]any{"retries": map[string]any{"total_max_attempts": 1}}}, nil), core.Hooks{})
	_, err = s.Credentials(context.Background())
	e := wantErr(t, err, core.KindConnection, "")
	if e.Details["connection"] != "endpoint" || e.Details["endpoint"] != url {
		t.Fatalf("details = %v", e.Details)
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// connectionFailure sorts failures as botocore's exception classes do.
func TestConnectionFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "endpoint"},
		{"unknown host", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "sts.invalid"}}, "endpoint"},
		{"connect timeout", &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Err: timeoutError{}}}, "connect_timeout"},
		{"read timeout", &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: timeoutError{}}, "read_timeout"},
		{"deadline", fmt.Errorf("send: %w", context.DeadlineExceeded), "read_timeout"},
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, "closed"},
		{"eof", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), "closed"},
		{"tls", &tls.CertificateVerificationError{Err: errors.New("unknown authority")}, "tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := connectionFailure(tc.err); got != tc.want {
				t.Fatalf("connectionFailure(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}
