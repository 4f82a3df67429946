package credserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/testutil"
	json "github.com/goccy/go-json"
)

// Distinctive secrets, so that a leak is found by substring.
const (
	httpSecret = "SECRETKEYhttpserverXXXXXXXXXXXXXXXXXXXXXX"
	httpToken  = "SESSIONTOKENhttpserverYYYYYYYYYYYYYYYYYYYYYY"
)

// fixedSession is a session of one-hour credentials holding the secrets.
func fixedSession(t *testing.T) *core.Session {
	t.Helper()
	s, err := core.NewSession(core.ProviderFunc(func(context.Context) (core.Credentials, error) {
		return core.Credentials{AccessKeyID: "AKIDHTTPSERVER", SecretAccessKey: httpSecret, SessionToken: httpToken,
			Expires: time.Now().Add(time.Hour)}, nil
	}), func(o *core.Options) { o.Logger = slog.New(slog.DiscardHandler) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// serveHTTP starts an HTTPServer over s (id 1) logging into logs.
func serveHTTP(t *testing.T, s *core.Session, logs io.Writer, optFns ...func(*HTTPOptions)) *HTTPServer {
	t.Helper()
	src := SourceFunc(func(id uint64) (*core.Session, error) {
		if id == 1 && s != nil {
			return s, nil
		}
		return nil, &core.Error{Kind: core.KindClosed, Message: "unknown"}
	})
	if logs == nil {
		logs = io.Discard
	}
	fns := append([]func(*HTTPOptions){func(o *HTTPOptions) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.LogRequests = true
		o.TokenFile = filepath.Join(t.TempDir(), "token")
	}}, optFns...)
	srv, err := ListenHTTP(src, 1, fns...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// do sends one request and returns the status, the body and the header.
func do(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func get(t *testing.T, url, token string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	return do(t, req)
}

// An expiry with a fraction of a second is served as it is: cut to the
// second it would end before the session's, already past for a session
// whose mandatory window is under a second.
func TestHTTPExpirationKeepsTheFraction(t *testing.T) {
	expires := time.Now().Add(time.Hour).Truncate(time.Second).Add(700 * time.Millisecond)
	s, err := core.NewSession(core.ProviderFunc(func(context.Context) (core.Credentials, error) {
		return core.Credentials{AccessKeyID: "AKIDHTTPSERVER", SecretAccessKey: httpSecret, SessionToken: httpToken,
			Expires: expires}, nil
	}), func(o *core.Options) { o.Logger = slog.New(slog.DiscardHandler) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := serveHTTP(t, s, nil)
	status, body, _ := get(t, srv.URL(), srv.Token())
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil {
		t.Fatalf("status %d: %v", status, err)
	}
	exp, err := time.Parse(time.RFC3339Nano, got["Expiration"])
	if err != nil || !exp.Equal(expires) || !strings.HasSuffix(got["Expiration"], ".7Z") {
		t.Fatalf("Expiration %q, want %s: %v", got["Expiration"], expires.UTC().Format(time.RFC3339Nano), err)
	}
}

func TestHTTPServesCredentials(t *testing.T) {
	srv := serveHTTP(t, fixedSession(t), nil)
	status, body, h := get(t, srv.URL(), srv.Token())
	if status != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q: %s", status, h.Get("Content-Type"), body)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got["AccessKeyId"] != "AKIDHTTPSERVER" || got["SecretAccessKey"] != httpSecret || got["Token"] != httpToken {
		t.Fatalf("answer %v", got)
	}
	exp, err := time.Parse(time.RFC3339, got["Expiration"])
	if err != nil || !strings.HasSuffix(got["Expiration"], "Z") || exp.Before(time.Now()) {
		t.Fatalf("Expiration %q: %v", got["Expiration"], err)
	}
	if st := srv.Stats(); st.Served != 1 || st.Refused != 0 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || !strings.HasSuffix(srv.URL(), DefaultPath) {
		t.Fatalf("url %s", srv.URL())
	}
}

// TestHTTPRefusals: every request that is not GET <path> with the token
// is refused with its status, a JSON {code, message} that gives no hint,
// and never a credential.
func TestHTTPRefusals(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	srv := serveHTTP(t, fixedSession(t), logs)
	base := "http://" + srv.Addr().String()
	tok := srv.Token()
	manyHeaders := http.Header{}
	for i := range DefaultMaxHeaders + 1 {
		manyHeaders.Set("X-Filler-"+strings.Repeat("a", i+1), "x")
	}
	repeated := http.Header{"X-Same": make([]string, DefaultMaxHeaders+1)}
	cases := []struct {
		name   string
		method string
		path   string
		auth   []string
		body   string
		extra  http.Header
		status int
		code   string
	}{
		{"no token", "GET", DefaultPath, nil, "", nil, 401, "Unauthorized"},
		{"empty token", "GET", DefaultPath, []string{""}, "", nil, 401, "Unauthorized"},
		{"wrong token", "GET", DefaultPath, []string{strings.Repeat("0", 64)}, "", nil, 403, "Forbidden"},
		{"token prefix", "GET", DefaultPath, []string{tok[:63]}, "", nil, 403, "Forbidden"},
		{"token and more", "GET", DefaultPath, []string{tok + "0"}, "", nil, 403, "Forbidden"},
		{"bearer token", "GET", DefaultPath, []string{"Bearer " + tok}, "", nil, 403, "Forbidden"},
		{"two tokens", "GET", DefaultPath, []string{tok, tok}, "", nil, 403, "Forbidden"},
		{"no token, other path", "GET", "/", nil, "", nil, 401, "Unauthorized"},
		{"other path", "GET", "/latest/meta-data/", []string{tok}, "", nil, 404, "NotFound"},
		{"path prefix", "GET", DefaultPath + "/x", []string{tok}, "", nil, 404, "NotFound"},
		{"query", "GET", DefaultPath + "?x=1", []string{tok}, "", nil, 404, "NotFound"},
		{"POST", "POST", DefaultPath, []string{tok}, "", nil, 405, "MethodNotAllowed"},
		{"PUT", "PUT", DefaultPath, []string{tok}, "", nil, 405, "MethodNotAllowed"},
		{"HEAD", "HEAD", DefaultPath, []string{tok}, "", nil, 405, ""},
		{"GET with a body", "GET", DefaultPath, []string{tok}, "{}", nil, 413, "RequestEntityTooLarge"},
		{"too many headers", "GET", DefaultPath, []string{tok}, "", manyHeaders, 431, "RequestHeaderFieldsTooLarge"},
		{"one header too often", "GET", DefaultPath, []string{tok}, "", repeated, 431, "RequestHeaderFieldsTooLarge"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, base+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.extra {
				req.Header[k] = v
			}
			for _, a := range tc.auth {
				req.Header.Add("Authorization", a)
			}
			status, got, h := do(t, req)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, got)
			}
			if tc.method == "HEAD" {
				return
			}
			var e ecsError
			if err := json.Unmarshal([]byte(got), &e); err != nil || e.Code != tc.code || h.Get("Content-Type") != "application/json" {
				t.Fatalf("answer %q (%v), want code %s", got, err, tc.code)
			}
			for _, secret := range []string{tok, httpSecret, httpToken, "AKIDHTTPSERVER"} {
				if strings.Contains(got, secret) {
					t.Fatalf("answer %q holds a secret", got)
				}
			}
		})
	}
	if st := srv.Stats(); st.Refused != int64(len(cases)) || st.Served != 0 {
		t.Fatalf("stats %+v, want %d refused", st, len(cases))
	}
	// the server still serves
	if status, _, _ := get(t, srv.URL(), tok); status != 200 {
		t.Fatalf("status %d after the refusals", status)
	}
	for _, secret := range []string{tok, httpSecret, httpToken} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log holds a secret:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "status=401") || !strings.Contains(logs.String(), "status=200") {
		t.Fatalf("the log misses requests:\n%s", logs.String())
	}
}

// failingProvider fails with an error that quotes nothing secret.
type failingProvider struct{}

func (failingProvider) Retrieve(context.Context) (core.Credentials, error) {
	return core.Credentials{}, &core.Error{Kind: core.KindConnection, Message: "sts unreachable"}
}

// TestHTTPNoCredentials: a session that cannot get credentials (a failed
// first fetch, a closed session, an unknown session) answers 503 with the
// reason, and logs no secret.
func TestHTTPNoCredentials(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	bad, err := core.NewSession(failingProvider{}, func(o *core.Options) { o.Logger = slog.New(slog.DiscardHandler) })
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	closed := fixedSession(t)
	closed.Close()
	for _, tc := range []struct {
		name string
		s    *core.Session
		code string
		text string
	}{
		{"refresh fails", bad, "ConnectionError", "sts unreachable"},
		{"session closed", closed, "SessionClosed", "closed"},
		{"no session", nil, "SessionClosed", "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serveHTTP(t, tc.s, logs)
			status, body, h := get(t, srv.URL(), srv.Token())
			var e ecsError
			if status != 503 || h.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &e) != nil ||
				e.Code != tc.code || !strings.Contains(e.Message, tc.text) {
				t.Fatalf("status %d: %s", status, body)
			}
			if st := srv.Stats(); st.Failed != 1 {
				t.Fatalf("stats %+v", st)
			}
			if strings.Contains(logs.String(), srv.Token()) {
				t.Fatalf("the log holds the token:\n%s", logs.String())
			}
		})
	}
}

