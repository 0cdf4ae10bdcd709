package testcluster

import "syscall"

// sysProcAttr puts the server in its own process group (so Stop can signal
// the whole group) and has the kernel kill it if the test binary dies without
// running Stop, e.g. on a test timeout panic.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
