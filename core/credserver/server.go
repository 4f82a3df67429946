// Package credserver serves the credentials of gobrs sessions to other
// processes of the same user over a private local channel: a Unix socket in
// a directory only the user can enter, guarded by the peer's uid
// (SO_PEERCRED) and a random per-server token.
//
// It is how a process forked from one that runs the Go core keeps using the
// sessions made before the fork without ever entering the Go runtime (which
// does not survive fork): the child reads over the socket, the parent's
// runtime answers, and the parent's refresh rules (single flight, advisory
// and mandatory windows, background refresh) apply to the whole process
// tree.
//
// # Protocol
//
// A client connects, then writes requests and reads answers, one JSON
// object per line (UTF-8, "\n"-terminated, at most MaxLine bytes), in
// order, any number per connection:
//
//	{"token": "<hex>", "op": "credentials", "session": 3}
//
// Op is "credentials" (the current credentials, refreshing by the
// session's rules), "refresh" (force a refresh, joining one in flight),
// "whoami" (the identity of the credentials) or "ping". While an answer is
// being computed the server writes {"wait": true} every Heartbeat, so a
// client tells a slow refresh from a server that stopped answering. The
// answer is one of
//
//	{"ok": true, "credentials": {"access_key": ..., "secret_key": ..., "token": ...,
//	 "expiry_time": "2026-01-02T03:04:05Z", "expiry_unix_ms": ..., "valid_for_ms": ...}}
//	{"ok": true, "identity": {...}}
//	{"ok": false, "error": {"kind": "closed", "message": ..., "param": ..., "value": ...,
//	 "code": ..., "http_status": 0}}
//
// valid_for_ms is how long the client may keep the credentials without
// asking again (the deadline the session's engine gives its own callers).
// kind is a core.Kind name. A request with a wrong token is answered with
// an error of kind "error" and the connection is closed.
package credserver

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

// MaxLine is the longest request line a server reads.
const MaxLine = 64 << 10

// Source finds the session a request names.
type Source interface {
	// Session returns the session with id, or an error (a core.KindClosed
	// *core.Error for an id that is closed or unknown).
	Session(id uint64) (*core.Session, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(id uint64) (*core.Session, error)

// Session implements Source.
func (f SourceFunc) Session(id uint64) (*core.Session, error) { return f(id) }

// Options configure a Server.
type Options struct {
	// Dir is the directory of the socket; DefaultDir() when empty. It is
	// created with mode 0700 if missing, and refused unless it is a real
	// directory owned by this user that no one else may enter.
	Dir string
	// Heartbeat is the interval of {"wait": true} lines while an answer is
	// computed. Default 500 ms.
	Heartbeat time.Duration
	// Logger receives the server's diagnostics; slog.Default() when nil.
	// Credentials are never logged.
	Logger *slog.Logger
}

// Server is a listening channel. Close it to stop serving and remove the
// socket.
type Server struct {
	src    Source
	opts   Options
	ln     *net.UnixListener
	path   string
	token  string
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// DefaultDir returns the directory sockets go in: $XDG_RUNTIME_DIR/gobrs
// when XDG_RUNTIME_DIR is set, else <temp dir>/gobrs-<uid>.
func DefaultDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "gobrs")
	}
	return filepath.Join(os.TempDir(), "gobrs-"+strconv.Itoa(os.Getuid()))
}

