package processcreds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
)

const (
	secret = "SECRETprocesscredsXXXXXXXXXXXXXXXXXXXXXXX"
	token  = "TOKENprocesscredsYYYYYYYYYYYYYYYYYYYYYYYY"
)

// The test binary run as "TEST helper MODE" is a credential_process
// command whose output MODE chooses.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "helper" {
		os.Exit(helper(os.Args[2]))
	}
	// A -race binary sleeps a second before it exits (GORACE's
	// atexit_sleep_ms): not the helpers.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	os.Exit(m.Run())
}

func helper(mode string) int {
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	good := fmt.Sprintf(`{"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": %q, "SessionToken": %q, "Expiration": %q}`,
		secret, token, exp)
	switch mode {
	case "good":
		fmt.Print(good)
	case "good-stderr":
		fmt.Print(good)
		fmt.Fprint(os.Stderr, "helper says hello on stderr")
	case "version2":
		fmt.Print(strings.Replace(good, `"Version": 1`, `"Version": 2`, 1))
	case "no-token":
		fmt.Print(strings.Replace(good, `"SessionToken"`, `"Other"`, 1))
	case "no-expiration":
		fmt.Printf(`{"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": %q, "SessionToken": %q}`, secret, token)
	case "expired":
		fmt.Print(strings.Replace(good, exp, "2001-01-01T00:00:00Z", 1))
	case "wrong-type":
		fmt.Print(strings.Replace(good, `"Version": 1`, `"Version": "1"`, 1))
	case "not-json":
		fmt.Print("AccessKeyId=" + secret)
	case "huge":
		fmt.Print(strings.Repeat(" ", MaxOutput) + good)
	case "fail":
		fmt.Print(good)
		return 3
	case "hang":
		time.Sleep(time.Hour)
	}
	return 0
}

func argv(mode string) []string { return []string{os.Args[0], "helper", mode} }

func TestRetrieve(t *testing.T) {
	var stderr bytes.Buffer
	p, err := New(argv("good-stderr"), func(o *Options) { o.Stderr = &stderr })
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "AKIDPROCESS" || c.SecretAccessKey != secret || c.SessionToken != token || c.Expires.Before(time.Now()) {
		t.Fatalf("credentials %v", c)
	}
	if stderr.String() != "helper says hello on stderr" {
		t.Fatalf("stderr %q", stderr.String())
	}
}

func TestRetrieveFailures(t *testing.T) {
	for _, tc := range []struct {
		mode, want string
		param      string
	}{
		{"version2", "Version 2", Param},
		{"no-token", "unknown key", Param},
		{"no-expiration", "no Expiration", Param},
		{"expired", "expired", "expiry_time"},
		{"wrong-type", "Version with the wrong type", Param},
		{"not-json", "did not print a JSON object", Param},
		{"huge", "more than 65536 bytes", Param},
		{"fail", "exit status 3", Param},
		{"hang", "timed out after 300ms", Param},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			timeout := time.Minute // a test binary under -race starts slowly on a busy machine
			if tc.mode == "hang" {
				timeout = 300 * time.Millisecond
			}
			p, err := New(argv(tc.mode), func(o *Options) { o.Timeout = timeout; o.Stderr = &bytes.Buffer{} })
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Retrieve(context.Background())
			var e *core.Error
			if !errors.As(err, &e) || e.Kind != core.KindCredential || e.Param != tc.param || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want a credential error naming %s saying %q", err, tc.param, tc.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), token) {
				t.Fatalf("the error quotes a secret: %v", err)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	for _, name := range []string{"gobrs-no-such-command-xyz", "/nonexistent/dir/cmd", os.TempDir()} {
		p, err := New([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Retrieve(context.Background())
		var e *core.Error
		if !errors.As(err, &e) || e.Kind != core.KindCredential || e.Param != Param || !strings.Contains(err.Error(), name) {
			t.Fatalf("%s: err %v", name, err)
		}
	}
}

func TestNewRefusesEmptyCommands(t *testing.T) {
	for _, a := range [][]string{nil, {}, {""}, {"cmd", "a\x00b"}} {
		_, err := New(a)
		var e *core.Error
		if !errors.As(err, &e) || e.Kind != core.KindValidation || e.Param != Param {
			t.Errorf("New(%q): err %v, want a validation error naming %s", a, err, Param)
		}
	}
}
