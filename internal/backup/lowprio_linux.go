package backup

import (
	"runtime"
	"syscall"
)

// niceBackup is the scheduling priority backups run at: below requests,
// which the kernel then runs first when both want a core.
const niceBackup = 10

// atLowPriority runs work on an OS thread of its own at niceBackup. The
// SQLite driver works on the calling thread, and programs it starts
// (pg_dump, pg_restore) inherit the thread's priority. The thread is never
// unlocked: it ends with the goroutine, and its priority with it.
func atLowPriority(work func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), niceBackup)
		errc <- work()
	}()
	return <-errc
}
