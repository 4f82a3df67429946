package core

import (
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
