package main

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"myapi/internal/testdb"
	"myapi/internal/testmail"
)

var resetTokenRE = regexp.MustCompile(`(?m)^([A-Za-z0-9_-]{40,})\s*$`)

func mailSettings(dbURL string, mp *testmail.Server) settings {
	return baseSettings(dbURL).with(
		"SMTP_HOST", mp.Host, "SMTP_PORT", strconv.Itoa(mp.SMTPPort), "SMTP_TLS", "none", "SMTP_FROM", "api@example.com",
		"FIRST_SUPERUSER_EMAIL", "root@example.com", "FIRST_SUPERUSER_USERNAME", "root",
		"FIRST_SUPERUSER_PASSWORD", "root-password-1",
	)
}

const jsonType = "application/json"

// TestBackgroundJobs: registration sends a welcome email and password
// recovery a reset email through a real SMTP server (mailpit); the reset
// token works once and ends every session; superusers see the queue; the
// job metrics are exported.
func TestBackgroundJobs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		mp := testmail.Start(t)
		in := start(t, mailSettings(engine.URL(t), mp))

		status, body := call(t, http.MethodPost, in.URL+"/auth/register", jsonType, "",
			strings.NewReader(`{"email":"alice@example.com","username":"alice","password":"correct horse"}`))
		if status != http.StatusCreated {
			t.Fatalf("register = %d %s", status, body)
		}
		mp.Wait(t, "alice@example.com", "Welcome", 30*time.Second)
		refresh := decode[map[string]any](t, loginBody(t, in.URL, "alice", "correct horse"))["refresh_token"].(string)

		// 202 and the same answer whether or not the account exists.
		_, unknown := call(t, http.MethodPost, in.URL+"/auth/password-recovery", jsonType, "",
			strings.NewReader(`{"email":"nobody@example.com"}`))
		status, known := call(t, http.MethodPost, in.URL+"/auth/password-recovery", jsonType, "",
			strings.NewReader(`{"email":"alice@example.com"}`))
		if status != http.StatusAccepted || string(known) != string(unknown) {
			t.Fatalf("password-recovery = %d %s, unknown account: %s; want 202 and the same body", status, known, unknown)
		}
		reset := mp.Wait(t, "alice@example.com", "Reset", 30*time.Second)
		m := resetTokenRE.FindStringSubmatch(reset.Text)
		if m == nil {
			t.Fatalf("no token in %q", reset.Text)
		}
		resetBody := `{"token":"` + m[1] + `","new_password":"a brand new password"}`

		if status, body := call(t, http.MethodPost, in.URL+"/auth/reset-password", jsonType, "",
			strings.NewReader(`{"token":"`+m[1]+`","new_password":"short"}`)); status != http.StatusUnprocessableEntity {
			t.Errorf("short new password = %d %s, want 422", status, body)
		}
		if status, body := call(t, http.MethodPost, in.URL+"/auth/reset-password", jsonType, "", strings.NewReader(resetBody)); status != http.StatusOK {
			t.Fatalf("reset-password = %d %s", status, body)
		}
		status, body = call(t, http.MethodPost, in.URL+"/auth/reset-password", jsonType, "", strings.NewReader(resetBody))
		if status != http.StatusBadRequest || decode[map[string]any](t, body)["detail"] == nil {
			t.Errorf("second use = %d %s, want 400 with a detail", status, body)
		}
		if status, body := call(t, http.MethodPost, in.URL+"/auth/reset-password", jsonType, "",
			strings.NewReader(`{"token":"not-a-token","new_password":"whatever123"}`)); status != http.StatusBadRequest {
			t.Errorf("unknown token = %d %s, want 400", status, body)
		}
		if status, body := call(t, http.MethodPost, in.URL+"/auth/refresh", jsonType, "",
			strings.NewReader(`{"refresh_token":"`+refresh+`"}`)); status != http.StatusUnauthorized {
			t.Errorf("refresh after the reset = %d %s, want 401 (sessions revoked)", status, body)
		}
		alice := login(t, in.URL, "alice", "a brand new password")

		// The queue, for superusers only.
		if status, _ := call(t, http.MethodGet, in.URL+"/admin/jobs", "", alice, nil); status != http.StatusForbidden {
			t.Errorf("GET /admin/jobs as a user = %d, want 403", status)
		}
		root := login(t, in.URL, "root", "root-password-1")
		status, body = call(t, http.MethodGet, in.URL+"/admin/jobs", "", root, nil)
		if status != http.StatusOK || !strings.Contains(string(body), `"kind":"welcome_email"`) ||
			!strings.Contains(string(body), `"kind":"password_recovery_email"`) {
			t.Errorf("GET /admin/jobs = %d %s", status, body)
		}
		_, metrics := call(t, http.MethodGet, in.URL+"/metrics", "", "", nil)
		for _, want := range []string{`myapi_jobs{kind="welcome_email",state=`, `myapi_job_duration_seconds_count{kind="welcome_email",outcome="ok"} 1`} {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("/metrics lacks %s:\n%s", want, grepLines(string(metrics), "myapi_job"))
			}
		}
	})
}

