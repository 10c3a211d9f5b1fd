package config

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
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
// of text (checkText).
func CheckUsername(username string) error {
	if err := checkText(username); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(username); n < 3 || n > 50 {
		return fmt.Errorf("must be 3-50 characters, got %d", n)
	}
	return nil
}

// CheckPassword applies the API's rule for a password: 8-100 characters
// of text (checkText). The message never repeats the password.
func CheckPassword(password string) error {
	if err := checkText(password); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(password); n < 8 || n > 100 {
		return fmt.Errorf("must be 8-100 characters, got %d", n)
	}
	return nil
}

// checkText applies the API's rule for every text field: any Unicode,
// control characters included, as the seed accepts, except NUL, which
// PostgreSQL cannot store; and the bytes must be UTF-8.
func checkText(s string) error {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return errors.New(`must not contain the NUL character (\u0000)`)
	case !utf8.ValidString(s):
		return errors.New("must be valid UTF-8")
	}
	return nil
}
