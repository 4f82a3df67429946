// Package command runs an external command for gobrs: the MFA token
// command of core/sts and the credential_process command of
// core/processcreds. Split turns a command line into arguments without a
// shell; Run runs them with a timeout, in a process group of its own that
// is killed as a whole when the run ends early, with a bound on how much
// standard output is kept, and classifies what happened in a Result that
// each caller turns into its own messages.
package command

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"time"
)

// DefaultMaxOutput is the bound on standard output when Options.MaxOutput
// is not set.
const DefaultMaxOutput = 64 << 10

// waitDelay bounds how long Run waits for the command's output after the
// command has exited or been killed: a descendant that left the process
// group may still hold the pipe.
const waitDelay = time.Second

// Options configure Run.
type Options struct {
	// Timeout bounds the run; the command's process group is killed when
	// it passes. Zero means no bound but the context's.
	Timeout time.Duration
	// MaxOutput bounds the standard output kept, in bytes;
	// DefaultMaxOutput when zero or negative. A command that prints more
	// is killed with its process group and the Result is Overflow.
	MaxOutput int
	// Dir is the working directory; this process's when empty.
	Dir string
	// Env is the environment ("KEY=value"); this process's when nil.
	Env []string
	// Stdin is read as the command's standard input; none when nil.
	Stdin io.Reader
	// Stderr receives the command's standard error; discarded when nil.
	Stderr io.Writer
	// NewSession runs the command as the leader of a new session (as
	// Python's subprocess start_new_session does) instead of only a new
	// process group. Either way the group is the command's own.
	NewSession bool
}

// Status is how a run ended.
type Status int

// The statuses of a Result.
const (
	// OK: the command exited with status 0 within its bounds.
	OK Status = iota
	// TimedOut: Options.Timeout passed; the process group was killed.
	TimedOut
	// Cancelled: the context ended first; the process group was killed
	// and Result.Err is the context's error.
	Cancelled
	// NotFound: the program (or its interpreter) does not exist.
	NotFound
	// PermissionDenied: the program cannot be executed (not executable,
	// a directory, ...).
	PermissionDenied
	// BadDir: Options.Dir is not a directory; nothing was run.
	BadDir
	// Exited: the command exited with a non-zero status, Result.ExitCode
	// (-1 when a signal ended it).
	Exited
	// Overflow: the command printed more than Options.MaxOutput bytes; it
	// was killed with its process group.
	Overflow
	// Failed: the command could not be run or waited for, for another
	// reason: Result.Err.
	Failed
)

// Result is the outcome of Run.
type Result struct {
	// Status classifies the outcome.
	Status Status
	// ExitCode is the exit status when Status is Exited.
	ExitCode int
	// Err is the underlying error when Status is Cancelled or Failed.
	Err error
	// Stdout is the standard output kept: all of it when Status is OK, at
	// most Options.MaxOutput bytes in any case.
	Stdout []byte
}

// Run runs argv (argv[0] is looked up in PATH when it has no slash)
// without a shell, as Options say, and waits for it to end.
func Run(ctx context.Context, argv []string, o Options) Result {
	if len(argv) == 0 {
		return Result{Status: Failed, Err: errors.New("command: no program to run")}
	}
	if o.Dir != "" {
		// Checked first: a missing directory fails the start with the same
		// error as a missing program.
		if st, err := os.Stat(o.Dir); err != nil || !st.IsDir() {
			return Result{Status: BadDir}
		}
	}
	timeoutCtx := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		timeoutCtx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	runCtx, stop := context.WithCancel(timeoutCtx)
	defer stop()

	max := o.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	out := &limitedBuffer{max: max, onOverflow: stop}
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	cmd.Dir = o.Dir
	cmd.Env = o.Env
	cmd.Stdin = o.Stdin
	cmd.Stdout = out
	cmd.Stderr = o.Stderr
	cmd.WaitDelay = waitDelay
	ownProcessGroup(cmd, o.NewSession)
	err := cmd.Run()

	r := Result{Stdout: out.buf.Bytes()}
	var exitErr *exec.ExitError
	switch {
	case err != nil && ctx.Err() != nil:
		r.Status, r.Err = Cancelled, ctx.Err()
	case out.over:
		r.Status = Overflow
	case err == nil:
		r.Status = OK
	case timeoutCtx.Err() != nil:
		r.Status = TimedOut
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		r.Status = NotFound
	case errors.Is(err, fs.ErrPermission):
		r.Status = PermissionDenied
	case errors.As(err, &exitErr):
		r.Status, r.ExitCode = Exited, exitErr.ExitCode()
	default:
		r.Status, r.Err = Failed, err
	}
	return r
}

// limitedBuffer keeps the first max bytes written, notes an overflow and
// calls onOverflow once at the first byte beyond max. The buffer is a
// field, not embedded: an embedded bytes.Buffer would lend its ReadFrom to
// io.Copy, which would then bypass Write and its bound.
type limitedBuffer struct {
	buf        bytes.Buffer
	max        int
	over       bool
	onOverflow func()
}

// Write implements io.Writer. It never fails, so that the command is not
// ended by a broken pipe before it is killed.
func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	if len(p) > room && !b.over {
		b.over = true
		if b.onOverflow != nil {
			b.onOverflow()
		}
	}
	return len(p), nil
}
