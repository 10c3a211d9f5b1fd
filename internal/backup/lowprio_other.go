//go:build !linux

package backup

// atLowPriority runs work as it is: thread priorities are Linux's here.
func atLowPriority(work func() error) error { return work() }