// Listen creates the socket and serves src on it until Close. Sockets left
// in the directory by servers that are gone (killed, say) are removed
// first.
func Listen(src Source, optFns ...func(*Options)) (*Server, error) {
	opts := Options{}
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Dir == "" {
		opts.Dir = DefaultDir()
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 500 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if src == nil {
		return nil, &core.Error{Kind: core.KindValidation, Param: "source", Message: "credserver: source must not be nil"}
	}
	if err := privateDir(opts.Dir); err != nil {
		return nil, err
	}
	if _, err := RemoveStale(opts.Dir); err != nil {
		opts.Logger.Warn("credserver: cannot clean stale sockets", "dir", opts.Dir, "error", err)
	}
	token, suffix := make([]byte, 32), make([]byte, 8)
	if _, err := rand.Read(token); err != nil {
		return nil, fmt.Errorf("credserver: token: %w", err)
	}
	if _, err := rand.Read(suffix); err != nil {
		return nil, fmt.Errorf("credserver: socket name: %w", err)
	}
	path := filepath.Join(opts.Dir, fmt.Sprintf("%d-%s.sock", os.Getpid(), hex.EncodeToString(suffix)))
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, &core.Error{Kind: core.KindConfiguration, Param: "dir", Value: opts.Dir, Err: err,
			Message: fmt.Sprintf("credserver: cannot listen in %s: %v", opts.Dir, err)}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("credserver: chmod %s: %w", path, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{src: src, opts: opts, ln: ln, path: path, token: hex.EncodeToString(token),
		ctx: ctx, cancel: cancel, done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	go s.accept()
	return s, nil
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Token returns the token every request must carry (64 hex digits). It is
// a secret: hand it only to the processes that may read the sessions.
func (s *Server) Token() string { return s.token }

// Close stops accepting, ends every connection (requests in flight get no
// answer) and removes the socket. Closing twice is safe.
func (s *Server) Close() error {
	s.cancel()
	err := s.ln.Close() // unlinks the socket
	<-s.done
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (s *Server) accept() {
	defer close(s.done)
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if s.ctx.Err() == nil {
				s.opts.Logger.Error("credserver: accept failed; the channel stops", "error", err)
			}
			return
		}
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		go s.serve(c)
	}
}

// peerIsUs reports whether the process at the other end runs as this user.
func peerIsUs(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || credErr != nil {
		return false
	}
	return int(cred.Uid) == os.Getuid()
}

// request is one line a client writes.
type request struct {
	Token   string `json:"token"`
	Op      string `json:"op"`
	Session uint64 `json:"session"`
}

// Credentials is the wire form of one set of credentials.
type Credentials struct {
	AccessKey    string `json:"access_key"`
	SecretKey    string `json:"secret_key"`
	Token        string `json:"token"`
	ExpiryTime   string `json:"expiry_time"`
	ExpiryUnixMs int64  `json:"expiry_unix_ms"`
	ValidForMs   int64  `json:"valid_for_ms"`
}

// WireError is the wire form of a failure.
type WireError struct {
	Kind       string `json:"kind"`
	Message    string `json:"message"`
	Param      string `json:"param,omitempty"`
	Value      string `json:"value,omitempty"`
	Code       string `json:"code,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
}

// Answer is the wire form of a server's line.
type Answer struct {
	Wait        bool           `json:"wait,omitempty"`
	OK          bool           `json:"ok"`
	Credentials *Credentials   `json:"credentials,omitempty"`
	Identity    map[string]any `json:"identity,omitempty"`
	Error       *WireError     `json:"error,omitempty"`
}

func (s *Server) serve(c *net.UnixConn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	if !peerIsUs(c) {
		s.opts.Logger.Warn("credserver: refused a connection from another user")
		return
	}
	r := bufio.NewReaderSize(io.LimitReader(c, 1<<30), 4096)
	var wmu sync.Mutex
	write := func(a Answer) error {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		wmu.Lock()
		defer wmu.Unlock()
		_, err = c.Write(append(b, '\n'))
		return err
	}
	for {
		line, err := readLine(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && s.ctx.Err() == nil {
				s.opts.Logger.Debug("credserver: connection ended", "error", err)
			}
			return
		}
		var req request
		if err := json.Unmarshal(line, &req); err != nil {
			write(fail(&core.Error{Kind: core.KindValidation, Message: "credserver: the request is not a JSON object"}))
			return
		}
		if subtle.ConstantTimeCompare([]byte(req.Token), []byte(s.token)) != 1 {
			write(fail(&core.Error{Kind: core.KindUnknown, Param: "token", Message: "credserver: wrong token"}))
			return
		}
		if err := s.answer(req, write); err != nil {
			return
		}
	}
}

// readLine reads one "\n"-terminated line of at most MaxLine bytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxLine {
			return nil, fmt.Errorf("credserver: request longer than %d bytes", MaxLine)
		}
		if err == nil {
			return line, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// answer computes the answer of req, writing heartbeats meanwhile.
func (s *Server) answer(req request, write func(Answer) error) error {
	done := make(chan Answer, 1)
	go func() { done <- s.compute(req) }()
	tick := time.NewTicker(s.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case a := <-done:
			return write(a)
		case <-tick.C:
			if err := write(Answer{Wait: true}); err != nil {
				return err
			}
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
}

// compute answers one request.
func (s *Server) compute(req request) Answer {
	if req.Op == "ping" {
		return Answer{OK: true}
	}
	sess, err := s.src.Session(req.Session)
	if err != nil {
		return fail(err)
	}
	switch req.Op {
	case "credentials", "refresh":
		if req.Op == "refresh" {
			if _, err := sess.Refresh(s.ctx); err != nil {
				return fail(err)
			}
		}
		c, until, err := sess.Lookup(s.ctx)
		if err != nil {
			return fail(err)
		}
		now := sess.Options().Clock.Now()
		return Answer{OK: true, Credentials: &Credentials{
			AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, Token: c.SessionToken,
			ExpiryTime: c.ExpiryString(), ExpiryUnixMs: c.Expires.UnixMilli(),
			ValidForMs: max(until.Sub(now).Milliseconds(), 0),
		}}
	case "whoami":
		id, err := sess.Identity(s.ctx)
		if err != nil {
			return fail(err)
		}
		return Answer{OK: true, Identity: id}
	default:
		return fail(&core.Error{Kind: core.KindValidation, Param: "op", Value: cutOp(req.Op),
			Message: "credserver: op must be credentials, refresh, whoami or ping"})
	}
}

func cutOp(op string) string {
	if len(op) > 32 {
		return op[:32]
	}
	return op
}

// fail is the answer of err.
func fail(err error) Answer {
	w := &WireError{Kind: core.KindOf(err).String(), Message: err.Error()}
	var e *core.Error
	if errors.As(err, &e) {
		w.Param, w.Value, w.Code, w.HTTPStatus = e.Param, e.Value, e.Code, e.StatusCode
	}
	return Answer{Error: w}
}

// privateDir creates dir (mode 0700) if needed and checks that it is a
// directory, not a symlink, owned by this user, that no one else may enter.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &core.Error{Kind: core.KindConfiguration, Param: "dir", Value: dir, Err: err,
			Message: fmt.Sprintf("credserver: cannot create %s: %v", dir, err)}
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return &core.Error{Kind: core.KindConfiguration, Param: "dir", Value: dir, Err: err,
			Message: fmt.Sprintf("credserver: %v", err)}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir() || fi.Mode()&os.ModeSymlink != 0:
		return &core.Error{Kind: core.KindConfiguration, Param: "dir", Value: dir,
			Message: "credserver: " + dir + " is not a directory"}
	case !ok || int(st.Uid) != os.Getuid():
		return &core.Error{Kind: core.KindConfiguration, Param: "dir", Value: dir,
			Message: "credserver: " + dir + " belongs to another user"}
	case fi.Mode().Perm()&0o077 != 0:
		return &core.Error{Kind: core.KindConfiguration, Param: "dir", Value: dir,
			Message: fmt.Sprintf("credserver: %s is open to other users (mode %o); it must be 0700", dir, fi.Mode().Perm())}
	}
	return nil
}

var sockName = regexp.MustCompile(`^([0-9]+)-[0-9a-f]{16}\.sock$`)

// RemoveStale removes the sockets in dir whose server is gone: its process
// no longer exists, or nothing listens on the socket any more. It returns
// how many it removed. Sockets of this process are left alone.
func RemoveStale(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, e := range entries {
		m := sockName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if alive(pid) && listening(path) {
			continue
		}
		if err := os.Remove(path); err == nil {
			removed++
		}
	}
	return removed, nil
}

// alive reports whether a process with pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// listening reports whether something accepts connections on path.
func listening(path string) bool {
	c, err := net.DialTimeout("unix", path, 200*time.Millisecond)
	if err != nil {
		return !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ENOENT)
	}
	c.Close()
	return true
}
