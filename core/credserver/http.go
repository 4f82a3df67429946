package credserver

// The container-credentials server of `gobrs serve`: the HTTP protocol the
// AWS SDKs read when AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE are set (ECS task roles, EKS Pod
// Identity), served on a loopback address from one session.
//
//	GET <path>  with  Authorization: <token>
//	200 {"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ..., "Expiration": "2026-01-02T03:04:05Z"}
//
// Anything else gets a JSON {"code": ..., "message": ...} with 401 (no
// token), 403 (a wrong token), 404 (another path), 405 (another method),
// 413 (a body), 429 (over the request rate), 431 (too many headers) or 503
// (no credentials to be had: the session failed to refresh in its mandatory
// window, or it is closed).

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/safetext"
	json "github.com/goccy/go-json"
)

// The core's text helpers, named once here (should they move).
var (
	quoteText = safetext.Quote // user text quoted as JSON writes it
	cutText   = safetext.Cut   // non-secret text cut for a message
)

// The defaults of HTTPOptions.
const (
	DefaultListen            = "127.0.0.1:0"
	DefaultPath              = "/credentials"
	DefaultMaxConnections    = 128
	DefaultMaxHeaderBytes    = 8 << 10
	DefaultMaxHeaders        = 32
	DefaultRequestsPerSecond = 1000
	DefaultRequestTimeout    = 30 * time.Second
)

