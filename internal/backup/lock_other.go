//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package backup

// fileLock cannot lock on this system: a restore there cannot tell whether
// a server uses the database, and the operator must stop it first.
func fileLock(string, bool) (release func(), held bool, err error) {
	return func() {}, false, nil
}
