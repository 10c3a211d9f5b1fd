//go:build !linux

package backup

import "os/exec"

// dieWithParent cannot be arranged here: a killed backup's pg_dump runs
// to its end (into the partial file, which is never renamed).
func dieWithParent(*exec.Cmd) {}

// holdThread is not needed where dieWithParent does nothing.
func holdThread() (release func()) { return func() {} }
