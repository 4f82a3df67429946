//go:build unix

package core

import (
	"os/exec"
	"syscall"
)

// killProcessGroup runs cmd in its own process group and, when its context
// ends, kills the whole group, so that a token command that started
// children (a shell script, say) cannot outlive its timeout.
func killProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
