package custom

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

const processSecret = "SECRETcustomprocessXXXXXXXXXXXXXXXXXXXXXX"

// credsScript writes a script printing credential_process JSON into a
// directory whose name has a space, and returns its path.
func credsScript(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dir with space")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	out := fmt.Sprintf(`{"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": %q, "SessionToken": "TOKEN", "Expiration": %q}`, processSecret, exp)
	p := filepath.Join(dir, "creds.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\ncat <<'EOF'\n"+out+"\nEOF\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCredentialProcess: method "custom" runs credential_process in place
// of a callback, given as an array or as a command line.
func TestCredentialProcess(t *testing.T) {
	script := credsScript(t)
	for _, cmd := range []any{[]string{script, "--flag"}, "'" + script + `' --flag "two words"`} {
		config := `{"method": "custom", "advisory_timeout": 300, "credential_process": ` + jsonString(t, cmd) + `}`
		s, err := core.NewSessionFromJSON([]byte(config), core.Hooks{})
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		if s.Options().AdvisoryTimeout != 300*time.Second {
			t.Errorf("%v: the common keys were lost", cmd)
		}
		c, err := s.Credentials(context.Background())
		if err != nil || c.AccessKeyID != "AKIDPROCESS" || c.SecretAccessKey != processSecret {
			t.Errorf("%v: credentials %v, %v", cmd, c.AccessKeyID, err)
		}
		s.Close()
	}
}

// TestCredentialProcessConfig: the rules of credential_process, and its
// errors at the first read.
func TestCredentialProcessConfig(t *testing.T) {
	callback := func(context.Context) (map[string]string, error) { return nil, fmt.Errorf("not called") }
	for _, tt := range []struct {
		name, config string
		callback     bool
		kind         core.Kind // 0: the session opens
		param, want  string
	}{
		{name: "custom is the default method", config: `{"credential_process": "true"}`},
		{name: "null is not given", config: `{"credential_process": null}`, callback: true},
		{name: "null without a callback", config: `{"credential_process": null}`,
			kind: core.KindValidation, param: "custom_credentials_method", want: "requires a credentials callback"},
		{name: "and a callback", config: `{"credential_process": "x"}`, callback: true,
			kind: core.KindConfiguration, param: "credential_process", want: "credential_process and a credentials callback cannot both be given; pass one"},
		{name: "twice", config: `{"credential_process": "x", "credential_process": "y"}`,
			kind: core.KindValidation, param: "credential_process", want: `key "credential_process" appears twice`},
		{name: "a number", config: `{"credential_process": 5}`,
			kind: core.KindValidation, param: "credential_process", want: "credential_process must be a string or an array of strings"},
		{name: "an object", config: `{"credential_process": {"a": 1}}`,
			kind: core.KindValidation, param: "credential_process", want: "must be a string or an array of strings"},
		{name: "an array of numbers", config: `{"credential_process": [1]}`,
			kind: core.KindValidation, param: "credential_process", want: "must be a string or an array of strings"},
		{name: "empty string", config: `{"credential_process": " "}`,
			kind: core.KindValidation, param: "credential_process", want: "credential_process must name a command"},
		{name: "empty array", config: `{"credential_process": []}`,
			kind: core.KindValidation, param: "credential_process", want: "credential_process must name a command"},
		{name: "empty program", config: `{"credential_process": [""]}`,
			kind: core.KindValidation, param: "credential_process", want: "credential_process must name a command"},
		{name: "NUL", config: `{"credential_process": ["cmd", "a\u0000b"]}`,
			kind: core.KindValidation, param: "credential_process", want: "must not contain a NUL character"},
		{name: "bad quoting", config: `{"credential_process": "cmd 'secret"}`,
			kind: core.KindValidation, param: "credential_process", want: "the credential_process command has an unterminated single quote (check its quoting)"},
		{name: "trailing backslash", config: `{"credential_process": "cmd \\"}`,
			kind: core.KindValidation, param: "credential_process", want: "the credential_process command has a trailing backslash (check its quoting)"},
		{name: "unknown key beside it", config: `{"credential_process": "x", "bogus": 1}`,
			kind: core.KindValidation, param: "bogus", want: "(known keys: advisory_timeout, background_refresh, defer_refresh, mandatory_timeout, method)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var hooks core.Hooks
			if tt.callback {
				hooks.Credentials = callback
			}
			s, err := core.NewSessionFromJSON([]byte(tt.config), hooks)
			if tt.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			assertKind(t, err, tt.kind, tt.param)
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q; want it to say %q and not echo the command", err, tt.want)
			}
		})
	}
}

// TestCredentialProcessFails: a command that fails is a credential error
// naming credential_process at the read.
func TestCredentialProcessFails(t *testing.T) {
	s, err := core.NewSessionFromJSON([]byte(`{"credential_process": ["/bin/sh", "-c", "exit 3"]}`), core.Hooks{},
		func(o *core.Options) { o.Logger = slog.New(slog.DiscardHandler) })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Credentials(context.Background())
	assertKind(t, err, core.KindCredential, "credential_process")
	if !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("error %v", err)
	}
}
