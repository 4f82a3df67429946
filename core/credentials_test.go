package core

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobrs/gobrs/internal/testutil"
)

// No rendering of Credentials shows the secret key or the token.
func TestCredentialsRenderingMasksSecrets(t *testing.T) {
	c := testCreds(7, testutil.T0)
	type holder struct {
		Creds Credentials
		Ptr   *Credentials
	}
	values := map[string]any{"value": c, "pointer": &c, "slice": []Credentials{c}, "struct field": holder{c, &c},
		"map": map[string]Credentials{"k": c}}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%t", "%10.3v", "%-8s"} {
			out := fmt.Sprintf(verb, v)
			testutil.AssertNoSecret(t, fmt.Sprintf("%s formatted with %s (%q)", name, verb, out), out)
		}
	}
	for _, out := range []string{c.String(), c.GoString(), fmt.Sprint(c), fmt.Sprintln(&c)} {
		testutil.AssertNoSecret(t, out, out)
		if !strings.Contains(out, c.AccessKeyID) || !strings.Contains(out, "****") || !strings.Contains(out, "2030-01-02T03:04:05Z") {
			t.Errorf("rendering %q lacks the access key id, the mask or the expiry", out)
		}
	}
	if got := (Credentials{}).String(); strings.Contains(got, "****") {
		t.Errorf("empty credentials render as %q, masking values that are not there", got)
	}
	var logs testutil.SyncBuffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("creds", "c", c, "p", &c, slog.Any("a", c), slog.Group("g", "c", c))
	}
	if !strings.Contains(logs.String(), c.AccessKeyID) {
		t.Errorf("log %q lacks the access key id", logs.String())
	}
	testutil.AssertNoSecret(t, "a slog line", logs.String())
	if got := c.ExpiryString(); got != "2030-01-02T03:04:05Z" {
		t.Errorf("ExpiryString = %q", got)
	}
}

func TestCredentialsValidate(t *testing.T) {
	good := testCreds(1, testutil.T0.Add(time.Hour))
	for _, tc := range []struct {
		name  string
		edit  func(*Credentials)
		param string
	}{
		{"valid", func(*Credentials) {}, ""},
		{"no access key", func(c *Credentials) { c.AccessKeyID = "" }, "access_key"},
		{"no secret", func(c *Credentials) { c.SecretAccessKey = "" }, "secret_key"},
		{"no token", func(c *Credentials) { c.SessionToken = "" }, "token"},
		{"no expiry", func(c *Credentials) { c.Expires = time.Time{} }, "expiry_time"},
		{"expired", func(c *Credentials) { c.Expires = testutil.T0 }, "expiry_time"},
		{"secret with NUL", func(c *Credentials) { c.SecretAccessKey += "\x00" }, "secret_key"},
		{"token with newline", func(c *Credentials) { c.SessionToken += "\nx" }, "token"},
		{"access key with CR", func(c *Credentials) { c.AccessKeyID += "\r" }, "access_key"},
		{"secret not UTF-8", func(c *Credentials) { c.SecretAccessKey += "\xff" }, "secret_key"},
		{"token too long", func(c *Credentials) { c.SessionToken += strings.Repeat("t", MaxFieldLen) }, "token"},
		{"token at the limit", func(c *Credentials) { c.SessionToken = strings.Repeat("t", MaxFieldLen) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate(testutil.T0)
			if tc.param == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			assertKind(t, err, KindCredential, tc.param)
			testutil.AssertNoSecret(t, "the error", err.Error())
			if e := err.(*Error); strings.Contains(e.Value, testutil.SecretMark) || strings.Contains(e.Value, testutil.TokenMark) {
				t.Errorf("error Value %q holds a secret", e.Value)
			}
		})
	}
}

func TestParseExpiry(t *testing.T) {
	want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-01-02T03:04:05Z", want},
		{"2026-01-02T05:04:05+02:00", want},
		{"2026-01-02T05:04:05+0200", want},
		{"2026-01-01T22:04:05-05:00", want},
		{"2026-01-02T03:04:05", want},
		{"2026-01-02 03:04:05", want},
		{"2026-01-02 05:04:05+02:00", want},
		{"2026-01-02 05:04:05+0200", want},
		{"2026-01-02T03:04:05+00:00", want},
		{"  2026-01-02T03:04:05Z\n", want},
		{"2026-01-02T03:04:05.123Z", want.Add(123 * time.Millisecond)},
		{"2026-01-02T05:04:05.123456+02:00", want.Add(123456 * time.Microsecond)},
		{"2026-01-02T03:04:05.5", want.Add(500 * time.Millisecond)},
		{"2026-01-02 03:04:05.000000001Z", want.Add(1)},
		// the spellings boto3-refresh-session's parser (dateutil) accepts
		{"Fri, 02 Jan 2026 03:04:05 GMT", want},
		{"Fri, 02 Jan 2026 05:04:05 +0200", want},
		{"20260102T030405Z", want},
		{"20260102T050405+0200", want},
		{"20260102T030405", want},
		{"2026-01-02 03:04:05 UTC", want},
		{"2026-01-02 03:04:05 GMT", want},
		{"2026-01-02 05:04:05 +0200", want},
		{"2026-01-02t03:04:05z", want},
		{"2026-01-02T03:04Z", want.Add(-5 * time.Second)},
		{"2026-01-02T03:04", want.Add(-5 * time.Second)},
		{"2026-01-02T05:04:05+02", want},
		{"2026-01-02 03:04:05.500000", want.Add(500 * time.Millisecond)},
	} {
		got, err := ParseExpiry(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v in UTC", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "   ", "garbage", "2026-01-02", "03:04:05", "2026-13-02T03:04:05Z", "2026-01-02T25:04:05Z",
		"2026-01-02T03:04:05 PST", "1767323045", "2026-01-02T03:04:05Z extra", "2026-01-02T03:04:05ZZ", "2026/01/02 03:04:05", "\xff\xfe",
		strings.Repeat("9", 1000)} {
		_, err := ParseExpiry(in)
		e := assertKind(t, err, KindCredential, "expiry_time")
		if len(e.Value) > 70 || !utf8.ValidString(e.Value) || !utf8.ValidString(err.Error()) {
			t.Errorf("ParseExpiry(%q) error value %q is not cut to valid UTF-8", in, e.Value)
		}
	}
}

func TestCredentialsFromMap(t *testing.T) {
	type edit func(map[string]string)
	set := func(k, v string) edit { return func(m map[string]string) { m[k] = v } }
	del := func(k string) edit { return func(m map[string]string) { delete(m, k) } }
	huge := strings.Repeat(testutil.SecretMark, MaxFieldLen/len(testutil.SecretMark)+1)
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
			assertKind(t, err, KindCredential, tc.param)
			testutil.AssertNoSecret(t, "the error", err.Error())
			if len(err.Error()) > 300 {
				t.Errorf("error text is %d bytes long", len(err.Error()))
			}
		})
	}
	if _, err := CredentialsFromMap(nil, testutil.T0); KindOf(err) != KindCredential {
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
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindCredential {
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
		back, err := ParseExpiry(c.Expires.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(c.Expires) || back.Location() != time.UTC {
			t.Fatalf("ParseExpiry(%q) = %v, %v; want %v", c.Expires.Format(time.RFC3339Nano), back, err, c.Expires)
		}
		testutil.AssertNoSecret(t, "String", c.String())
		if len(sk) >= 16 && !strings.Contains(ak, sk) && strings.Contains(fmt.Sprintf("%v %+v %#v %d", c, c, c, c), sk) {
			t.Fatalf("formatting shows the secret")
		}
	})
}
