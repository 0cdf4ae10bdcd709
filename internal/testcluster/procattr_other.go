//go:build unix && !linux

package testcluster

import "syscall"

// sysProcAttr puts the server in its own process group so Stop can signal the
// whole group. Without Pdeathsig a crashed test binary may leave servers
// behind on these systems.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
