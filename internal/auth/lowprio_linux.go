//go:build linux

package auth

import (
	"runtime"
	"syscall"
)

// onLowPriorityThread runs f on an OS thread of its own with a lowered
// scheduling priority (nice 10), so that while hashes keep the cores busy
// the kernel still runs request threads first. The thread is never unlocked:
// it ends with the goroutine, and its priority with it.
func onLowPriorityThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 10)
		f()
	}()
	<-done
}
