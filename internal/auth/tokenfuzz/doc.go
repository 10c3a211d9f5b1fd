// Package tokenfuzz holds the fuzz target of auth's token parser. It lives
// apart from package auth because `go test -fuzz` instruments every
// package linked into the test binary, and auth's own tests link both
// database engines (minutes of instrumented compiling); built here, a
// fuzzing run starts in seconds.
package tokenfuzz
