//go:build !linux

package auth

// onLowPriorityThread runs f; only Linux lowers a single thread's priority.
func onLowPriorityThread(f func()) { f() }
