package sts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gobrs/gobrs/core"
)

// TestDecodeMFACommand: bad quoting is a configuration error naming
// mfa_token_provider that says what is wrong without echoing the command,
// another JSON type a validation error (internal/command tests the
// splitting itself).
func TestDecodeMFACommand(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		kind core.Kind
		want string
	}{
		{`"a 'b"`, core.KindConfiguration, "the mfa_token_provider command has an unterminated single quote (check its quoting)"},
		{`"\"a"`, core.KindConfiguration, "the mfa_token_provider command has an unterminated double quote (check its quoting)"},
		{`"a\\"`, core.KindConfiguration, "the mfa_token_provider command has a trailing backslash (check its quoting)"},
		{`5`, core.KindValidation, "mfa_token_provider must be a command string or an array of strings"},
		{`[1]`, core.KindValidation, "mfa_token_provider must be a command string or an array of strings"},
	} {
		_, err := decodeMFACommand("mfa_token_provider", []byte(tt.raw))
		e := wantErr(t, err, tt.kind, "mfa_token_provider")
		if e.Message != tt.want {
			t.Errorf("%s: message %q; want %q", tt.raw, e.Message, tt.want)
		}
	}
	for raw, want := range map[string][]string{`"ykman oath 'code x'"`: {"ykman", "oath", "code x"}, `["a b"]`: {"a b"}, `""`: {}, `[]`: {}} {
		if argv, err := decodeMFACommand("mfa_token_provider", []byte(raw)); err != nil || !reflect.DeepEqual(argv, want) {
			t.Errorf("%s: argv %q, err %v", raw, argv, err)
		}
	}
}

// quoteArg quotes s for a command line: in single quotes, each single quote
// in s closed, escaped with a backslash and reopened.
func quoteArg(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// script writes an executable shell script into dir and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

const testSerial = "arn:aws:iam::123456789012:mfa/alice"

func TestSTSMFAHook(t *testing.T) {
	f := newFakeSTS(t)
	var n atomic.Int64
	codes := []string{"111111", " 222222\n"}
	hooks := core.Hooks{MFAToken: func(context.Context) (string, error) { return codes[n.Add(1)-1], nil }}
	cfg := stsConfig(f.srv.URL, map[string]any{"SerialNumber": testSerial, "RoleSessionName": "mfa"}, nil, nil)
	s := newSTSSession(t, cfg, hooks)
	for i, want := range []string{"111111", "222222"} {
		if _, err := s.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		form := f.lastForm()
		if form.Get("TokenCode") != want || form.Get("SerialNumber") != testSerial {
			t.Fatalf("refresh %d sent TokenCode %q SerialNumber %q", i+1, form.Get("TokenCode"), form.Get("SerialNumber"))
		}
	}
	// With MFA nothing is shared: a second session makes its own call.
	n.Store(0)
	s2 := newSTSSession(t, cfg, hooks)
	if _, err := s2.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.calls() != 3 || n.Load() != 1 {
		t.Fatalf("an MFA session reused shared credentials (%d calls, %d tokens)", f.calls(), n.Load())
	}
}

func TestSTSMFAHookErrors(t *testing.T) {
	f := newFakeSTS(t)
	cfg := stsConfig(f.srv.URL, map[string]any{"SerialNumber": testSerial}, nil, nil)
	for _, tt := range []struct {
		name string
		hook func(context.Context) (string, error)
		kind core.Kind
	}{
		{"not six digits", func(context.Context) (string, error) { return "12345x", nil }, core.KindValidation},
		{"seven digits", func(context.Context) (string, error) { return "1234567", nil }, core.KindValidation},
		{"fails", func(context.Context) (string, error) { return "", errors.New("the token app is locked") }, core.KindCredential},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSTSSession(t, cfg, core.Hooks{MFAToken: tt.hook})
			_, err := s.Credentials(context.Background())
			e := wantErr(t, err, tt.kind, "mfa_token_provider")
			if strings.Contains(e.Error(), "12345") {
				t.Fatalf("the error echoes the code: %v", e)
			}
		})
	}
	if f.calls() != 0 {
		t.Fatalf("AssumeRole was called without a valid token")
	}
}

func TestSTSMFAStaticTokenCode(t *testing.T) {
	f := newFakeSTS(t)
	cfg := stsConfig(f.srv.URL, map[string]any{"SerialNumber": testSerial, "TokenCode": "909090"}, nil, nil)
	s := newSTSSession(t, cfg, core.Hooks{})
	if _, err := s.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.lastForm().Get("TokenCode"); got != "909090" {
		t.Fatalf("TokenCode = %q", got)
	}
}

