package sts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/safetext"
)

// DefaultMFACommandTimeout bounds an MFA token command that sets no
// timeout, as in boto3-refresh-session.
const DefaultMFACommandTimeout = 30 * time.Second

// maxMFAOutput bounds how much of a token command's standard output is read.
const maxMFAOutput = 64 << 10

// mfaTokenRe finds 6-digit tokens standing alone in a command's output.
var mfaTokenRe = regexp.MustCompile(`\b[0-9]{6}\b`)

// SplitCommand splits a command line into arguments the way a POSIX shell
// would quote them, without running a shell: whitespace separates words;
// single quotes keep everything literally; inside double quotes a backslash
// escapes only a double quote or a backslash; outside quotes a backslash
// escapes any character. Nothing is expanded ($, *, ~ and # are literal).
// An unterminated quote or a trailing backslash is a KindConfiguration
// error naming mfa_token_provider (the text is not echoed).
func SplitCommand(s string) ([]string, error) {
	var (
		args   []string
		cur    strings.Builder
		inWord bool
	)
	fail := func(what string) error {
		return core.NewConfigurationError("mfa_token_provider", "the mfa_token_provider command has %s (check its quoting)", what)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fail("an unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			for i++; ; i++ {
				if i >= len(s) {
					return nil, fail("an unterminated double quote")
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, fail("a trailing backslash")
			}
			inWord = true
			i++
			cur.WriteByte(s[i])
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

// mfaTokenFunc returns a fresh MFA token code.
type mfaTokenFunc func(ctx context.Context) (string, error)

// hookToken adapts Hooks.MFAToken: the code must be 6 digits (surrounding
// whitespace is trimmed). Errors name mfa_token_provider and never contain
// the code.
func hookToken(fn func(ctx context.Context) (string, error)) mfaTokenFunc {
	return func(ctx context.Context) (string, error) {
		code, err := fn(ctx)
		if err != nil {
			if core.KindOf(err) == core.KindUnknown {
				err = &core.Error{Kind: core.KindCredential, Param: "mfa_token_provider", Err: err, Message: "the MFA token provider failed"}
			}
			return "", err
		}
		code = strings.TrimSpace(code)
		if !tokenCodeRe.MatchString(code) {
			return "", core.NewValidationError("mfa_token_provider", "", "the MFA token provider returned something that is not a 6-digit numeric code")
		}
		return code, nil
	}
}

// commandToken runs argv (no shell) to get a token code: the last 6-digit
// number standing alone on its standard output. Failures are
// KindConfiguration errors naming mfa_token_provider, as in
// boto3-refresh-session; they name the program but never quote its output.
func commandToken(argv []string, o MFACommandOptions) mfaTokenFunc {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultMFACommandTimeout
	}
	prog := safetext.Cut(argv[0], 128)
	fail := func(err error, format string, args ...any) error {
		return &core.Error{Kind: core.KindConfiguration, Param: "mfa_token_provider", Value: prog, Err: err,
			Message: fmt.Sprintf(format, args...)}
	}
	return func(ctx context.Context) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = o.Dir
		cmd.Env = o.Env
		if o.Input != "" {
			cmd.Stdin = strings.NewReader(o.Input)
		}
		out := &limitedBuffer{max: maxMFAOutput}
		cmd.Stdout = out
		// Stderr goes nowhere: it may echo the code and is never shown.
		cmd.WaitDelay = time.Second
		killProcessGroup(cmd, o.StartNewSession)
		if o.Dir != "" {
			// Checked first: a missing directory fails the start with the
			// same error as a missing program.
			if st, err := os.Stat(o.Dir); err != nil || !st.IsDir() {
				return "", &core.Error{Kind: core.KindConfiguration, Param: "mfa_token_provider_kwargs.cwd", Value: safetext.Cut(o.Dir, 128),
					Message: fmt.Sprintf("the MFA token command's cwd %s is not a directory", safetext.Quote(safetext.Cut(o.Dir, 128)))}
			}
		}
		err := cmd.Run()
		var exitErr *exec.ExitError
		switch {
		case ctx.Err() == context.DeadlineExceeded:
			return "", fail(nil, "the MFA token command %s timed out after %s", safetext.Quote(prog), timeout)
		case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
			return "", fail(nil, "the MFA token command %s was not found", safetext.Quote(prog))
		case errors.Is(err, fs.ErrPermission):
			return "", fail(nil, "permission denied running the MFA token command %s", safetext.Quote(prog))
		case errors.As(err, &exitErr):
			return "", fail(nil, "the MFA token command %s failed with exit status %d", safetext.Quote(prog), exitErr.ExitCode())
		case err != nil:
			return "", fail(err, "the MFA token command %s could not run", safetext.Quote(prog))
		}
		tokens := mfaTokenRe.FindAllString(strings.TrimSpace(out.String()), -1)
		if len(tokens) == 0 {
			return "", fail(nil, "the MFA token command %s printed no 6-digit token", safetext.Quote(prog))
		}
		return tokens[len(tokens)-1], nil
	}
}

// limitedBuffer keeps the first max bytes written and discards the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

// Write implements io.Writer, never failing so the command is not killed
// by a broken pipe.
func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
