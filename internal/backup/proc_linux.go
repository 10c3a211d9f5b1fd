package backup

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill cmd if this process dies first (a
// killed backup must not leave pg_dump writing on).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
