package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"myapi/internal/jobs"
	"myapi/internal/testdb"
	"myapi/internal/testmail"
)

// send is call with extra request headers.
func send(t *testing.T, method, u, token, body string, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", jsonType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// waitJobs waits until the queue has finished every job of kind (none
// left to run) and completed at least n of them, as GET /admin/jobs tells
// a superuser.
func waitJobs(t *testing.T, base, rootToken, kind string, n int64) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		status, body := call(t, http.MethodGet, base+"/admin/jobs", "", rootToken, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /admin/jobs = %d %s", status, body)
		}
		var done, pending int64
		for _, c := range decode[struct {
			Counts []jobs.Count `json:"counts"`
		}](t, body).Counts {
			switch {
			case c.Kind != kind:
			case c.State == "completed":
				done += c.Jobs
			default:
				pending += c.Jobs
			}
		}
		if done >= n && pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s jobs: %d completed, %d pending after %s; want %d completed: %s", kind, done, pending, waitLimit, n, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mailsTo lists the messages to one address whose subject holds subject.
func mailsTo(t *testing.T, mp *testmail.Server, to, subject string) []testmail.Message {
	t.Helper()
	var out []testmail.Message
	for _, m := range mp.Messages(t) {
		for _, rcpt := range m.To {
			if strings.EqualFold(rcpt, to) && strings.Contains(m.Subject, subject) {
				out = append(out, m)
			}
		}
	}
	return out
}

// TestTakeoverChainIsClosed follows an account takeover: a stolen access
// token changes the email, password recovery mails the attacker a reset
// token, the attacker's password logs in and the owner's does not. The
// email does not change without the password, so the chain stops at its
// first step; a change the owner makes tells the old address and kills
// the reset tokens sent there.
func TestTakeoverChainIsClosed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		mp := testmail.Start(t)
		// FRESH_LOGIN_MINUTES=0: every token is as stale as a stolen one
		// found half an hour later.
		in := start(t, mailSettings(engine.URL(t), mp).with("FRESH_LOGIN_MINUTES", "0"))
		root := login(t, in.URL, "root", "root-password-1")
		register(t, in.URL, "alice@example.com", "alice", "alice-password")
		stolen := login(t, in.URL, "alice", "alice-password")

		// 1. The stolen token cannot move the account to the attacker.
		status, body := send(t, http.MethodPut, in.URL+"/users/me", stolen, `{"email":"attacker@evil.test"}`, nil)
		if status != http.StatusForbidden || !strings.Contains(string(body), "current_password") {
			t.Fatalf("PUT /users/me with a stolen token = %d %s, want 403 asking for current_password", status, body)
		}
		status, body = send(t, http.MethodPut, in.URL+"/users/me", stolen, `{"email":"attacker@evil.test","current_password":"guessed-wrong"}`, nil)
		if status != http.StatusForbidden {
			t.Fatalf("PUT /users/me with a wrong password = %d %s, want 403", status, body)
		}
		// 2. Recovery to the attacker's address finds no account.
		if status, body := send(t, http.MethodPost, in.URL+"/auth/password-recovery", "", `{"email":"attacker@evil.test"}`, nil); status != http.StatusAccepted {
			t.Fatalf("password-recovery = %d %s", status, body)
		}
		waitJobs(t, in.URL, root, "password_recovery_email", 1)
		if got := mailsTo(t, mp, "attacker@evil.test", ""); len(got) != 0 {
			t.Fatalf("the attacker got mail: %+v", got)
		}
		// 3. The owner's password still works.
		login(t, in.URL, "alice", "alice-password")

		// The owner asks for a reset, then changes the email with the
		// password: the old address is told, and the token mailed there
		// stops working.
		send(t, http.MethodPost, in.URL+"/auth/password-recovery", "", `{"email":"alice@example.com"}`, nil)
		reset := mp.Wait(t, "alice@example.com", "Reset", waitLimit)
		token := resetTokenRE.FindStringSubmatch(reset.Text)
		if token == nil {
			t.Fatalf("no token in %q", reset.Text)
		}
		status, body = send(t, http.MethodPut, in.URL+"/users/me", stolen, `{"email":"alice@new.example","current_password":"alice-password"}`, nil)
		if status != http.StatusOK || !strings.Contains(string(body), `"email":"alice@new.example"`) {
			t.Fatalf("PUT /users/me with the password = %d %s", status, body)
		}
		notice := mp.Wait(t, "alice@example.com", "email address", waitLimit)
		if !strings.Contains(notice.Text, "alice@new.example") {
			t.Errorf("the notice does not name the new address: %q", notice.Text)
		}
		status, body = send(t, http.MethodPost, in.URL+"/auth/reset-password", "", `{"token":"`+token[1]+`","new_password":"attacker-password"}`, nil)
		if status != http.StatusBadRequest {
			t.Fatalf("reset with a token mailed to the old address = %d %s, want 400", status, body)
		}
		login(t, in.URL, "alice", "alice-password")
	})
}

// TestRecoveryThrottledPerAccount stops an email bomb: five requests
// for one address from five client addresses send one email; every answer
// is the same 202, also for an address nobody has.
func TestRecoveryThrottledPerAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		mp := testmail.Start(t)
		in := start(t, mailSettings(engine.URL(t), mp).with("TRUSTED_PROXIES", "127.0.0.1"))
		root := login(t, in.URL, "root", "root-password-1")
		register(t, in.URL, "bob@example.com", "bob", "bob-password")
		register(t, in.URL, "cat@example.com", "cat", "cat-password")
		mp.Wait(t, "cat@example.com", "Welcome", waitLimit)

		_, want := send(t, http.MethodPost, in.URL+"/auth/password-recovery", "", `{"email":"nobody@example.com"}`, nil)
		for i, email := range []string{"bob@example.com", "BOB@example.com", "bob@EXAMPLE.com", "bob@example.com", "bob@example.com"} {
			status, body := send(t, http.MethodPost, in.URL+"/auth/password-recovery", "", `{"email":"`+email+`"}`,
				map[string]string{"X-Forwarded-For": "198.51.100." + string(rune('1'+i))})
			if status != http.StatusAccepted || string(body) != string(want) {
				t.Fatalf("recovery %d = %d %s, want 202 %s", i+1, status, body, want)
			}
		}
		send(t, http.MethodPost, in.URL+"/auth/password-recovery", "", `{"email":"cat@example.com"}`, nil)
		waitJobs(t, in.URL, root, "password_recovery_email", 7)
		if got := mailsTo(t, mp, "bob@example.com", "Reset"); len(got) != 1 {
			t.Errorf("%d reset emails to bob@example.com, want 1: %+v", len(got), got)
		}
		// Another account is not held back by bob's.
		if got := mailsTo(t, mp, "cat@example.com", "Reset"); len(got) != 1 {
			t.Errorf("%d reset emails to cat@example.com, want 1", len(got))
		}
	})
}
