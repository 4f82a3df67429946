package credserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

// Callback requests a host forwards to its client (the values of
// BRS_REQ_* in include/brs.h).
const (
	ReqCredentials       = 1
	ReqSourceCredentials = 2
	ReqMFAToken          = 3
)

// hostMsg is one line between a host and its client, either way.
//
// Client to host: {"id": 1, "op": "new", "session": 7, "config": {...},
// "hooks": true} creates session 7 (the client numbers its sessions, so
// that it can answer their callbacks from the start; hooks: whether the
// callbacks go to the client);
// {"id": 2, "op": "close", "session": 7} closes one; {"reply": 5,
// "answer": {...}} or {"reply": 5, "error": "text"} answers a callback.
//
// Host to client: first {"path": ..., "token": ..., "pid": ...}, the
// Server that serves the hosted sessions; then {"id": 1, "session": 7,
// "warnings": [...]} (warnings only when there are some) or
// {"id": 1, "error": {...}} for a command, and {"call": 5, "session": 7,
// "request": 1} to have the client run a session's callback.
type hostMsg struct {
	ID      uint64            `json:"id,omitempty"`
	Op      string            `json:"op,omitempty"`
	Config  json.RawMessage   `json:"config,omitempty"`
	Hooks   bool              `json:"hooks,omitempty"`
	Session uint64            `json:"session,omitempty"`
	Reply   uint64            `json:"reply,omitempty"`
	Answer  map[string]string `json:"answer,omitempty"`
	Error   json.RawMessage   `json:"error,omitempty"`
	// Warnings answer "new": core.Session.Warnings of the new session.
	Warnings []core.Warning `json:"warnings,omitempty"`
}

// hello is the host's first line.
type hello struct {
	Path  string `json:"path"`
	Token string `json:"token"`
	PID   int    `json:"pid"`
}

// host runs sessions on behalf of one client.
type host struct {
	conn     io.ReadWriteCloser
	wmu      sync.Mutex
	sessions sync.Map // uint64 -> *core.Session
	calls    sync.Map // uint64 -> chan hostMsg
	nextCall atomic.Uint64
	gone     chan struct{}
}

// ServeHost runs sessions on behalf of the process at the other end of
// conn, one that cannot run Go itself (a child forked after the Go runtime
// started): it creates and closes sessions on that process's command,
// forwards the sessions' callbacks (custom getter, source credentials, MFA
// token) to it, and serves the sessions on a new Server (configured by
// optFns) whose path and token are the first line it writes. It returns
// when conn reaches EOF (the client exited, cleanly or not), after closing
// every session and the Server.
func ServeHost(conn io.ReadWriteCloser, optFns ...func(*Options)) error {
	h := &host{conn: conn, gone: make(chan struct{})}
	srv, err := Listen(SourceFunc(h.session), optFns...)
	if err != nil {
		b, _ := json.Marshal(map[string]*WireError{"error": fail(err).Error})
		conn.Write(append(b, '\n'))
		return err
	}
	defer srv.Close()
	defer h.closeAll()
	defer close(h.gone)
	if err := h.write(hello{Path: srv.Path(), Token: srv.Token(), PID: os.Getpid()}); err != nil {
		return fmt.Errorf("credserver: host: %w", err)
	}
	r := bufio.NewReaderSize(conn, 4096)
	for {
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("credserver: host: %w", err)
		}
		var m hostMsg
		if err := json.Unmarshal(line, &m); err != nil {
			return fmt.Errorf("credserver: host: bad message: %w", err)
		}
		switch {
		case m.Reply != 0:
			if ch, ok := h.calls.LoadAndDelete(m.Reply); ok {
				ch.(chan hostMsg) <- m
			}
		case m.Op == "new": // may run callbacks: never on the read loop
			go func() { h.reply(m.ID, h.open(m)) }()
		case m.Op == "close": // waits for a refresh in flight
			go func() { h.reply(m.ID, h.close(m.Session)) }()
		default:
			h.reply(m.ID, hostMsg{Error: wireError(&core.Error{Kind: core.KindValidation, Param: "op",
				Message: "credserver: host op must be new or close"})})
		}
	}
}