func TestHTTPListenLoopbackOnly(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.com:0", "[fe80::1%lo]:0",
		"127.0.0.1", "127.0.0.1:99999", "127.0.0.1:http", "[::ffff:10.0.0.1]:0", "[::ffff:0.0.0.0]:0"} {
		t.Run(listen, func(t *testing.T) {
			_, err := ListenHTTP(SourceFunc(nil), 1, func(o *HTTPOptions) {
				o.Listen = listen
				o.TokenFile = filepath.Join(t.TempDir(), "token")
			})
			var e *core.Error
			if !errors.As(err, &e) || e.Kind != core.KindValidation || e.Param != "listen" || !strings.Contains(e.Message, "listen") {
				t.Fatalf("err %v, want a validation error naming listen", err)
			}
		})
	}
	for _, tc := range []struct{ listen, prefix string }{
		{"127.0.0.1:0", "http://127.0.0.1:"}, {"localhost:0", "http://127.0.0.1:"}, {"127.0.0.2:0", "http://127.0.0.2:"},
		{"[::1]:0", "http://[::1]:"},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			if strings.Contains(tc.listen, "::1") {
				if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
					t.Skip("no IPv6 loopback here:", err)
				} else {
					ln.Close()
				}
			}
			srv := serveHTTP(t, fixedSession(t), nil, func(o *HTTPOptions) { o.Listen = tc.listen })
			if !strings.HasPrefix(srv.URL(), tc.prefix) {
				t.Fatalf("url %s, want %s...", srv.URL(), tc.prefix)
			}
			if status, _, _ := get(t, srv.URL(), srv.Token()); status != 200 {
				t.Fatalf("status %d", status)
			}
		})
	}
}

