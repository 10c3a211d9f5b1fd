package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"myapi/internal/testdb"
)

// TestConsoleUserActions: revoking sessions, sending a reset email and
// deleting with a confirmation do what the API would see.
func TestConsoleUserActions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		in := start(t, consoleSettings(engine.URL(t)).with("EMAIL_ENABLED", "false"))
		target := register(t, in.URL, "target@example.com", "target", "target-password")
		_, refresh := loginPair(t, in.URL, "target", "target-password")
		root := newBrowserish(t, in.URL)
		if resp, _ := root.signIn("root", "root-password"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		userPath := "/admin/users/" + itoa(target.ID)
		_, page := root.do(http.MethodGet, userPath, nil)
		if !strings.Contains(page, "target@example.com") {
			t.Fatalf("user page:\n%s", page)
		}
		token := csrf(t, page)

		if resp, _ := root.do(http.MethodPost, userPath+"/revoke-sessions", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke sessions: %d", resp.StatusCode)
		}
		if status, body := call(t, http.MethodPost, in.URL+"/auth/refresh", "application/json", "",
			strings.NewReader(`{"refresh_token":"`+refresh+`"}`)); status != http.StatusUnauthorized {
			t.Errorf("refresh after the console revoked the sessions: %d %s, want 401", status, body)
		}
		if resp, _ := root.do(http.MethodPost, userPath+"/send-reset", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("send reset: %d", resp.StatusCode)
		}

		// Deleting needs the username typed back.
		resp, page := root.do(http.MethodGet, userPath+"/delete", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<label for="confirm">`) {
			t.Fatalf("delete confirmation page: %d", resp.StatusCode)
		}
		if resp, _ := root.do(http.MethodPost, userPath+"/delete", url.Values{"csrf": {token}, "confirm": {"someone"}}); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("delete with the wrong confirmation: %d, want 422", resp.StatusCode)
		}
		rootToken := login(t, in.URL, "root", "root-password")
		findUser(t, in.URL, rootToken, "target")
		if resp, _ := root.do(http.MethodPost, userPath+"/delete", url.Values{"csrf": {token}, "confirm": {"target"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		if status, _ := call(t, http.MethodGet, in.URL+"/users/"+itoa(target.ID), "", rootToken, nil); status != http.StatusNotFound {
			t.Errorf("deleted user through the API: %d, want 404", status)
		}

		// Each change is in the audit log, newest first, and in the log.
		_, page = root.do(http.MethodGet, "/admin/audit", nil)
		last := -1
		for _, action := range []string{"user.delete", "user.send_reset", "user.revoke_sessions"} {
			i := strings.Index(page, ">"+action+"<")
			if i < 0 || i < last {
				t.Errorf("audit log: %s missing or out of order", action)
			}
			last = i
			if !strings.Contains(in.Logs.String(), "action="+action) && !strings.Contains(in.Logs.String(), `"action":"`+action+`"`) {
				t.Errorf("no %s line in the server's log", action)
			}
		}
		// An unknown user or action is a 404 page, not an error.
		for _, p := range []string{"/admin/users/999999", "/admin/users/abc", "/admin/items/999999", "/admin/queue/999999", "/admin/nothing"} {
			if resp, _ := root.do(http.MethodGet, p, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
			}
		}
		for _, p := range []string{"/admin/users?page=401", "/admin/items?page=401"} {
			if resp, page := root.do(http.MethodGet, p, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "narrow the search") {
				t.Errorf("GET %s: %d, want 400 asking to narrow the search", p, resp.StatusCode)
			}
		}
		if resp, _ := root.do(http.MethodPost, userPath+"/explode", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown action: %d, want 404", resp.StatusCode)
		}
	})
}
