package core

import (
	"fmt"
	"strings"
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

// Cut is cut for the C layer: s as valid UTF-8, cut to n characters.
func Cut(s string, n int) string { return cut(s, n) }