// TestHTTPRateLimit: beyond the rate (and its burst of twice as many)
// requests get 429 until time passes.
func TestHTTPRateLimit(t *testing.T) {
	clock := core.NewFakeClock(time.Now())
	srv := serveHTTP(t, fixedSession(t), nil, func(o *HTTPOptions) {
		o.RequestsPerSecond = 2
		o.Clock = clock
	})
	for i := range 4 {
		if status, body, _ := get(t, srv.URL(), srv.Token()); status != 200 {
			t.Fatalf("request %d: status %d: %s", i, status, body)
		}
	}
	status, body, h := get(t, srv.URL(), srv.Token())
	if status != 429 || h.Get("Retry-After") == "" || !strings.Contains(body, "TooManyRequests") {
		t.Fatalf("status %d: %s", status, body)
	}
	clock.Advance(time.Second)
	for i := range 2 {
		if status, _, _ := get(t, srv.URL(), srv.Token()); status != 200 {
			t.Fatalf("request %d after a second: status %d", i, status)
		}
	}
	// requests without the token are paced apart: their flood is refused
	// while the clients with the token go on
	clock.Advance(2 * time.Second)
	for i := range 4 {
		if status, _, _ := get(t, srv.URL(), "wrong"); status != 403 {
			t.Fatalf("stranger %d: status %d", i, status)
		}
	}
	if status, _, _ := get(t, srv.URL(), ""); status != 429 {
		t.Fatalf("stranger over the rate: status %d", status)
	}
	for i := range 4 {
		if status, _, _ := get(t, srv.URL(), srv.Token()); status != 200 {
			t.Fatalf("client %d during the flood: status %d", i, status)
		}
	}
}

