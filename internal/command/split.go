package command

import (
	"bytes"
	"errors"
	"strings"

	json "github.com/goccy/go-json"
)

// The errors of Split. Their text says what is wrong with a command line
// without quoting it, so that a caller can write "the <param> command has
// <err>" in a message naming its own parameter.
var (
	ErrSingleQuote       = errors.New("an unterminated single quote")
	ErrDoubleQuote       = errors.New("an unterminated double quote")
	ErrTrailingBackslash = errors.New("a trailing backslash")
)

// Split splits a command line into arguments the way a POSIX shell would
// quote them, without running a shell: whitespace separates words; single
// quotes keep everything literally; inside double quotes a backslash
// escapes only a double quote or a backslash; outside quotes a backslash
// escapes any character. Nothing is expanded ($, *, ~ and # are literal).
// An unterminated quote or a trailing backslash is ErrSingleQuote,
// ErrDoubleQuote or ErrTrailingBackslash. A line of only whitespace gives
// no arguments (nil).
func Split(line string) ([]string, error) {
	var (
		args   []string
		cur    strings.Builder
		inWord bool
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, ErrSingleQuote
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			for i++; ; i++ {
				if i >= len(line) {
					return nil, ErrDoubleQuote
				}
				if line[i] == '"' {
					break
				}
				if line[i] == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
					i++
				}
				cur.WriteByte(line[i])
			}
		case c == '\\':
			if i+1 >= len(line) {
				return nil, ErrTrailingBackslash
			}
			inWord = true
			i++
			cur.WriteByte(line[i])
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// ErrNotCommand is FromJSON's error for a JSON value that is neither a
// string nor an array of strings.
var ErrNotCommand = errors.New("neither a string nor an array of strings")

// FromJSON reads a command given in a JSON config: a string is a command
// line, split by Split; an array of strings is the arguments as they are.
// An empty line or array gives an empty, non-nil slice (a command given
// but empty, for the caller to refuse). The errors are Split's, or
// ErrNotCommand for any other JSON value (null included).
func FromJSON(raw []byte) ([]string, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, ErrNotCommand
	}
	var line string
	if json.Unmarshal(raw, &line) == nil {
		argv, err := Split(line)
		if err != nil {
			return nil, err
		}
		if argv == nil {
			argv = []string{}
		}
		return argv, nil
	}
	var argv []string
	if json.Unmarshal(raw, &argv) != nil {
		return nil, ErrNotCommand
	}
	return argv, nil
}
