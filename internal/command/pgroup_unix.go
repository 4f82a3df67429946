//go:build unix

package command

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// ownProcessGroup runs cmd in a process group of its own (in a new session
// of its own with newSession; a session leader also leads a new process
// group) and, when its context ends, kills the whole group, so that a
// command that started children (a shell script, say) cannot outlive it.
func ownProcessGroup(cmd *exec.Cmd, newSession bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !newSession, Setsid: newSession}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone // the group is gone: Wait reports the exit as it is
		}
		return err
	}
}
