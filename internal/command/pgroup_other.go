//go:build !unix

package command

import "os/exec"

// ownProcessGroup leaves cmd as it is: process groups are Unix's, and off
// Unix only the command itself is killed when its context ends.
func ownProcessGroup(*exec.Cmd, bool) {}