// HTTPOptions configure an HTTPServer. ParseHTTPOptions decodes them from
// brs_serve's options_json (include/brs.h), whose key each field names.
type HTTPOptions struct {
	// Listen is the address to bind, "host:port": host a loopback IP
	// (127.0.0.0/8 or ::1, "[::1]:0") or "localhost" (127.0.0.1); port 0
	// picks a free one. Any other host is refused. Default DefaultListen.
	Listen string
	// Path is the one path served, starting with "/". Default DefaultPath.
	Path string
	// TokenFile is where the token is written (mode 0600, a new file
	// renamed into place). Default: "token" in a new private (0700)
	// temporary directory. The file (and that directory) is removed by
	// Close.
	TokenFile string
	// EnvFile, when set, receives the two lines
	// AWS_CONTAINER_CREDENTIALS_FULL_URI=... and
	// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=... (mode 0600, renamed into
	// place) once the server listens. Removed by Close.
	EnvFile string
	// MaxConnections bounds the connections open at once; further clients
	// wait to be accepted. Default DefaultMaxConnections.
	MaxConnections int
	// MaxHeaderBytes bounds a request's header. Default
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxHeaders bounds the number of header fields of a request (431
	// beyond it). Default DefaultMaxHeaders.
	MaxHeaders int
	// RequestsPerSecond bounds the request rate, all clients together
	// (429 beyond it); bursts of twice as many pass. Requests without the
	// token are paced apart, at the same rate, so that they cannot crowd
	// out the clients that have it. Default DefaultRequestsPerSecond.
	RequestsPerSecond float64
	// RequestTimeout bounds how long a request waits for credentials (a
	// refresh in the mandatory window); 503 after it. In JSON, seconds.
	// Default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// LogRequests logs one debug line per request (status, refusal
	// reason, client address). Off by default: a busy server would send a
	// line per request to a logger that drops it. Failures (5xx) are
	// logged as warnings either way.
	LogRequests bool
	// ReadHeaderTimeout bounds how long a client may take to send a
	// request's header (5 s by default); ReadTimeout the whole request
	// (10 s); IdleTimeout how long a kept-alive connection may wait for its
	// next request (30 s). Not in options_json.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// Logger receives the server's lines (see LogRequests); never a token
	// or a credential. slog.Default() when nil.
	Logger *slog.Logger
	// Clock paces the request rate; core.SystemClock{} when nil.
	Clock core.Clock
}

// httpOptionsJSON is brs_serve's options_json: one field per key, decoded
// by core.DecodeStrict (names match exactly, nulls are "not given").
type httpOptionsJSON struct {
	Listen            string        `json:"listen"`
	Path              string        `json:"path"`
	TokenFile         string        `json:"token_file"`
	EnvFile           string        `json:"env_file"`
	MaxConnections    int           `json:"max_connections"`
	MaxHeaderBytes    int           `json:"max_header_bytes"`
	MaxHeaders        int           `json:"max_headers"`
	RequestsPerSecond float64       `json:"max_requests_per_second"`
	RequestTimeout    *core.Seconds `json:"request_timeout"`
	LogRequests       bool          `json:"log_requests"`
}

// ParseHTTPOptions decodes brs_serve's options JSON (listen, path,
// token_file, env_file, max_connections, max_header_bytes, max_headers,
// max_requests_per_second, request_timeout in seconds, log_requests)
// strictly: names match exactly,
// unknown keys and wrong types are KindValidation errors naming the key.
// Empty input means the defaults.
func ParseHTTPOptions(raw []byte) (HTTPOptions, error) {
	text := strings.TrimSpace(string(raw))
	if len(text) == 0 {
		return HTTPOptions{}, nil
	}
	if text == "null" {
		return HTTPOptions{}, &core.Error{Kind: core.KindValidation, Param: "options", Message: "options must be a JSON object"}
	}
	var j httpOptionsJSON
	if err := core.DecodeStrict("options", raw, &j); err != nil {
		return HTTPOptions{}, err
	}
	o := HTTPOptions{Listen: j.Listen, Path: j.Path, TokenFile: j.TokenFile, EnvFile: j.EnvFile,
		MaxConnections: j.MaxConnections, MaxHeaderBytes: j.MaxHeaderBytes, MaxHeaders: j.MaxHeaders,
		RequestsPerSecond: j.RequestsPerSecond, LogRequests: j.LogRequests}
	if t := j.RequestTimeout; t != nil {
		if !t.In(math.SmallestNonzeroFloat64, 3600) {
			return HTTPOptions{}, &core.Error{Kind: core.KindValidation, Param: "request_timeout", Value: t.String(),
				Message: "request_timeout must be more than 0 and at most 3600 seconds"}
		}
		o.RequestTimeout = t.Duration()
	}
	return o, nil
}

// fill puts in the defaults and checks the values.
func (o *HTTPOptions) fill() error {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxHeaderBytes == 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.MaxHeaders == 0 {
		o.MaxHeaders = DefaultMaxHeaders
	}
	if o.RequestsPerSecond == 0 {
		o.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = 5 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 10 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = core.SystemClock{}
	}
	bad := func(param, value, format string, args ...any) error {
		return &core.Error{Kind: core.KindValidation, Param: param, Value: value, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case !strings.HasPrefix(o.Path, "/") || len(o.Path) > 256 || strings.ContainsAny(o.Path, "?#% \t\r\n\x00"):
		return bad("path", cutText(o.Path, 64), "path %s must start with \"/\", be at most 256 bytes and hold no ?, #, %%, space or control character",
			quoteText(cutText(o.Path, 64)))
	case o.MaxConnections < 1 || o.MaxConnections > 65536:
		return bad("max_connections", strconv.Itoa(o.MaxConnections), "max_connections must be between 1 and 65536")
	case o.MaxHeaderBytes < 1024 || o.MaxHeaderBytes > 1<<20:
		return bad("max_header_bytes", strconv.Itoa(o.MaxHeaderBytes), "max_header_bytes must be between 1024 and 1048576")
	case o.MaxHeaders < 1 || o.MaxHeaders > 1000:
		return bad("max_headers", strconv.Itoa(o.MaxHeaders), "max_headers must be between 1 and 1000")
	case !(o.RequestsPerSecond > 0 && o.RequestsPerSecond <= 1e7):
		return bad("max_requests_per_second", fmt.Sprint(o.RequestsPerSecond), "max_requests_per_second must be more than 0 and at most 10000000")
	case strings.ContainsAny(o.TokenFile, "\x00\r\n"):
		return bad("token_file", "", "token_file must not contain a NUL or a line break")
	case strings.ContainsAny(o.EnvFile, "\x00\r\n"):
		return bad("env_file", "", "env_file must not contain a NUL or a line break")
	case o.RequestTimeout < 0:
		return bad("request_timeout", fmt.Sprint(o.RequestTimeout.Seconds()), "request_timeout must be positive")
	}
	return nil
}

// loopbackAddr checks that listen is "host:port" with a loopback host and
// returns it with the host as an IP.
func loopbackAddr(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	bad := func(format string, args ...any) error {
		return &core.Error{Kind: core.KindValidation, Param: "listen", Value: cutText(listen, 64), Message: fmt.Sprintf(format, args...)}
	}
	if err != nil {
		return "", bad("listen %s must be host:port, e.g. 127.0.0.1:0 or [::1]:0", quoteText(cutText(listen, 64)))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", bad("listen %s has a bad port; use 0 to 65535 (0 picks a free one)", quoteText(cutText(listen, 64)))
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	ip = ip.Unmap()
	if err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		return "", bad("listen %s is not a loopback address: gobrs serves credentials on 127.0.0.1 or [::1] only (anyone who can reach the port could try the token)",
			quoteText(cutText(listen, 64)))
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// HTTPStats count what an HTTPServer answered.
type HTTPStats struct {
	// Served is the number of 200 answers.
	Served int64 `json:"served"`
	// Refused counts requests refused before credentials were looked up
	// (401, 403, 404, 405, 413, 429, 431).
	Refused int64 `json:"refused"`
	// Failed counts 5xx answers (no credentials to be had).
	Failed int64 `json:"failed"`
}

// HTTPServer serves one session with the container-credentials protocol.
type HTTPServer struct {
	src       Source
	session   uint64
	opts      HTTPOptions
	srv       *http.Server
	ln        *limitListener
	url       string
	token     string
	tokenFile string
	wrote     []string // the files this server made (removed by Close)
	tempDir   string   // ours to remove, "" when the token file is the caller's
	done      chan struct{}
	limiter   *rateLimiter // requests with the token
	strangers *rateLimiter // requests without it
	closeOnce sync.Once
	closeErr  error

	served, refused, failed atomic.Int64
}

// ListenHTTP binds a loopback address, writes the token file (and the env
// file), and serves session of src until Close. Bad options are
// KindValidation errors naming the option; a bind or file failure is
// KindConfiguration.
func ListenHTTP(src Source, session uint64, optFns ...func(*HTTPOptions)) (*HTTPServer, error) {
	var opts HTTPOptions
	for _, fn := range optFns {
		fn(&opts)
	}
	if src == nil {
		return nil, &core.Error{Kind: core.KindValidation, Param: "source", Message: "credserver: source must not be nil"}
	}
	if err := opts.fill(); err != nil {
		return nil, err
	}
	addr, err := loopbackAddr(opts.Listen)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 32) // 256 bits
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("credserver: token: %w", err)
	}
	s := &HTTPServer{src: src, session: session, opts: opts, token: hex.EncodeToString(raw),
		done: make(chan struct{}), limiter: newRateLimiter(opts.RequestsPerSecond, opts.Clock),
		strangers: newRateLimiter(opts.RequestsPerSecond, opts.Clock)}
	if err := s.writeToken(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.removeFiles()
		return nil, &core.Error{Kind: core.KindConfiguration, Param: "listen", Value: opts.Listen, Err: err,
			Message: fmt.Sprintf("cannot listen on %s", opts.Listen)}
	}
	s.ln = newLimitListener(ln, opts.MaxConnections)
	s.url = "http://" + ln.Addr().String() + opts.Path
	if opts.EnvFile != "" {
		if err := writeFileAtomic(opts.EnvFile, []byte(s.EnvLines())); err != nil {
			ln.Close()
			s.removeFiles()
			return nil, &core.Error{Kind: core.KindConfiguration, Param: "env_file", Value: cutText(opts.EnvFile, 128), Err: err,
				Message: "cannot write env_file " + quoteText(cutText(opts.EnvFile, 128))}
		}
		s.wrote = append(s.wrote, opts.EnvFile)
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		WriteTimeout:      opts.ReadTimeout + opts.RequestTimeout + 5*time.Second,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opts.Logger.Error("gobrs serve: the server stopped", "error", err)
		}
	}()
	opts.Logger.Info("gobrs serve: listening", "url", s.url, "token_file", s.tokenFile)
	return s, nil
}

// writeToken writes the token to a new file.
func (s *HTTPServer) writeToken() error {
	s.tokenFile = s.opts.TokenFile
	if s.tokenFile == "" {
		dir, err := os.MkdirTemp("", "gobrs-serve-") // mode 0700
		if err != nil {
			return &core.Error{Kind: core.KindConfiguration, Param: "token_file", Err: err,
				Message: "cannot create a private directory for the token file"}
		}
		s.tempDir, s.tokenFile = dir, filepath.Join(dir, "token")
	}
	abs, err := filepath.Abs(s.tokenFile)
	if err == nil {
		s.tokenFile = abs
	}
	if err := writeFileAtomic(s.tokenFile, []byte(s.token)); err != nil {
		s.removeFiles()
		return &core.Error{Kind: core.KindConfiguration, Param: "token_file", Value: cutText(s.opts.TokenFile, 128), Err: err,
			Message: "cannot write token_file " + quoteText(cutText(s.tokenFile, 128))}
	}
	s.wrote = append(s.wrote, s.tokenFile)
	return nil
}

// writeFileAtomic writes data to a new file (mode 0600) beside path and
// renames it to path, so that a reader sees all of it or nothing and no
// earlier file (nor its permissions or other links) is reused.
func writeFileAtomic(path string, data []byte) error {
	suffix := make([]byte, 8)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	tmp := path + ".tmp-" + hex.EncodeToString(suffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// URL returns the value of AWS_CONTAINER_CREDENTIALS_FULL_URI:
// http://127.0.0.1:PORT/PATH.
func (s *HTTPServer) URL() string { return s.url }

// Addr returns the address the server listens on.
func (s *HTTPServer) Addr() net.Addr { return s.ln.Addr() }

// TokenFile returns the absolute path of the token file (the value of
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).
func (s *HTTPServer) TokenFile() string { return s.tokenFile }

// Token returns the token (64 hex digits). It is a secret.
func (s *HTTPServer) Token() string { return s.token }

// EnvLines returns the two lines that point an AWS SDK at the server,
// each ending in "\n".
func (s *HTTPServer) EnvLines() string {
	return "AWS_CONTAINER_CREDENTIALS_FULL_URI=" + s.url + "\n" +
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=" + s.tokenFile + "\n"
}

// Stats returns what the server has answered so far.
func (s *HTTPServer) Stats() HTTPStats {
	return HTTPStats{Served: s.served.Load(), Refused: s.refused.Load(), Failed: s.failed.Load()}
}

// Close stops the server: no new connection is accepted, requests in
// flight get up to two seconds to finish, then every connection is closed
// and the token file (with its directory, when the server made it) and the
// env file are removed. Closing twice is safe.
func (s *HTTPServer) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.ln.shut()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		<-s.done
		s.closeErr = s.removeFiles()
		s.opts.Logger.Info("gobrs serve: stopped", "url", s.url)
	})
	return s.closeErr
}