func (h *host) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h.wmu.Lock()
	defer h.wmu.Unlock()
	_, err = h.conn.Write(append(b, '\n'))
	return err
}

func (h *host) reply(id uint64, m hostMsg) {
	m.ID = id
	if err := h.write(m); err != nil {
		// The client is gone; the read loop sees EOF and closes everything.
		return
	}
}

func wireError(err error) json.RawMessage {
	b, _ := json.Marshal(fail(err).Error)
	return b
}

func (h *host) session(id uint64) (*core.Session, error) {
	if s, ok := h.sessions.Load(id); ok {
		return s.(*core.Session), nil
	}
	return nil, &core.Error{Kind: core.KindClosed, Message: "the session is closed or unknown"}
}

func (h *host) open(m hostMsg) hostMsg {
	id := m.Session
	if id == 0 {
		return hostMsg{Error: wireError(&core.Error{Kind: core.KindValidation, Param: "session",
			Message: "credserver: a new session needs a non-zero number"})}
	}
	if _, dup := h.sessions.Load(id); dup {
		return hostMsg{Error: wireError(&core.Error{Kind: core.KindValidation, Param: "session",
			Message: "credserver: that session number is in use"})}
	}
	var hooks core.Hooks
	if m.Hooks {
		hooks = core.Hooks{
			Credentials:       h.hook(id, ReqCredentials, "custom_credentials_method"),
			SourceCredentials: h.hook(id, ReqSourceCredentials, "source_credentials"),
			MFAToken: func(ctx context.Context) (string, error) {
				vals, err := h.hook(id, ReqMFAToken, "mfa_token_provider")(ctx)
				if err != nil {
					return "", err
				}
				if vals["token_code"] == "" {
					return "", &core.Error{Kind: core.KindCredential, Param: "token_code",
						Message: "the mfa_token_provider callback returned no token_code"}
				}
				return vals["token_code"], nil
			},
		}
	}
	s, err := core.NewSessionFromJSON(m.Config, hooks)
	if err != nil {
		return hostMsg{Error: wireError(err)}
	}
	h.sessions.Store(id, s)
	return hostMsg{Session: id, Warnings: s.Warnings()}
}

func (h *host) close(id uint64) hostMsg {
	s, ok := h.sessions.LoadAndDelete(id)
	if !ok {
		return hostMsg{Error: wireError(&core.Error{Kind: core.KindClosed, Message: "the session is closed or unknown"})}
	}
	if err := s.(*core.Session).Close(); err != nil {
		return hostMsg{Error: wireError(err)}
	}
	return hostMsg{Session: id}
}

func (h *host) closeAll() {
	h.sessions.Range(func(k, v any) bool {
		h.sessions.Delete(k)
		v.(*core.Session).Close()
		return true
	})
}

// hook forwards one kind of callback of session id to the client.
func (h *host) hook(id uint64, request int, param string) func(context.Context) (map[string]string, error) {
	return func(ctx context.Context) (map[string]string, error) {
		call := h.nextCall.Add(1)
		ch := make(chan hostMsg, 1)
		h.calls.Store(call, ch)
		defer h.calls.Delete(call)
		if err := h.write(map[string]any{"call": call, "session": id, "request": request}); err != nil {
			return nil, &core.Error{Kind: core.KindConnection, Param: param, Err: err,
				Message: "credserver: the process that runs the " + param + " callback is gone"}
		}
		select {
		case m := <-ch:
			if len(m.Error) > 0 {
				var text string
				if json.Unmarshal(m.Error, &text) != nil {
					text = "it failed"
				}
				return nil, &core.Error{Kind: core.KindCredential, Param: param,
					Message: fmt.Sprintf("the %s callback failed: %s", param, text)}
			}
			return m.Answer, nil
		case <-h.gone:
			return nil, &core.Error{Kind: core.KindConnection, Param: param,
				Message: "credserver: the process that runs the " + param + " callback is gone"}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
