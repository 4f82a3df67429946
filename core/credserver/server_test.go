package credserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

// A re-executed test binary with CREDSERVER_CLIENT set is a client: it
// sends one credentials request to the socket and prints what happened.
func TestMain(m *testing.M) {
	if path := os.Getenv("CREDSERVER_CLIENT"); path != "" {
		c, err := net.Dial("unix", path)
		if err != nil {
			fmt.Print("dial: ", err)
			os.Exit(0)
		}
		fmt.Fprintf(c, `{"token":%q,"op":"credentials","session":1}`+"\n", os.Getenv("CREDSERVER_TOKEN"))
		line, err := bufio.NewReader(c).ReadString('\n')
		fmt.Print("answer: ", line, err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// counting is a provider of one-hour credentials that counts its calls.
type counting struct{ calls atomic.Int64 }

func (p *counting) Retrieve(context.Context) (core.Credentials, error) {
	n := p.calls.Add(1)
	return core.Credentials{AccessKeyID: fmt.Sprintf("AKIDCREDSERVER%04d", n), SecretAccessKey: "secret",
		SessionToken: "token", Expires: time.Now().Add(time.Hour)}, nil
}

// serve starts a server in a temporary directory over the given sessions.
func serve(t *testing.T, sessions map[uint64]*core.Session, optFns ...func(*Options)) *Server {
	t.Helper()
	src := SourceFunc(func(id uint64) (*core.Session, error) {
		if s, ok := sessions[id]; ok {
			return s, nil
		}
		return nil, &core.Error{Kind: core.KindClosed, Message: "unknown"}
	})
	dir := filepath.Join(t.TempDir(), "ch")
	srv, err := Listen(src, append([]func(*Options){func(o *Options) { o.Dir = dir }}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// ask sends one request line and returns every line up to the answer.
func ask(t *testing.T, path, line string) []Answer {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	var out []Answer
	for {
		raw, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("read: %v (after %d lines)", err, len(out))
		}
		var a Answer
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
		if !a.Wait {
			return out
		}
	}
}

func TestServerRequests(t *testing.T) {
	p := &counting{}
	s, err := core.NewSession(p)
	if err != nil {
		t.Fatal(err)
	}
	closed, err := core.NewSession(p)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	srv := serve(t, map[uint64]*core.Session{1: s, 2: closed})
	req := func(op string, id uint64) string {
		return fmt.Sprintf(`{"token":%q,"op":%q,"session":%d}`, srv.Token(), op, id)
	}
	cases := []struct {
		name, line string
		key        string // the access key expected, or ""
		kind       string // the error kind expected, or ""
	}{
		{"credentials", req("credentials", 1), "AKIDCREDSERVER0001", ""},
		{"again from the cache", req("credentials", 1), "AKIDCREDSERVER0001", ""},
		{"refresh", req("refresh", 1), "AKIDCREDSERVER0002", ""},
		{"ping", req("ping", 0), "", ""},
		{"closed session", req("credentials", 2), "", "closed"},
		{"unknown session", req("credentials", 99), "", "closed"},
		{"unknown op", req("delete", 1), "", "validation"},
		{"wrong token", `{"token":"00","op":"credentials","session":1}`, "", "error"},
		{"not JSON", `[1,2`, "", "validation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines := ask(t, srv.Path(), tc.line)
			a := lines[len(lines)-1]
			switch {
			case tc.kind != "":
				if a.OK || a.Error == nil || a.Error.Kind != tc.kind {
					t.Fatalf("answer %+v, want error kind %q", a, tc.kind)
				}
				if strings.Contains(a.Error.Message, srv.Token()) {
					t.Fatal("the token leaked into an error")
				}
			case tc.key != "":
				if !a.OK || a.Credentials == nil || a.Credentials.AccessKey != tc.key {
					t.Fatalf("answer %+v, want key %s", a, tc.key)
				}
				if a.Credentials.ValidForMs <= 0 || a.Credentials.ExpiryUnixMs <= time.Now().UnixMilli() {
					t.Fatalf("deadline %+v", a.Credentials)
				}
			default:
				if !a.OK {
					t.Fatalf("answer %+v", a)
				}
			}
		})
	}
	if n := p.calls.Load(); n != 2 {
		t.Fatalf("%d provider calls, want 2 (one fetch, one forced refresh)", n)
	}
}

// gated blocks each call until released.
type gated struct {
	entered chan struct{}
	release chan struct{}
}

func (g *gated) Retrieve(ctx context.Context) (core.Credentials, error) {
	g.entered <- struct{}{}
	<-g.release
	return core.Credentials{AccessKeyID: "AKIDSLOW", SecretAccessKey: "s", SessionToken: "t",
		Expires: time.Now().Add(time.Hour)}, nil
}

func TestHeartbeatWhileARefreshRuns(t *testing.T) {
	g := &gated{entered: make(chan struct{}, 1), release: make(chan struct{})}
	s, err := core.NewSession(g)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := serve(t, map[uint64]*core.Session{1: s}, func(o *Options) { o.Heartbeat = 5 * time.Millisecond })
	c, err := net.Dial("unix", srv.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, `{"token":%q,"op":"credentials","session":1}`+"\n", srv.Token())
	<-g.entered
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil || line != `{"wait":true,"ok":false}`+"\n" {
		t.Fatalf("first line %q, %v; want a heartbeat", line, err)
	}
	close(g.release)
	for {
		line, err = r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(line, `"wait"`) {
			break
		}
	}
	if !strings.Contains(line, "AKIDSLOW") {
		t.Fatalf("answer %q", line)
	}
}

func TestPrivateDirRefusesOpenDirectories(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o755)
	link := filepath.Join(base, "link")
	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{open, link} {
		_, err := Listen(SourceFunc(func(uint64) (*core.Session, error) { return nil, nil }), func(o *Options) { o.Dir = dir })
		if core.KindOf(err) != core.KindConfiguration {
			t.Fatalf("%s: %v, want a configuration error", dir, err)
		}
	}
	srv, err := Listen(SourceFunc(func(uint64) (*core.Session, error) { return nil, nil }),
		func(o *Options) { o.Dir = filepath.Join(base, "new") })
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(base, "new"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("new dir: %v %v", fi, err)
	}
	if fi, err := os.Stat(srv.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	srv.Close()
	if _, err := os.Stat(srv.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket outlived Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	// a pid that is surely gone: a child that exited and was reaped
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	live := os.Getppid()
	names := map[string]bool{ // name -> stays
		fmt.Sprintf("%d-0123456789abcdef.sock", dead): false, // its process is gone
		fmt.Sprintf("%d-1123456789abcdef.sock", live): false, // nobody listens
		fmt.Sprintf("%d-2123456789abcdef.sock", live): true,  // listening
		"notes.txt": true, // not ours
	}
	for name, stays := range names {
		path := filepath.Join(dir, name)
		if stays && strings.HasSuffix(name, ".sock") {
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			continue
		}
		if stays {
			os.WriteFile(path, nil, 0o600)
			continue
		}
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetUnlinkOnClose(false)
		ln.Close() // the socket file stays behind, as after SIGKILL
	}
	n, err := RemoveStale(dir)
	if err != nil || n != 2 {
		t.Fatalf("removed %d, %v; want 2", n, err)
	}
	for name, stays := range names {
		_, err := os.Stat(filepath.Join(dir, name))
		if (err == nil) != stays {
			t.Errorf("%s: exists=%v, want %v", name, err == nil, stays)
		}
	}
}

func TestAnotherUserIsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	s, err := core.NewSession(&counting{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := serve(t, map[uint64]*core.Session{1: s})
	// open the door on purpose: only the SO_PEERCRED check is left
	os.Chmod(filepath.Dir(srv.Path()), 0o755)
	os.Chmod(filepath.Dir(filepath.Dir(srv.Path())), 0o755)
	os.Chmod(filepath.Dir(filepath.Dir(filepath.Dir(srv.Path()))), 0o755)
	os.Chmod(srv.Path(), 0o777)
	// a copy of this binary that the other user may run
	bin := filepath.Join(filepath.Dir(srv.Path()), "client")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []uint32{0, 65534} {
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(os.Environ(), "CREDSERVER_CLIENT="+srv.Path(), "CREDSERVER_TOKEN="+srv.Token())
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("uid %d: %v %s", uid, err, out)
		}
		got := string(out)
		if uid == 0 && !strings.Contains(got, "AKIDCREDSERVER0001") {
			t.Fatalf("same user: %q", got)
		}
		if uid != 0 && (strings.Contains(got, "AKID") || !strings.Contains(got, "answer: ") ||
			!(strings.Contains(got, "EOF") || strings.Contains(got, "reset by peer"))) {
			t.Fatalf("another user got %q; want the connection closed unanswered", got)
		}
	}
}

func TestHostRunsSessionsForItsClient(t *testing.T) {
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close() // FileConn holds a duplicate
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	hostEnd, client := conn(pair[0]), conn(pair[1])
	dir := filepath.Join(t.TempDir(), "ch")
	done := make(chan error, 1)
	go func() { done <- ServeHost(hostEnd, func(o *Options) { o.Dir = dir }) }()
	r := bufio.NewReader(client)
	var mu sync.Mutex
	send := func(v any) {
		b, _ := json.Marshal(v)
		mu.Lock()
		defer mu.Unlock()
		client.Write(append(b, '\n'))
	}
	var hi hello
	line, err := r.ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &hi) != nil || hi.Token == "" {
		t.Fatalf("hello %q %v", line, err)
	}
	// the client answers callbacks: the first with credentials, then a failure
	calls := 0
	replies := map[uint64]hostMsg{}
	pump := func(want uint64) hostMsg {
		for {
			if m, ok := replies[want]; ok {
				return m
			}
			line, err := r.ReadBytes('\n')
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				hostMsg
				Call    uint64 `json:"call"`
				Request int    `json:"request"`
			}
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			if m.Call == 0 {
				replies[m.ID] = m.hostMsg
				continue
			}
			calls++
			if m.Request != ReqCredentials || m.Session != 7 {
				t.Fatalf("call %+v", m)
			}
			if calls == 1 {
				send(map[string]any{"reply": m.Call, "answer": map[string]string{"access_key": "AKIDHOSTED",
					"secret_key": "s", "token": "t", "expiry_time": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}})
			} else {
				send(map[string]any{"reply": m.Call, "error": "the getter is down"})
			}
		}
	}
	send(map[string]any{"id": 1, "op": "new", "session": 7, "hooks": true,
		"config": map[string]any{"method": "custom", "defer_refresh": false}})
	if m := pump(1); len(m.Error) > 0 || m.Session != 7 {
		t.Fatalf("new: %+v %s", m, m.Error)
	}
	send(map[string]any{"id": 2, "op": "new", "session": 7, "config": map[string]any{"method": "custom"}})
	if m := pump(2); len(m.Error) == 0 {
		t.Fatal("a session number used twice was accepted")
	}
	a := ask(t, hi.Path, fmt.Sprintf(`{"token":%q,"op":"credentials","session":7}`, hi.Token))
	if c := a[len(a)-1].Credentials; c == nil || c.AccessKey != "AKIDHOSTED" {
		t.Fatalf("hosted credentials %+v", a)
	}
	// a refresh asks the client again; its failure comes back as a credential error
	results := make(chan []Answer, 1)
	go func() {
		results <- ask(t, hi.Path, fmt.Sprintf(`{"token":%q,"op":"refresh","session":7}`, hi.Token))
	}()
	send(map[string]any{"id": 3, "op": "close", "session": 7})
	m := pump(3)
	a = <-results
	if e := a[len(a)-1].Error; e == nil || (e.Kind != "credential" && e.Kind != "closed") {
		t.Fatalf("refresh: %+v", a)
	}
	if len(m.Error) > 0 {
		t.Fatalf("close: %s", m.Error)
	}
	a = ask(t, hi.Path, fmt.Sprintf(`{"token":%q,"op":"credentials","session":7}`, hi.Token))
	if e := a[len(a)-1].Error; e == nil || e.Kind != "closed" {
		t.Fatalf("after close: %+v", a)
	}
	// the client goes away: the host closes everything and removes its socket
	client.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(hi.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the host's socket outlived its client: %v", err)
	}
}
