package custom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/testutil"
)

// assertKind fails unless err is a *core.Error of kind k naming param (when
// param is not empty) in its text and Param.
func assertKind(t *testing.T, err error, k core.Kind, param string) {
	t.Helper()
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *core.Error", err, err)
	}
	if e.Kind != k {
		t.Errorf("kind = %v, want %v (error: %v)", e.Kind, k, err)
	}
	if param != "" && (e.Param != param || !strings.Contains(err.Error(), param)) {
		t.Errorf("Param = %q, want %q named in the text (error: %v)", e.Param, param, err)
	}
}

func TestCustomProvider(t *testing.T) {
	ctx := context.Background()
	clock := core.NewFakeClock(testutil.T0)
	inner := errors.New("upstream said no")
	for _, tc := range []struct {
		name  string
		fn    Func
		kind  core.Kind
		param string
		is    error
	}{
		{"valid", func(context.Context) (map[string]string, error) { return testutil.GoodMap(), nil }, core.KindUnknown, "", nil},
		{"nil func", nil, core.KindValidation, "custom_credentials_method", core.ErrValidation},
		{"getter error", func(context.Context) (map[string]string, error) { return nil, inner }, core.KindCredential, "custom_credentials_method", inner},
		{"getter gobrs error kept", func(context.Context) (map[string]string, error) {
			return nil, &core.Error{Kind: core.KindConnection, Message: "no route"}
		}, core.KindConnection, "", core.ErrConnection},
		{"nil result", func(context.Context) (map[string]string, error) { return nil, nil }, core.KindCredential, "access_key", core.ErrCredential},
		{"bad result", func(context.Context) (map[string]string, error) {
			m := testutil.GoodMap()
			m["secret_key"] = testutil.SecretMark + "\x00"
			return m, nil
		}, core.KindCredential, "secret_key", core.ErrCredential},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Provider{Func: tc.fn, Clock: clock}
			c, err := p.Retrieve(ctx)
			if tc.kind == core.KindUnknown {
				if err != nil || c.AccessKeyID != "AKIDMAPTEST00001" {
					t.Fatalf("Retrieve = %v, %v", c, err)
				}
				return
			}
			assertKind(t, err, tc.kind, tc.param)
			if !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			testutil.AssertNoSecret(t, "the error", err.Error())
		})
	}
	// Without a clock it uses the system clock.
	p := NewProvider(func(context.Context) (map[string]string, error) {
		m := testutil.GoodMap()
		m["expiry_time"] = time.Now().Add(time.Hour).Format(time.RFC3339)
		return m, nil
	})
	p.Clock = nil
	if _, err := p.Retrieve(ctx); err != nil {
		t.Fatalf("system clock: %v", err)
	}
}

// A session over a custom getter reports a bad result as a credential error
// naming the field, without the secret, and logs nothing secret either.
func TestSessionWithBadCustomResult(t *testing.T) {
	clock := core.NewFakeClock(testutil.T0)
	var logs testutil.SyncBuffer
	m := testutil.GoodMap()
	m["token"] = testutil.TokenMark + "\xff"
	s, err := core.NewSession(&Provider{Func: func(context.Context) (map[string]string, error) { return m, nil }, Clock: clock},
		func(o *core.Options) { o.Clock, o.Logger = clock, slog.New(slog.NewTextHandler(&logs, nil)) })
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer s.Close()
	_, err = s.Credentials(context.Background())
	assertKind(t, err, core.KindCredential, "token")
	testutil.AssertNoSecret(t, "the error", err.Error())
	testutil.AssertNoSecret(t, "the log", logs.String())
	if !strings.Contains(logs.String(), "token") {
		t.Errorf("log %q does not name the field", logs.String())
	}
}

func TestCredentialsFromMap(t *testing.T) {
	type edit func(map[string]string)
	set := func(k, v string) edit { return func(m map[string]string) { m[k] = v } }
	del := func(k string) edit { return func(m map[string]string) { delete(m, k) } }
	huge := strings.Repeat(testutil.SecretMark, core.MaxFieldLen/len(testutil.SecretMark)+1)
	type mapCase struct {
		name  string
		edit  edit
		param string
	}
	cases := []mapCase{
		{"valid", func(map[string]string) {}, ""},
		{"extra keys ignored", set("region", "us-east-1"), ""},
		{"expiry with offset", set("expiry_time", "2030-01-02T06:04:05+02:00"), ""},
		{"expired", set("expiry_time", "2030-01-02T03:04:05Z"), "expiry_time"},
		{"expired long ago", set("expiry_time", "2000-01-01 00:00:00"), "expiry_time"},
		{"unparseable expiry", set("expiry_time", "tomorrow"), "expiry_time"},
		{"empty expiry", set("expiry_time", ""), "expiry_time"},
		{"zero expiry", set("expiry_time", "0001-01-01T00:00:00Z"), "expiry_time"},
	}
	for _, k := range []string{"access_key", "secret_key", "token", "expiry_time"} {
		cases = append(cases, mapCase{"missing " + k, del(k), k})
	}
	for _, k := range []string{"access_key", "secret_key", "token"} {
		for name, v := range map[string]string{"empty": "", "oversized": huge, "invalid UTF-8": testutil.SecretMark + "\xc3\x28",
			"NUL": testutil.SecretMark + "\x00x", "newline": testutil.TokenMark + "\n"} {
			cases = append(cases, mapCase{name + " " + k, set(k, v), k})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := testutil.GoodMap()
			tc.edit(m)
			c, err := CredentialsFromMap(m, testutil.T0)
			if tc.param == "" {
				if err != nil || c.SecretAccessKey != m["secret_key"] || c.SessionToken != m["token"] || c.AccessKeyID != m["access_key"] {
					t.Fatalf("CredentialsFromMap = %v, %v", c, err)
				}
				return
			}
			assertKind(t, err, core.KindCredential, tc.param)
			testutil.AssertNoSecret(t, "the error", err.Error())
			if len(err.Error()) > 300 {
				t.Errorf("error text is %d bytes long", len(err.Error()))
			}
		})
	}
	if _, err := CredentialsFromMap(nil, testutil.T0); core.KindOf(err) != core.KindCredential {
		t.Errorf("nil map: %v", err)
	}
}

