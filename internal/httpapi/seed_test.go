package httpapi_test

import (
	"net/http"
	"testing"
)

// The seed's own two tests (tests/test_auth.py), ported.

func TestSeedRegister(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		res := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/auth/register", JSON: map[string]any{
			"email": "test@example.com", "username": "testuser", "password": "password123",
		}})
		data := res.JSON(t)
		if data["email"] != "test@example.com" || data["username"] != "testuser" {
			t.Errorf("got %v", data)
		}
		if _, ok := data["id"]; !ok {
			t.Errorf("no id in %v", data)
		}
	})
}

func TestSeedLogin(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/auth/register", JSON: map[string]any{
			"email": "test@example.com", "username": "testuser", "password": "password123",
		}})
		data := e.expect(t, http.StatusOK, loginRequest("testuser", "password123")).JSON(t)
		for _, k := range []string{"access_token", "refresh_token"} {
			if s, _ := data[k].(string); s == "" {
				t.Errorf("no %s in %v", k, data)
			}
		}
		if data["token_type"] != "bearer" {
			t.Errorf("token_type = %v, want bearer", data["token_type"])
		}
	})
}