func loginBody(t *testing.T, base, username, password string) []byte {
	t.Helper()
	status, body := call(t, http.MethodPost, base+"/auth/login", "application/x-www-form-urlencoded", "",
		strings.NewReader("username="+username+"&password="+strings.ReplaceAll(password, " ", "+")))
	if status != http.StatusOK {
		t.Fatalf("login %s = %d %s", username, status, body)
	}
	return body
}

// TestWorkerCommand: with JOBS_WORKERS=0 serve only enqueues; `myapi
// worker` sends the email, and stops cleanly.
func TestWorkerCommand(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		mp := testmail.Start(t)
		env := mailSettings(engine.URL(t), mp).with("JOBS_WORKERS", "0")
		in := start(t, env)
		if status, body := call(t, http.MethodPost, in.URL+"/auth/register", jsonType, "",
			strings.NewReader(`{"email":"erin@example.com","username":"erin","password":"correct horse"}`)); status != http.StatusCreated {
			t.Fatalf("register = %d %s", status, body)
		}
		time.Sleep(1500 * time.Millisecond)
		if msgs := mp.Messages(t); len(msgs) != 0 {
			t.Fatalf("emails sent with JOBS_WORKERS=0: %+v", msgs)
		}
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"worker"}, env.getenv, strings.NewReader(""), logs, logs) }()
		mp.Wait(t, "erin@example.com", "Welcome", 30*time.Second)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker returned %v\n%s", err, logs)
			}
		case <-time.After(waitLimit):
			t.Fatalf("worker did not stop\n%s", logs)
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestEmailsLoggedWithoutSMTP: the embedded default has no SMTP server; the
// welcome email is written to the log instead, end to end.
func TestEmailsLoggedWithoutSMTP(t *testing.T) {
	in := start(t, baseSettings(testdb.Engines(t)[0].URL(t)))
	if line := registerForLoggedEmail(t, in, "fay"); !strings.Contains(line, "fay@example.com") || !strings.Contains(line, "Welcome") {
		t.Errorf("logged email = %s", line)
	}
}

// registerForLoggedEmail registers name and returns the log lines of the
// welcome email that was logged instead of sent.
func registerForLoggedEmail(t *testing.T, in *instance, name string) string {
	t.Helper()
	if status, body := call(t, http.MethodPost, in.URL+"/auth/register", jsonType, "",
		strings.NewReader(`{"email":"`+name+`@example.com","username":"`+name+`","password":"correct horse"}`)); status != http.StatusCreated {
		t.Fatalf("register = %d %s", status, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(in.Logs.String(), "email not sent") {
		if time.Now().After(deadline) {
			t.Fatalf("no logged email\n%s", in.Logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return grepLines(in.Logs.String(), "email not sent")
}

// TestEmailOffInProduction: production starts without sending email only
// when told so (EMAIL_ENABLED=false); then nothing reaches the SMTP server
// even though one is configured, and the log says an email was not sent,
// without its body (a reset token is a secret).
func TestEmailOffInProduction(t *testing.T) {
	mp := testmail.Start(t)
	env := mailSettings(testdb.Engines(t)[0].URL(t), mp).with(
		"ENVIRONMENT", "production", "SECRET_KEY", strings.Repeat("p", 32), "EMAIL_ENABLED", "false")
	in := start(t, env)
	line := registerForLoggedEmail(t, in, "gus")
	if !strings.Contains(line, "gus@example.com") || !strings.Contains(line, `"body_bytes"`) || strings.Contains(line, `"body"`) {
		t.Errorf("logged email = %s; want the recipient and body_bytes, never the body", line)
	}
	if !strings.Contains(in.Logs.String(), "EMAIL_ENABLED=false") {
		t.Errorf("the start-up log does not say email is off:\n%s", grepLines(in.Logs.String(), "email"))
	}
	if msgs := mp.Messages(t); len(msgs) != 0 {
		t.Errorf("EMAIL_ENABLED=false sent %d email(s): %+v", len(msgs), msgs)
	}
}
