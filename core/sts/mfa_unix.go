//go:build unix

package sts

import (
	"os/exec"
	"syscall"
)

// killProcessGroup runs cmd in its own process group (in a new session
// of its own with newSession, subprocess's start_new_session) and, when
// its context ends, kills the whole group, so that a token command that
// started children (a shell script, say) cannot outlive its timeout.
func killProcessGroup(cmd *exec.Cmd, newSession bool) {
	// a session leader also leads a new process group of its own
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !newSession, Setsid: newSession}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
