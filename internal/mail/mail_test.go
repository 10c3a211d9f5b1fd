package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"myapi/internal/mail"
)

func TestLogSenderHidesBodyUnlessAsked(t *testing.T) {
	msg := mail.Message{To: "a@example.com", Subject: "Reset", Body: "secret-token-123"}
	for _, show := range []bool{false, true} {
		var buf bytes.Buffer
		s, err := mail.New(mail.SMTPConfig{Password: "smtp-secret"}, slog.New(slog.NewTextHandler(&buf, nil)), show)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, "a@example.com") || !strings.Contains(out, "Reset") {
			t.Errorf("log lacks recipient or subject: %s", out)
		}
		if strings.Contains(out, "secret-token-123") != show {
			t.Errorf("ShowBody=%v, log = %s", show, out)
		}
		if strings.Contains(out, "smtp-secret") {
			t.Errorf("SMTP password logged: %s", out)
		}
	}
}

func TestNewSMTPRejectsUnknownTLS(t *testing.T) {
	if _, err := mail.NewSMTP(mail.SMTPConfig{Host: "localhost", Port: 25, TLS: "maybe"}); err == nil {
		t.Error("SMTP_TLS=maybe accepted")
	}
	for _, mode := range []string{"starttls", "tls", "none"} {
		if _, err := mail.NewSMTP(mail.SMTPConfig{Host: "localhost", Port: 25, TLS: mode, User: "u", Password: "p"}); err != nil {
			t.Errorf("SMTP_TLS=%s: %v", mode, err)
		}
	}
}
