//go:build linux

package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobrs/gobrs/internal/testutil"
)

// stat returns the fields of /proc/PID/stat after the command name (field
// 3 on), or nil when the process is gone.
func stat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

func TestRunProcessGroup(t *testing.T) {
	// field 5 of /proc/PID/stat is the process group, 6 the session
	const script = `read -r _ _ _ _ pgrp sid _ < /proc/$$/stat; echo "$(( pgrp == $$ )) $(( sid == $$ ))"`
	for _, tt := range []struct {
		newSession bool
		want       string
	}{{false, "1 0\n"}, {true, "1 1\n"}} {
		r := Run(context.Background(), []string{"/bin/sh", "-c", script}, Options{NewSession: tt.newSession, Timeout: time.Minute})
		if r.Status != OK || string(r.Stdout) != tt.want {
			t.Errorf("NewSession %v: status %v, leads group and session %q; want %q", tt.newSession, r.Status, r.Stdout, tt.want)
		}
	}
}

// TestRunKillsGroup: when the run ends early, the command's children die
// with it.
func TestRunKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() { done <- Run(ctx, self("grandchild", pidFile), Options{Timeout: time.Hour}) }()
	var pid int
	testutil.WaitFor(t, "the command's child", func() bool {
		b, err := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(string(b))
		return err == nil
	})
	cancel()
	if r := <-done; r.Status != Cancelled || r.Err != context.Canceled {
		t.Fatalf("status %v, err %v", r.Status, r.Err)
	}
	testutil.WaitFor(t, "the child to be killed", func() bool {
		f := stat(pid)
		return f == nil || f[0] == "Z" || syscall.Kill(pid, 0) != nil
	})
}
