//go:build !unix

package sts

import "os/exec"

// killProcessGroup leaves cmd as it is: off Unix only the command itself
// is killed when its context ends.
func killProcessGroup(cmd *exec.Cmd, newSession bool) {}