func FuzzCredentialsFromMap(f *testing.F) {
	f.Add("AKIDFUZZ00000001", testutil.SecretMark+"fuzz-secret-value", testutil.TokenMark+"fuzz-token-value", "2030-01-02T04:04:05Z", uint8(0))
	f.Add("AKIDFUZZ00000001", testutil.SecretMark+"fuzz-secret-value", testutil.TokenMark+"fuzz-token-value", "2030-01-02 06:04:05.123+0200", uint8(0))
	f.Add("AKIDFUZZ00000001", testutil.SecretMark+"fuzz-secret-value", testutil.TokenMark+"fuzz-token-value", "2030-01-02T04:04:05", uint8(0))
	f.Add("AKIDFUZZ00000001", testutil.SecretMark+"fuzz-secret-value", testutil.TokenMark+"fuzz-token-value", "2030-01-02T03:04:05Z", uint8(0))
	f.Add("AKIDFUZZ00000001", testutil.SecretMark+"fuzz-secret-value", testutil.TokenMark+"fuzz-token-value", "not a time", uint8(0))
	f.Add("", "", "", "", uint8(15))
	f.Add("AKID\x00", testutil.SecretMark+"\xff\xfe", testutil.TokenMark+"\n", "2030-01-02T04:04:05.999999999-23:59", uint8(2))
	f.Add("A", "s", "t", "9999-12-31T23:59:59Z", uint8(8))
	f.Add("A", "s", "t", " 2030-01-02T04:04:05+00:00 ", uint8(4))
	f.Fuzz(func(t *testing.T, ak, sk, tok, exp string, missing uint8) {
		m := map[string]string{"access_key": ak, "secret_key": sk, "token": tok, "expiry_time": exp}
		for i, k := range []string{"access_key", "secret_key", "token", "expiry_time"} {
			if missing&(1<<i) != 0 {
				delete(m, k)
			}
		}
		c, err := CredentialsFromMap(m, testutil.T0)
		if err != nil {
			var e *core.Error
			if !errors.As(err, &e) || e.Kind != core.KindCredential {
				t.Fatalf("error %v (%T) is not a credential *Error", err, err)
			}
			switch e.Param {
			case "access_key", "secret_key", "token", "expiry_time":
			default:
				t.Fatalf("error %v names %q, not a field", err, e.Param)
			}
			if !strings.Contains(err.Error(), e.Param) {
				t.Fatalf("error text %q does not name %s", err.Error(), e.Param)
			}
			// A distinctive secret (long, and not also the expiry) never
			// shows up in the error.
			for _, secret := range []string{sk, tok} {
				if len(secret) >= 16 && !strings.Contains(exp, secret) && strings.Contains(err.Error()+e.Value, secret) {
					t.Fatalf("error %q shows a secret", err.Error())
				}
			}
			return
		}
		if c.AccessKeyID != ak || c.SecretAccessKey != sk || c.SessionToken != tok || !c.Expires.After(testutil.T0) {
			t.Fatalf("CredentialsFromMap = %v from %q", c, m)
		}
		if err := c.Validate(testutil.T0); err != nil {
			t.Fatalf("result does not validate: %v", err)
		}
		// ParseExpiry round-trips through the form the other layers use.
		back, err := core.ParseExpiry(c.Expires.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(c.Expires) || back.Location() != time.UTC {
			t.Fatalf("ParseExpiry(%q) = %v, %v; want %v", c.Expires.Format(time.RFC3339Nano), back, err, c.Expires)
		}
		testutil.AssertNoSecret(t, "String", c.String())
		if len(sk) >= 16 && !strings.Contains(ak, sk) && strings.Contains(fmt.Sprintf("%v %+v %#v %d", c, c, c, c), sk) {
			t.Fatalf("formatting shows the secret")
		}
	})
}
