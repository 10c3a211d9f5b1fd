// Package mail sends the application's emails: over SMTP (wneessen/go-mail)
// when SMTP_HOST is set, or to the log otherwise, so the embedded default
// works end to end without a mail server.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text email to one recipient.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Sender delivers messages. An error means the message may not have been
// delivered; the caller (a job) retries.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTPConfig is where and how to send.
type SMTPConfig struct {
	Host     string
	Port     int
	User     string
	Password string
	From     string
	// TLS is "starttls" (required), "tls" (implicit) or "none".
	TLS string
	// Timeout bounds the connection and each SMTP command (default 15s).
	Timeout time.Duration
}

// New returns the SMTP sender cfg describes, or a LogSender writing to log
// when cfg.Host is empty (showing bodies if showBody).
func New(cfg SMTPConfig, log *slog.Logger, showBody bool) (Sender, error) {
	if cfg.Host == "" {
		return LogSender{Log: log, ShowBody: showBody}, nil
	}
	return NewSMTP(cfg)
}

// SMTP sends through an SMTP server, one connection per message.
type SMTP struct {
	cfg  SMTPConfig
	opts []gomail.Option
}

// NewSMTP checks cfg and returns an SMTP sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout)}
	switch cfg.TLS {
	case "", "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("SMTP_TLS: want starttls, tls or none, got %q", cfg.TLS)
	}
	if cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.User), gomail.WithPassword(cfg.Password))
	}
	// Check the options once, so a bad setting fails at start, not per job.
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("SMTP: %w", err)
	}
	return &SMTP{cfg: cfg, opts: opts}, nil
}

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("SMTP_FROM: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	c, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send email via %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

// LogSender writes messages to the log instead of sending them: the
// default without SMTP_HOST. The body may carry a secret (a password-reset
// token), so it is logged only with ShowBody (development), else only its
// size.
type LogSender struct {
	Log      *slog.Logger
	ShowBody bool
}

// Send implements Sender.
func (l LogSender) Send(_ context.Context, m Message) error {
	if l.Log == nil {
		return errors.New("mail: no logger")
	}
	if l.ShowBody {
		l.Log.Info("email not sent (SMTP_HOST is not set)", "to", m.To, "subject", m.Subject, "body", m.Body)
		return nil
	}
	l.Log.Info("email not sent (SMTP_HOST is not set)", "to", m.To, "subject", m.Subject, "body_bytes", len(m.Body))
	return nil
}
