package config

import (
	"errors"
	"fmt"
	"net/mail"
	"unicode/utf8"

	"myapi/internal/input"
)

// CheckEmail applies the API's rule for an account email: a bare address
// (no display name), at most 254 bytes.
func CheckEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 {
		return fmt.Errorf("%q is not an email address", email)
	}
	return nil
}

// CheckUsername applies the API's rule for a username: 3-50 characters
// of text (input.TextProblem: anything but NUL and invalid UTF-8).
func CheckUsername(username string) error {
	if msg := input.TextProblem(username); msg != "" {
		return errors.New(msg)
	}
	if n := utf8.RuneCountInString(username); n < 3 || n > 50 {
		return fmt.Errorf("must be 3-50 characters, got %d", n)
	}
	return nil
}

// CheckPassword applies the API's rule for a password: 8-100 characters
// of text (input.TextProblem: anything but NUL and invalid UTF-8). The
// message never repeats the password.
func CheckPassword(password string) error {
	if msg := input.TextProblem(password); msg != "" {
		return errors.New(msg)
	}
	if n := utf8.RuneCountInString(password); n < 8 || n > 100 {
		return fmt.Errorf("must be 8-100 characters, got %d", n)
	}
	return nil
}
