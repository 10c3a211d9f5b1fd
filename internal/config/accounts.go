package config

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
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

// CheckUsername applies the API's rule for a username: 3-50 characters,
// no control characters.
func CheckUsername(username string) error {
	if n := len([]rune(username)); n < 3 || n > 50 {
		return fmt.Errorf("must be 3-50 characters, got %d", n)
	}
	if strings.IndexFunc(username, unicode.IsControl) >= 0 {
		return errors.New("must not contain control characters")
	}
	return nil
}

// CheckPassword applies the API's rule for a password: 8-100 characters.
// The message never repeats the password.
func CheckPassword(password string) error {
	if n := len([]rune(password)); n < 8 || n > 100 {
		return fmt.Errorf("must be 8-100 characters, got %d", n)
	}
	if strings.IndexFunc(password, unicode.IsControl) >= 0 {
		return errors.New("must not contain control characters")
	}
	return nil
}