// TestHTTPMaxConnections: beyond MaxConnections a client is not accepted
// until a connection closes.
func TestHTTPMaxConnections(t *testing.T) {
	srv := serveHTTP(t, fixedSession(t), nil, func(o *HTTPOptions) { o.MaxConnections = 1 })
	held, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// one request answered on held: it is accepted, and kept alive
	req, _ := http.NewRequest(http.MethodGet, srv.URL(), nil)
	req.Header.Set("Authorization", srv.Token())
	if err := req.Write(held); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(held), req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("held connection: %v %v", resp, err)
	}
	resp.Body.Close()
	if len(srv.ln.sem) != cap(srv.ln.sem) {
		t.Fatal("the held connection takes no slot")
	}
	done := make(chan int, 1)
	go func() {
		status, _, _ := get(t, srv.URL(), srv.Token())
		done <- status
	}()
	select {
	case status := <-done:
		t.Fatalf("a second connection was served (%d) while the only slot was taken", status)
	default:
	}
	held.Close()
	if status := <-done; status != 200 {
		t.Fatalf("status %d once the slot was free", status)
	}
}

func TestHTTPFiles(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Stat(tokenFile)
	srv := serveHTTP(t, fixedSession(t), nil, func(o *HTTPOptions) {
		o.TokenFile = tokenFile
		o.EnvFile = envFile
	})
	fi, err := os.Stat(tokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 || os.SameFile(fi, old) {
		t.Fatalf("token file %v: mode %v, same file as before %v", err, fi.Mode(), os.SameFile(fi, old))
	}
	if b, _ := os.ReadFile(tokenFile); string(b) != srv.Token() || len(b) != 64 {
		t.Fatalf("token file holds %d bytes, not the token", len(b))
	}
	env, err := os.ReadFile(envFile)
	want := "AWS_CONTAINER_CREDENTIALS_FULL_URI=" + srv.URL() + "\nAWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=" + tokenFile + "\n"
	if err != nil || string(env) != want || string(env) != srv.EnvLines() {
		t.Fatalf("env file %q (%v), want %q", env, err, want)
	}
	if fi, _ := os.Stat(envFile); fi.Mode().Perm() != 0o600 {
		t.Fatalf("env file mode %v", fi.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("left temporary files: %v", entries)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{tokenFile, envFile} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s not removed: %v", p, err)
		}
	}
	if _, err := net.Dial("tcp", srv.Addr().String()); err == nil {
		t.Fatal("still listening after Close")
	}
	if err := srv.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

// TestHTTPDefaultTokenFile: without token_file the token goes in a new
// private directory, removed with it.
func TestHTTPDefaultTokenFile(t *testing.T) {
	srv, err := ListenHTTP(SourceFunc(nil), 1, func(o *HTTPOptions) { o.Logger = slog.New(slog.DiscardHandler) })
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(srv.TokenFile())
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 || !filepath.IsAbs(srv.TokenFile()) {
		t.Fatalf("token dir %s: %v %v", dir, fi.Mode(), err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != os.Getuid() {
		t.Fatal("token dir not ours")
	}
	srv.Close()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token dir not removed: %v", err)
	}
}

func TestHTTPUnwritableFiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir")
	for _, tc := range []struct {
		param string
		fn    func(*HTTPOptions)
	}{
		{"token_file", func(o *HTTPOptions) { o.TokenFile = filepath.Join(missing, "token") }},
		{"env_file", func(o *HTTPOptions) { o.EnvFile = filepath.Join(missing, "env") }},
	} {
		t.Run(tc.param, func(t *testing.T) {
			tokenFile := filepath.Join(t.TempDir(), "token")
			_, err := ListenHTTP(SourceFunc(nil), 1, func(o *HTTPOptions) { o.TokenFile = tokenFile }, tc.fn)
			var e *core.Error
			if !errors.As(err, &e) || e.Kind != core.KindConfiguration || e.Param != tc.param {
				t.Fatalf("err %v, want a configuration error naming %s", err, tc.param)
			}
			if tc.param == "env_file" {
				if _, err := os.Stat(tokenFile); !errors.Is(err, os.ErrNotExist) {
					t.Fatal("the token file outlived the failed start")
				}
			}
		})
	}
	// a failed start removes only what it wrote: a file already at
	// env_file stays when the bind fails
	t.Run("bind fails", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		envFile := filepath.Join(t.TempDir(), "env")
		os.WriteFile(envFile, []byte("keep"), 0o600)
		_, err = ListenHTTP(SourceFunc(nil), 1, func(o *HTTPOptions) {
			o.Listen = busy.Addr().String()
			o.EnvFile = envFile
			o.TokenFile = filepath.Join(t.TempDir(), "token")
		})
		var e *core.Error
		if !errors.As(err, &e) || e.Kind != core.KindConfiguration || e.Param != "listen" {
			t.Fatalf("err %v, want a configuration error naming listen", err)
		}
		if b, _ := os.ReadFile(envFile); string(b) != "keep" {
			t.Fatal("a failed start removed a file it did not write")
		}
	})
	for _, tc := range []struct {
		param string
		fn    func(*HTTPOptions)
	}{
		{"token_file", func(o *HTTPOptions) { o.TokenFile = "/tmp/a\nb" }},
		{"env_file", func(o *HTTPOptions) { o.EnvFile = "/tmp/a\rb" }},
	} {
		t.Run(tc.param+" with a line break", func(t *testing.T) {
			_, err := ListenHTTP(SourceFunc(nil), 1, tc.fn)
			var e *core.Error
			if !errors.As(err, &e) || e.Kind != core.KindValidation || e.Param != tc.param {
				t.Fatalf("err %v, want a validation error naming %s", err, tc.param)
			}
		})
	}
}

func TestParseHTTPOptions(t *testing.T) {
	o, err := ParseHTTPOptions([]byte(`{"listen": "[::1]:0", "path": "/x", "max_connections": 3, "request_timeout": 1.5, "log_requests": true,
		"max_requests_per_second": 10, "token_file": "/t", "env_file": "/e", "max_headers": 5, "max_header_bytes": 2048}`))
	if err != nil || o.Listen != "[::1]:0" || o.Path != "/x" || o.MaxConnections != 3 || o.RequestTimeout != 1500*time.Millisecond ||
		o.RequestsPerSecond != 10 || o.TokenFile != "/t" || o.EnvFile != "/e" || o.MaxHeaders != 5 || o.MaxHeaderBytes != 2048 ||
		!o.LogRequests {
		t.Fatalf("%+v %v", o, err)
	}
	if o, err := ParseHTTPOptions(nil); err != nil || o.Listen != "" {
		t.Fatalf("%+v %v", o, err)
	}
	for _, tc := range []struct{ raw, param string }{
		{`{"listen": 1}`, "options.listen"},
		{`{"bind": "x"}`, "options.bind"},
		{`{"Listen": "x"}`, "options.Listen"},
		{`{"request_timeout": 0}`, "request_timeout"},
		{`{"request_timeout": 4000}`, "request_timeout"},
		{`[]`, "options"},
	} {
		_, err := ParseHTTPOptions([]byte(tc.raw))
		var e *core.Error
		if !errors.As(err, &e) || e.Kind != core.KindValidation || e.Param != tc.param {
			t.Errorf("%s: err %v, want a validation error naming %s", tc.raw, err, tc.param)
		}
	}
	for _, tc := range []struct {
		param string
		fn    func(*HTTPOptions)
	}{
		{"path", func(o *HTTPOptions) { o.Path = "credentials" }},
		{"path", func(o *HTTPOptions) { o.Path = "/a?b" }},
		{"max_connections", func(o *HTTPOptions) { o.MaxConnections = -1 }},
		{"max_header_bytes", func(o *HTTPOptions) { o.MaxHeaderBytes = 10 }},
		{"max_headers", func(o *HTTPOptions) { o.MaxHeaders = 5000 }},
		{"max_requests_per_second", func(o *HTTPOptions) { o.RequestsPerSecond = -1 }},
	} {
		_, err := ListenHTTP(SourceFunc(nil), 1, tc.fn)
		var e *core.Error
		if !errors.As(err, &e) || e.Kind != core.KindValidation || e.Param != tc.param {
			t.Errorf("err %v, want a validation error naming %s", err, tc.param)
		}
	}
}

// TestHTTPSlowClients: a client that sends its header too slowly, or keeps
// an idle connection, is cut off; a header over MaxHeaderBytes gets 431.
func TestHTTPSlowClients(t *testing.T) {
	srv := serveHTTP(t, fixedSession(t), nil, func(o *HTTPOptions) {
		o.ReadHeaderTimeout = 200 * time.Millisecond
		o.IdleTimeout = 200 * time.Millisecond
		o.MaxConnections = 2
	})
	for _, tc := range []struct{ name, send string }{
		{"header never ends", "GET " + DefaultPath + " HTTP/1.1\r\nHost: x\r\n"},
		{"nothing sent", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte(tc.send))
			c.SetReadDeadline(time.Now().Add(time.Minute)) // a hang fails, not the test's timing
			b, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("the server did not close the connection: %v", err)
			}
			if strings.Contains(string(b), "200 OK") {
				t.Fatalf("answered %q", b)
			}
		})
	}
	// both slots are free again
	for range 3 {
		if status, _, _ := get(t, srv.URL(), srv.Token()); status != 200 {
			t.Fatalf("status %d", status)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL(), nil)
	req.Header.Set("Authorization", srv.Token())
	req.Header.Set("X-Big", strings.Repeat("a", DefaultMaxHeaderBytes+8192))
	if status, _, _ := do(t, req); status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d for a %d-byte header", status, DefaultMaxHeaderBytes+8192)
	}
}

