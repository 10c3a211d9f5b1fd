package backup

import (
	"os/exec"
	"runtime"
	"syscall"
)

// dieWithParent has the kernel kill cmd if this process dies first (a
// killed backup must not leave pg_dump writing on).
//
// The kernel's "parent" is the OS thread that starts cmd, not the process,
// and the Go runtime ends a thread when a goroutine locked to it exits
// (bcrypt's and backups' low-priority threads do): a child started from a
// shared thread could be killed mid-run. So the goroutine that starts cmd
// must hold its thread until cmd is waited for: see holdThread.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// holdThread keeps the calling goroutine on its OS thread, and every
// other goroutine off it, until release is called: children it starts
// with dieWithParent live exactly as long as they should.
func holdThread() (release func()) {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