// removeFiles removes the files the server wrote and its directory.
func (s *HTTPServer) removeFiles() error {
	var errs []error
	for _, p := range s.wrote {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if s.tempDir != "" {
		if err := os.RemoveAll(s.tempDir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ecsCredentials is the 200 answer of the container-credentials protocol.
type ecsCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

// ecsError is every other answer.
type ecsError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ServeHTTP implements http.Handler.
func (s *HTTPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	refuse := func(status int, code, message, reason string) {
		s.refused.Add(1)
		if !s.opts.LogRequests {
			writeJSON(w, status, ecsError{Code: code, Message: message})
			return
		}
		s.opts.Logger.Debug("gobrs serve: refused a request", "status", status, "reason", reason, "remote", r.RemoteAddr)
		writeJSON(w, status, ecsError{Code: code, Message: message})
	}
	// The token decides the bucket: requests without it are paced apart,
	// so that a flood of them cannot make the server refuse its clients.
	auth := r.Header.Values("Authorization")
	authorized := len(auth) == 1 && subtle.ConstantTimeCompare([]byte(auth[0]), []byte(s.token)) == 1
	limiter := s.limiter
	if !authorized {
		limiter = s.strangers
	}
	if !limiter.allow() {
		w.Header().Set("Retry-After", "1")
		refuse(http.StatusTooManyRequests, "TooManyRequests", "too many requests", "rate")
		return
	}
	fields := 0
	for _, v := range r.Header { // a name given twice counts twice
		fields += len(v)
	}
	if fields > s.opts.MaxHeaders {
		refuse(http.StatusRequestHeaderFieldsTooLarge, "RequestHeaderFieldsTooLarge", "too many header fields", "headers")
		return
	}
	// The token first: a client without it learns nothing else.
	switch {
	case len(auth) == 0 || auth[0] == "":
		refuse(http.StatusUnauthorized, "Unauthorized", "unauthorized", "no token")
		return
	case !authorized:
		refuse(http.StatusForbidden, "Forbidden", "forbidden", "wrong token")
		return
	}
	if r.URL.Path != s.opts.Path || r.URL.RawQuery != "" {
		refuse(http.StatusNotFound, "NotFound", "not found", "path")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		refuse(http.StatusMethodNotAllowed, "MethodNotAllowed", "method not allowed", "method")
		return
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		refuse(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "a GET carries no body", "body")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	sess, err := s.src.Session(s.session)
	var c core.Credentials
	if err == nil {
		c, _, err = sess.Lookup(ctx)
	}
	if err != nil {
		s.failed.Add(1)
		status, code := http.StatusServiceUnavailable, failureCode(err)
		if code == "InternalError" {
			status = http.StatusInternalServerError
		}
		s.opts.Logger.Warn("gobrs serve: no credentials to serve", "status", status, "kind", core.KindOf(err).String(), "error", err.Error())
		writeJSON(w, status, ecsError{Code: code, Message: "gobrs serve: no credentials: " + err.Error()})
		return
	}
	s.served.Add(1)
	if s.opts.LogRequests {
		s.opts.Logger.Debug("gobrs serve: served credentials", "status", http.StatusOK, "remote", r.RemoteAddr,
			"expiration", wireTime(c.Expires))
	}
	writeJSON(w, http.StatusOK, ecsCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		Token: c.SessionToken, Expiration: wireTime(c.Expires)})
}

// wireTime writes an expiry as RFC 3339 in UTC, with the fraction of a
// second when there is one: an expiry cut to the whole second would tell
// clients the credentials end up to a second before the session says, and
// one already past when the session's mandatory window is under a second.
func wireTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// failureCode names the error of a failed lookup in an answer.
func failureCode(err error) string {
	switch core.KindOf(err) {
	case core.KindClosed:
		return "SessionClosed"
	case core.KindCredential:
		return "CredentialError"
	case core.KindConnection:
		return "ConnectionError"
	case core.KindRequest:
		return "RequestError"
	case core.KindValidation, core.KindConfiguration:
		return "ConfigurationError"
	}
	return "InternalError"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"InternalError","message":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// rateLimiter is a token bucket: rate tokens a second, up to twice as many
// saved.
type rateLimiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	clock  core.Clock
}

func newRateLimiter(rate float64, clock core.Clock) *rateLimiter {
	burst := math.Max(2*rate, 1)
	return &rateLimiter{rate: rate, burst: burst, tokens: burst, last: clock.Now(), clock: clock}
}

// allow takes one token, reporting whether there was one.
func (l *rateLimiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if d := now.Sub(l.last); d > 0 {
		l.tokens = math.Min(l.burst, l.tokens+d.Seconds()*l.rate)
		l.last = now
	}
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// limitListener accepts at most n connections at once: Accept waits for
// one to close.
type limitListener struct {
	net.Listener
	sem      chan struct{}
	done     chan struct{}
	shutOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

// Accept implements net.Listener.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: sync.OnceFunc(func() { <-l.sem })}, nil
}

// shut stops Accept, a waiting one included.
func (l *limitListener) shut() {
	l.shutOnce.Do(func() { close(l.done) })
}

// Close implements net.Listener.
func (l *limitListener) Close() error {
	l.shut()
	return l.Listener.Close()
}

// limitConn gives its slot back when closed.
type limitConn struct {
	net.Conn
	release func()
}

// Close implements net.Conn.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
