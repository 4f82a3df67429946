package command

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary run as "TEST helper MODE [ARG]" is the command under
// test; MODE chooses what it does.
func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == "helper" {
		os.Exit(helper(os.Args[2], os.Args[3:]))
	}
	// A -race binary sleeps a second before it exits (GORACE's
	// atexit_sleep_ms): not the helpers.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	os.Exit(m.Run())
}

func helper(mode string, args []string) int {
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	switch mode {
	case "print": // ARG bytes of 'x'
		n, _ := strconv.Atoi(arg)
		os.Stdout.Write(bytes.Repeat([]byte("x"), n))
	case "forever":
		line := bytes.Repeat([]byte("123456\n"), 1024)
		for {
			if _, err := os.Stdout.Write(line); err != nil {
				return 1
			}
		}
	case "exit":
		n, _ := strconv.Atoi(arg)
		fmt.Print("some output")
		return n
	case "hang":
		time.Sleep(time.Hour)
	case "env":
		fmt.Print(os.Getenv(arg))
	case "cwd":
		wd, _ := os.Getwd()
		fmt.Print(wd)
	case "stdin":
		io.Copy(os.Stdout, os.Stdin)
	case "stderr":
		fmt.Fprint(os.Stderr, "on stderr")
		fmt.Print("on stdout")
	case "grandchild": // start a child that hangs, write its pid to ARG, hang
		c := exec.Command(os.Args[0], "helper", "hang")
		c.Stdout = os.Stdout
		if err := c.Start(); err != nil {
			return 2
		}
		os.WriteFile(arg+".tmp", []byte(strconv.Itoa(c.Process.Pid)), 0o600)
		os.Rename(arg+".tmp", arg)
		time.Sleep(time.Hour)
	}
	return 0
}

func self(mode string, args ...string) []string {
	return append([]string{os.Args[0], "helper", mode}, args...)
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.txt")
	os.WriteFile(plain, []byte("123456\n"), 0o600)
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte{0x7f, 'E', 'L', 'F', 0, 0, 0}, 0o700)
	t.Setenv("GOBRS_COMMAND_TEST", "inherited")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name     string
		ctx      context.Context
		argv     []string
		opts     Options
		status   Status
		stdout   string
		exitCode int
	}{
		{name: "ok", argv: self("print", "6"), status: OK, stdout: "xxxxxx"},
		{name: "exactly the bound", argv: self("print", "10"), opts: Options{MaxOutput: 10}, status: OK, stdout: "xxxxxxxxxx"},
		{name: "one byte over", argv: self("print", "11"), opts: Options{MaxOutput: 10}, status: Overflow, stdout: "xxxxxxxxxx"},
		{name: "exit status", argv: self("exit", "3"), status: Exited, exitCode: 3, stdout: "some output"},
		{name: "times out", argv: self("hang"), opts: Options{Timeout: 300 * time.Millisecond}, status: TimedOut},
		{name: "cancelled", ctx: cancelled, argv: self("print", "6"), status: Cancelled},
		{name: "not on PATH", argv: []string{"gobrs-no-such-command-xyz"}, status: NotFound},
		{name: "no such file", argv: []string{filepath.Join(dir, "missing")}, status: NotFound},
		{name: "not executable", argv: []string{plain}, status: PermissionDenied},
		{name: "a directory", argv: []string{dir}, status: PermissionDenied},
		{name: "not a program", argv: []string{garbage}, status: Failed},
		{name: "no argv", argv: nil, status: Failed},
		{name: "missing dir", argv: self("cwd"), opts: Options{Dir: filepath.Join(dir, "nowhere")}, status: BadDir},
		{name: "dir is a file", argv: self("cwd"), opts: Options{Dir: plain}, status: BadDir},
		{name: "dir", argv: self("cwd"), opts: Options{Dir: dir}, status: OK, stdout: dir},
		{name: "env inherited", argv: self("env", "GOBRS_COMMAND_TEST"), status: OK, stdout: "inherited"},
		{name: "env replaced", argv: self("env", "GOBRS_COMMAND_TEST"), opts: Options{Env: []string{"GOBRS_COMMAND_TEST=given"}}, status: OK, stdout: "given"},
		{name: "env empty", argv: self("env", "GOBRS_COMMAND_TEST"), opts: Options{Env: []string{}}, status: OK, stdout: ""},
		{name: "stdin", argv: self("stdin"), opts: Options{Stdin: strings.NewReader("654321\n")}, status: OK, stdout: "654321\n"},
		{name: "no stdin", argv: self("stdin"), status: OK, stdout: ""},
		{name: "stderr apart", argv: self("stderr"), status: OK, stdout: "on stdout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			if tt.opts.Timeout == 0 {
				tt.opts.Timeout = time.Minute // a -race test binary starts slowly on a busy machine
			}
			r := Run(ctx, tt.argv, tt.opts)
			if r.Status != tt.status || r.ExitCode != tt.exitCode {
				t.Fatalf("status %v exit %d err %v; want %v exit %d", r.Status, r.ExitCode, r.Err, tt.status, tt.exitCode)
			}
			if got := string(r.Stdout); tt.stdout != "" && got != tt.stdout {
				t.Fatalf("stdout %q; want %q", got, tt.stdout)
			}
			if (r.Status == Failed || r.Status == Cancelled) != (r.Err != nil) {
				t.Fatalf("Err %v with status %v", r.Err, r.Status)
			}
		})
	}
}

func TestRunStderr(t *testing.T) {
	var stderr bytes.Buffer
	r := Run(context.Background(), self("stderr"), Options{Stderr: &stderr, Timeout: time.Minute})
	if r.Status != OK || stderr.String() != "on stderr" || string(r.Stdout) != "on stdout" {
		t.Fatalf("status %v, stdout %q, stderr %q", r.Status, r.Stdout, stderr.String())
	}
}

// TestRunOutputBounded: a command printing 10 MB, or printing without end,
// is stopped at the bound and reported as Overflow, with the first
// MaxOutput bytes kept. The timeout is long: were the command not stopped
// at the bound, the run would end TimedOut after a minute.
func TestRunOutputBounded(t *testing.T) {
	for _, argv := range [][]string{self("print", strconv.Itoa(10<<20)), self("forever")} {
		r := Run(context.Background(), argv, Options{Timeout: time.Minute})
		if r.Status != Overflow || len(r.Stdout) != DefaultMaxOutput {
			t.Fatalf("%s: status %v, %d bytes kept; want Overflow and %d", argv[3:], r.Status, len(r.Stdout), DefaultMaxOutput)
		}
	}
}

// zeros reads as an endless run of '0'.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

// TestLimitedBuffer: io.Copy into the buffer (as os/exec copies a
// command's output) keeps max bytes and allocates little, however much is
// copied: the buffer offers no ReadFrom through which io.Copy could
// bypass Write.
func TestLimitedBuffer(t *testing.T) {
	const max, total = 64 << 10, 10 << 20
	var calls int
	b := &limitedBuffer{max: max, onOverflow: func() { calls++ }}
	if _, ok := any(b).(io.ReaderFrom); ok {
		t.Fatal("limitedBuffer implements io.ReaderFrom")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n, err := io.Copy(b, io.LimitReader(zeros{}, total))
	runtime.ReadMemStats(&after)
	if err != nil || n != total {
		t.Fatalf("copied %d, %v", n, err)
	}
	if b.buf.Len() != max || !b.over || calls != 1 {
		t.Fatalf("kept %d bytes, over %v, onOverflow called %d times", b.buf.Len(), b.over, calls)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > total/4 {
		t.Fatalf("copying %d bytes allocated %d", total, alloc)
	}
}
