// Package safetext renders text a user or a service supplied for error
// messages and log lines: quoted, with control characters spelled out, cut
// to a bounded length, and without file paths the caller did not choose to
// show. It is shared by core, the method packages and capi.
package safetext

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// isControl reports whether r is a control character: C0 (NUL included),
// DEL or C1. Terminal escape sequences start with one (ESC, CSI).
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

// EscapeControls spells every control character of s as \u00XX (a NUL as
// \u0000, ESC as \u001b, a newline as \u000a) and leaves the rest as it
// is, so that text from a callback or a service cannot break a log line or
// drive a terminal, and a C string holding it is never cut short.
func EscapeControls(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Quote returns s in double quotes with '"' and '\' escaped and control
// characters spelled as \u00XX, as JSON writes them: the one way error
// messages quote text a user supplied (Go's %q would spell a NUL \x00).
func Quote(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
	return `"` + EscapeControls(s) + `"`
}

// Mask renders a secret for a String method: "****", or `""` when it is
// empty (so that a missing secret still shows).
func Mask(s string) string {
	if s == "" {
		return `""`
	}
	return "****"
}

// Cut shortens a user-supplied, non-secret value to n runes of valid
// UTF-8 for an error message.
func Cut(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "..."
}

// UnwrapPathError drops the path from an *os.PathError, so that an error
// wrapping it does not show a path the message already names (or, for a
// value that may not be a path at all, must not show).
func UnwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