// TestHTTPQuietByDefault: without LogRequests a request logs nothing.
func TestHTTPQuietByDefault(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	srv := serveHTTP(t, fixedSession(t), logs, func(o *HTTPOptions) { o.LogRequests = false })
	get(t, srv.URL(), srv.Token())
	get(t, srv.URL(), "")
	if st := srv.Stats(); st.Served != 1 || st.Refused != 1 {
		t.Fatalf("stats %+v", st)
	}
	if strings.Contains(logs.String(), "status=") {
		t.Fatalf("requests were logged:\n%s", logs.String())
	}
}

// TestHTTPFollowsTheSession: requests read the session by its windows:
// in the advisory window a failed refresh leaves the current credentials
// served; in the mandatory window it is a 503 naming the failure; once the
// source is back the next request gets new credentials.
func TestHTTPFollowsTheSession(t *testing.T) {
	clock := core.NewFakeClock(time.Now())
	var mu sync.Mutex
	calls, failing := 0, false
	s, err := core.NewSession(core.ProviderFunc(func(context.Context) (core.Credentials, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if failing {
			return core.Credentials{}, &core.Error{Kind: core.KindRequest, Code: "Throttling", Message: "STS said Rate exceeded"}
		}
		return core.Credentials{AccessKeyID: "AKIDFOLLOW" + strings.Repeat("X", calls), SecretAccessKey: httpSecret,
			SessionToken: httpToken, Expires: clock.Now().Add(time.Hour)}, nil
	}), func(o *core.Options) {
		o.Clock = clock
		o.Logger = slog.New(slog.DiscardHandler)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := serveHTTP(t, s, nil)
	key := func(wantStatus int) string {
		t.Helper()
		status, body, _ := get(t, srv.URL(), srv.Token())
		if status != wantStatus {
			t.Fatalf("status %d, want %d: %s", status, wantStatus, body)
		}
		var m map[string]string
		json.Unmarshal([]byte(body), &m)
		if status != 200 {
			return m["code"] + ": " + m["message"]
		}
		return m["AccessKeyId"]
	}
	if k := key(200); k != "AKIDFOLLOWX" {
		t.Fatalf("first key %s", k)
	}
	mu.Lock()
	failing = true
	mu.Unlock()
	clock.Advance(time.Hour - 850*time.Second) // advisory window (900 s before expiry)
	if k := key(200); k != "AKIDFOLLOWX" {
		t.Fatalf("advisory window: key %s, want the current one", k)
	}
	clock.Advance(300 * time.Second) // mandatory window (600 s before expiry)
	if msg := key(503); !strings.Contains(msg, "RequestError") || !strings.Contains(msg, "Rate exceeded") {
		t.Fatalf("mandatory window: %s", msg)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	if k := key(200); !strings.HasPrefix(k, "AKIDFOLLOWXX") {
		t.Fatalf("after the outage: key %s, want a new one", k)
	}
}

// Bad and unauthorised requests leave nothing behind: after a warm-up
// batch, a second batch of the same 400 requests (garbage, no token, a
// wrong token, a wrong path or method, oversized headers) grows neither
// the goroutines nor the live heap, and the server still serves.
func TestHTTPBadRequestsLeakNothing(t *testing.T) {
	srv := serveHTTP(t, fixedSession(t), nil, func(o *HTTPOptions) {
		o.RequestsPerSecond = 1e7
		o.LogRequests = false
	})
	addr := srv.Addr().String()
	tok := srv.Token()
	requests := []string{
		"garbage\r\n\r\n",
		"GET " + DefaultPath + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET " + DefaultPath + " HTTP/1.1\r\nHost: x\r\nAuthorization: wrong\r\n\r\n",
		"GET /other HTTP/1.1\r\nHost: x\r\nAuthorization: " + tok + "\r\n\r\n",
		"POST " + DefaultPath + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + tok + "\r\nContent-Length: 0\r\n\r\n",
		"GET " + DefaultPath + " HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 16<<10) + "\r\n\r\n",
		"GET " + DefaultPath + " HTTP/1.1\r\nHost: x\r\nAuthoriz",
		"GET " + DefaultPath + " HTTP/9.9\r\nHost: x\r\n\r\n",
	}
	batch := func() {
		for i := range 400 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			req := requests[i%len(requests)]
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
			if c, ok := c.(*net.TCPConn); ok {
				c.CloseWrite() // a cut request ends here, not on a timeout
			}
			// The answer's head is enough (net/http lingers before it
			// closes a connection whose request it did not read whole).
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			c.Close()
			if err != nil || resp.StatusCode < 400 {
				t.Fatalf("request %q: %v %v", req[:min(len(req), 40)], resp, err)
			}
		}
	}
	testutil.CheckFlat(t, 1<<20, batch)
	if status, _, _ := get(t, srv.URL(), tok); status != 200 {
		t.Fatalf("after the bad requests: status %d", status)
	}
}
