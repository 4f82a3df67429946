//go:build unix

package processcreds

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup runs cmd in a process group of its own and, when its
// context ends, kills the whole group, so that a command that started
// children (a shell script, say) cannot outlive its timeout.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
