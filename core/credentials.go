package core

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gobrs/gobrs/internal/safetext"
)

// Credentials is one set of temporary AWS credentials.
type Credentials struct {
	// AccessKeyID is the access key id (not secret).
	AccessKeyID string
	// SecretAccessKey is the secret key. Never logged or rendered.
	SecretAccessKey string
	// SessionToken is the session token. Never logged or rendered.
	SessionToken string
	// Expires is when the credentials stop working.
	Expires time.Time
}

// String renders the credentials with the secret key and token masked, so
// that %v, %s and %+v never print a secret.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{AccessKeyID: %q, SecretAccessKey: %s, SessionToken: %s, Expires: %s}",
		c.AccessKeyID, safetext.Mask(c.SecretAccessKey), safetext.Mask(c.SessionToken), c.Expires.UTC().Format(time.RFC3339))
}

// GoString masks secrets for %#v as String does.
func (c Credentials) GoString() string { return c.String() }

// Format implements fmt.Formatter, so that every verb (%d, %x and %t as
// well as %v, %+v, %#v and %s) renders the masked form and none reaches the
// fields through reflection.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	io.WriteString(f, c.String())
}

// LogValue implements slog.LogValuer, so that a logged Credentials shows
// the masked form with every handler (JSON included).
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ExpiryString returns Expires in ISO 8601 (RFC 3339) UTC, the form the
// Python and C layers hand out as expiry_time. Sub-seconds are kept (and
// left out when zero): "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.5Z".
func (c Credentials) ExpiryString() string {
	return c.Expires.UTC().Format(time.RFC3339Nano)
}

// MaxFieldLen bounds every credential field. Real access keys are 16-128
// characters, secrets 40, session tokens a few KiB; 64 KiB leaves room for
// any provider while refusing megabyte strings.
const MaxFieldLen = 64 << 10

// ValidateField validates one credential field (access_key, secret_key,
// token: present, at most MaxFieldLen bytes of one-line UTF-8) without
// echoing its value. Providers check the fields they parse with it.
func ValidateField(name, v string) error {
	switch {
	case v == "":
		return NewCredentialError(name, nil, "credentials are missing %s or it is empty", name)
	case len(v) > MaxFieldLen:
		return NewCredentialError(name, nil, "credential field %s is %d bytes long, more than the %d allowed", name, len(v), MaxFieldLen)
	case !utf8.ValidString(v):
		return NewCredentialError(name, nil, "credential field %s is not valid UTF-8", name)
	case strings.ContainsAny(v, "\x00\r\n"):
		return NewCredentialError(name, nil, "credential field %s contains a NUL or line break", name)
	}
	return nil
}

// Validate checks that every field is present and sane and that the
// credentials have not expired at now. Errors name the field (access_key,
// secret_key, token, expiry_time) and never contain a secret.
func (c Credentials) Validate(now time.Time) error {
	for _, f := range [...]struct{ name, v string }{
		{"access_key", c.AccessKeyID}, {"secret_key", c.SecretAccessKey}, {"token", c.SessionToken},
	} {
		if err := ValidateField(f.name, f.v); err != nil {
			return err
		}
	}
	if c.Expires.IsZero() {
		return NewCredentialError("expiry_time", nil, "credentials are missing expiry_time")
	}
	if !c.Expires.After(now) {
		return &Error{Kind: KindCredential, Param: "expiry_time", Value: c.ExpiryString(), Details: map[string]any{"reason": "expired"},
			Message: fmt.Sprintf("credentials already expired at %s", c.ExpiryString())}
	}
	return nil
}

// expiryLayouts are the forms ParseExpiry accepts once expiryNormalize has
// run (upper case, "T" between date and time, the zone glued to the time,
// "UTC"/"GMT" spelled "Z"), tried in order: ISO 8601 extended and basic,
// with or without seconds, fraction and offset (+hh:mm, +hhmm, +hh), and
// RFC 1123. Layouts without a zone are read as UTC.
var expiryLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04Z07",
	"2006-01-02T15:04",
	"20060102T150405.999999999Z0700",
	"20060102T150405.999999999Z07:00",
	"20060102T150405.999999999",
	"20060102T1504Z0700",
	"20060102T1504",
	"Mon, 02 Jan 2006 15:04:05Z0700",
	"Mon, 02 Jan 2006 15:04:05Z07:00",
	"02 Jan 2006 15:04:05Z0700",
}

var (
	// expiryDateSpace is the space between an ISO date and its time.
	expiryDateSpace = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}|\d{8}) +(\d)`)
	// expiryZone is a zone after the time, perhaps after spaces.
	expiryZone = regexp.MustCompile(`(\d) *(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$`)
)

// expiryNormalize rewrites the spellings boto3-refresh-session's parser
// (dateutil) accepts into the ones expiryLayouts name: "t"/"z" in any case,
// a space instead of "T", a space before the zone, "UTC" or "GMT" for "Z".
func expiryNormalize(s string) string {
	s = strings.ToUpper(s)
	s = expiryDateSpace.ReplaceAllString(s, "${1}T$2")
	return expiryZone.ReplaceAllStringFunc(s, func(m string) string {
		zone := strings.TrimLeft(m[1:], " ")
		if zone == "UTC" || zone == "GMT" {
			zone = "Z"
		}
		return m[:1] + zone
	})
}

// ParseExpiry parses a timestamp in the spellings boto3-refresh-session
// accepts: ISO 8601 extended ("2026-01-02T03:04:05Z",
// "2026-01-02 05:04:05.123+02:00", "2026-01-02t03:04z") or basic
// ("20260102T030405Z"), with "UTC"/"GMT" as the zone, and RFC 1123 ("Fri,
// 02 Jan 2026 03:04:05 GMT"). A time without an offset is read as UTC. The
// error names expiry_time and quotes the value (an expiry is not a secret),
// cut to 64 characters.
func ParseExpiry(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		e := NewCredentialError("expiry_time", nil, "credentials are missing expiry_time or it is empty")
		e.Details = map[string]any{"reason": "unparsable"}
		return time.Time{}, e
	}
	if len(v) <= 64 { // longer is no timestamp; skip the regexps
		n := expiryNormalize(v)
		for _, layout := range expiryLayouts {
			if t, err := time.Parse(layout, n); err == nil {
				return t.UTC(), nil
			}
		}
	}
	shown := safetext.Cut(v, 64)
	return time.Time{}, &Error{Kind: KindCredential, Param: "expiry_time", Value: shown, Details: map[string]any{"reason": "unparsable"},
		Message: fmt.Sprintf("expiry_time %s is not an ISO 8601 or RFC 1123 timestamp", safetext.Quote(shown))}
}
