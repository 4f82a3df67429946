package command

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"ykman oath code issuer", []string{"ykman", "oath", "code", "issuer"}},
		{"  a \t b\n c  ", []string{"a", "b", "c"}},
		{`a 'b c' "d e"`, []string{"a", "b c", "d e"}},
		{`'it'\''s'`, []string{"it's"}},
		{`"say \"hi\" \\ \n"`, []string{`say "hi" \ \n`}},
		{`a\ b c\\d`, []string{"a b", `c\d`}},
		{`'' ""`, []string{"", ""}},
		{`x'y'"z"`, []string{"xyz"}},
		{`$HOME ~ * # ; | &&`, []string{"$HOME", "~", "*", "#", ";", "|", "&&"}},
		{"", nil},
		{"   ", nil},
		{"héllo wörld", []string{"héllo", "wörld"}},
	} {
		got, err := Split(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSplitErrors(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want error
	}{
		{`a 'b`, ErrSingleQuote},
		{`"a`, ErrDoubleQuote},
		{`"a\"`, ErrDoubleQuote},
		{`a\`, ErrTrailingBackslash},
	} {
		got, err := Split(tt.in)
		if !errors.Is(err, tt.want) || got != nil {
			t.Errorf("Split(%q) = %q, %v; want %v", tt.in, got, err, tt.want)
		}
		if strings.Contains(err.Error(), tt.in) {
			t.Errorf("the error echoes the line: %v", err)
		}
	}
}

func TestFromJSON(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want []string
		err  error
	}{
		{`"cmd 'a b' \"c d\" e\\ f $HOME *"`, []string{"cmd", "a b", "c d", "e f", "$HOME", "*"}, nil},
		{`["cmd", "a b", "$HOME"]`, []string{"cmd", "a b", "$HOME"}, nil},
		{`""`, []string{}, nil},
		{`"  "`, []string{}, nil},
		{`[]`, []string{}, nil},
		{`"cmd 'a"`, nil, ErrSingleQuote},
		{`1`, nil, ErrNotCommand},
		{`{"a": 1}`, nil, ErrNotCommand},
		{`[1]`, nil, ErrNotCommand},
		{`true`, nil, ErrNotCommand},
		{` null `, nil, ErrNotCommand},
	} {
		got, err := FromJSON([]byte(tt.raw))
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("FromJSON(%s) = %#v, %v; want %#v, %v", tt.raw, got, err, tt.want, tt.err)
		}
	}
}

// quoteArg quotes s for Split: in single quotes, each single quote in s
// closed, escaped with a backslash and reopened.
func quoteArg(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// FuzzSplit: splitting never panics, and re-quoting the words gives back
// the same words.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{`a 'b c' "d\"e"`, `x\ y`, `'`, `"\\"`, "a\tb\nc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := Split(s)
		if err != nil {
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = quoteArg(w)
		}
		again, err := Split(strings.Join(quoted, " "))
		if err != nil || !reflect.DeepEqual(again, words) {
			t.Fatalf("round trip of %q: %q -> %q, %v", s, words, again, err)
		}
	})
}