func TestSTSMFACommand(t *testing.T) {
	f := newFakeSTS(t)
	dir := filepath.Join(t.TempDir(), "dir with space")
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "code.txt"), []byte("424242\n"), 0o600)
	chatty := script(t, dir, "chatty.sh", `echo "Touch your key..."; echo "code: 111111"; echo 123456; echo "done" >&2`)
	envScript := script(t, dir, "env.sh", `echo "$MFA_CODE"; echo "home=${HOME:-unset}"`)
	cwdScript := script(t, dir, "cwd.sh", `cat code.txt`)
	stdinScript := script(t, dir, "stdin.sh", `read line; echo "got $line"`)
	// field 6 of /proc/PID/stat is the session id: a session leader's is its pid
	sessionScript := script(t, dir, "session.sh", `read -r _ _ _ _ _ sid _ < /proc/$$/stat; if [ "$sid" = "$$" ]; then echo 565656; else echo 111111; fi`)
	for _, tt := range []struct {
		name    string
		command any
		kwargs  map[string]any
		want    string
	}{
		{"last token of chatty output, string command", quoteArg(chatty) + " --flag 'two words'", nil, "123456"},
		{"array command", []string{chatty}, nil, "123456"},
		{"env replaces the environment", []string{envScript}, map[string]any{"env": map[string]any{"MFA_CODE": "345678"}}, "345678"},
		{"cwd", []string{cwdScript}, map[string]any{"cwd": dir, "timeout": 5}, "424242"},
		{"input", []string{stdinScript}, map[string]any{"input": "777777\n"}, "777777"},
		{"own process group without start_new_session", []string{sessionScript}, nil, "111111"},
		{"start_new_session", []string{sessionScript}, map[string]any{"start_new_session": true}, "565656"},
		// the other subprocess.run arguments brs accepts are accepted
		{"accepted without effect", []string{chatty}, map[string]any{"text": true, "encoding": "utf-8", "errors": "strict",
			"check": true, "capture_output": true, "shell": false, "executable": nil, "preexec_fn": nil, "close_fds": true,
			"bufsize": -1, "umask": -1, "universal_newlines": true, "restore_signals": true}, "123456"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			extra := map[string]any{"mfa_token_provider": tt.command}
			if tt.kwargs != nil {
				extra["mfa_token_provider_kwargs"] = tt.kwargs
			}
			s := newSTSSession(t, stsConfig(f.srv.URL, map[string]any{"SerialNumber": testSerial}, nil, extra), core.Hooks{})
			if _, err := s.Credentials(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := f.lastForm().Get("TokenCode"); got != tt.want {
				t.Fatalf("TokenCode = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSTSMFACommandFailures(t *testing.T) {
	f := newFakeSTS(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		name    string
		command []string
		kwargs  map[string]any
		want    string
		param   string
	}{
		{"times out", []string{script(t, dir, "slow.sh", "sleep 30 & wait")}, map[string]any{"timeout": 0.3}, "timed out", ""},
		{"prints no token", []string{script(t, dir, "none.sh", "echo 12345; echo 1234567; echo abc123456; echo 654321x; echo 999999 >&2")}, nil, "no 6-digit token", ""},
		{"fails", []string{script(t, dir, "fail.sh", "echo 135790; echo 135790 >&2; exit 3")}, nil, "exit status 3", ""},
		{"not found", []string{filepath.Join(dir, "missing")}, nil, "not found", ""},
		{"not on PATH", []string{"gobrs-no-such-token-command"}, nil, "not found", ""},
		{"not executable", []string{filepath.Join(dir, "plain.txt")}, nil, "permission denied", ""},
		// the output is read up to 64 KiB: more is an error, even with a token early on
		{"prints more than 64 KiB", []string{script(t, dir, "big.sh", "echo 135790; head -c 10000000 /dev/zero")}, nil, "printed more than 65536 bytes", ""},
		// stopped at 64 KiB: were it not, the 30 s default timeout would end it
		{"prints without end", []string{script(t, dir, "yes.sh", "exec yes 135790")}, nil, "printed more than 65536 bytes", ""},
		{"bad cwd", []string{script(t, dir, "ok.sh", "echo 123456")}, map[string]any{"cwd": filepath.Join(dir, "nowhere")}, "not a directory", "mfa_token_provider_kwargs.cwd"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "plain.txt"), []byte("123456"), 0o600)
			extra := map[string]any{"mfa_token_provider": tt.command}
			if tt.kwargs != nil {
				extra["mfa_token_provider_kwargs"] = tt.kwargs
			}
			before := f.calls()
			s := newSTSSession(t, stsConfig(f.srv.URL, map[string]any{"SerialNumber": testSerial}, nil, extra), core.Hooks{})
			_, err := s.Credentials(context.Background())
			if tt.param == "" {
				tt.param = "mfa_token_provider"
			}
			e := wantErr(t, err, core.KindConfiguration, tt.param)
			if !strings.Contains(e.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", e.Error(), tt.want)
			}
			for _, secret := range []string{"135790", "999999"} {
				if strings.Contains(e.Error(), secret) {
					t.Fatalf("the error quotes the command's output: %v", e)
				}
			}
			if f.calls() != before {
				t.Fatalf("AssumeRole was called without a token")
			}
		})
	}
}

// TestSTSMFACommandOutputBounded: a token command printing 10 MB costs
// about 64 KiB of memory, not 10 MB, and fails with the documented error.
func TestSTSMFACommandOutputBounded(t *testing.T) {
	f := newFakeSTS(t)
	cmd := script(t, t.TempDir(), "big.sh", "head -c 10000000 /dev/zero | tr '\\0' 1; echo 135790")
	s := newSTSSession(t, stsConfig(f.srv.URL, map[string]any{"SerialNumber": testSerial}, nil,
		map[string]any{"mfa_token_provider": []string{cmd}}), core.Hooks{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := s.Credentials(context.Background())
	runtime.ReadMemStats(&after)
	e := wantErr(t, err, core.KindConfiguration, "mfa_token_provider")
	if !strings.Contains(e.Message, "printed more than 65536 bytes") {
		t.Fatalf("error %v", e)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Fatalf("reading the command's 10 MB allocated %d bytes", alloc)
	}
}
