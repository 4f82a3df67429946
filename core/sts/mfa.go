package sts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/command"
	"github.com/gobrs/gobrs/internal/safetext"
)

// DefaultMFACommandTimeout bounds an MFA token command that sets no
// timeout, as in boto3-refresh-session.
const DefaultMFACommandTimeout = 30 * time.Second

// maxMFAOutput bounds how much of a token command's standard output is read.
const maxMFAOutput = command.DefaultMaxOutput

// mfaTokenRe finds 6-digit tokens standing alone in a command's output.
var mfaTokenRe = regexp.MustCompile(`\b[0-9]{6}\b`)

// decodeMFACommand reads mfa_token_provider: a command line (split by
// command.Split's rules: quotes and backslashes, no shell, nothing
// expanded) or an array of arguments; given but empty, it is an empty
// slice. Bad quoting is a KindConfiguration error naming param (the text
// is not echoed); another JSON type a validation error.
func decodeMFACommand(param string, raw []byte) ([]string, error) {
	argv, err := command.FromJSON(raw)
	switch {
	case errors.Is(err, command.ErrNotCommand):
		return nil, core.NewValidationError(param, "", "%s must be a command string or an array of strings", param)
	case err != nil:
		return nil, core.NewConfigurationError(param, "the %s command has %v (check its quoting)", param, err)
	}
	return argv, nil
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
// Standard output is read up to maxMFAOutput bytes: a command that prints
// more is stopped and fails, as a credential_process command does.
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
	opts := command.Options{Timeout: timeout, MaxOutput: maxMFAOutput, Dir: o.Dir, Env: o.Env, NewSession: o.StartNewSession}
	// Stderr goes nowhere: it may echo the code and is never shown.
	return func(ctx context.Context) (string, error) {
		run := opts
		if o.Input != "" {
			run.Stdin = strings.NewReader(o.Input)
		}
		r := command.Run(ctx, argv, run)
		switch r.Status {
		case command.OK:
		case command.TimedOut:
			return "", fail(nil, "the MFA token command %s timed out after %s", safetext.Quote(prog), timeout)
		case command.Cancelled:
			return "", &core.Error{Kind: core.KindCredential, Param: "mfa_token_provider", Value: prog, Err: r.Err,
				Message: fmt.Sprintf("the MFA token command %s was cancelled", safetext.Quote(prog))}
		case command.NotFound:
			return "", fail(nil, "the MFA token command %s was not found", safetext.Quote(prog))
		case command.PermissionDenied:
			return "", fail(nil, "permission denied running the MFA token command %s", safetext.Quote(prog))
		case command.BadDir:
			return "", &core.Error{Kind: core.KindConfiguration, Param: "mfa_token_provider_kwargs.cwd", Value: safetext.Cut(o.Dir, 128),
				Message: fmt.Sprintf("the MFA token command's cwd %s is not a directory", safetext.Quote(safetext.Cut(o.Dir, 128)))}
		case command.Exited:
			return "", fail(nil, "the MFA token command %s failed with exit status %d", safetext.Quote(prog), r.ExitCode)
		case command.Overflow:
			return "", fail(nil, "the MFA token command %s printed more than %d bytes", safetext.Quote(prog), maxMFAOutput)
		default:
			return "", fail(r.Err, "the MFA token command %s could not run", safetext.Quote(prog))
		}
		tokens := mfaTokenRe.FindAllString(strings.TrimSpace(string(r.Stdout)), -1)
		if len(tokens) == 0 {
			return "", fail(nil, "the MFA token command %s printed no 6-digit token", safetext.Quote(prog))
		}
		return tokens[len(tokens)-1], nil
	}
}
