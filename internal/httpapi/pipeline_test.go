package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"myapi/internal/testdb"
)

func TestRequestPipeline(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{maxBodyBytes: 4096})
	token, id := e.user(t, "nina")

	t.Run("request id kept or made", func(t *testing.T) {
		res := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: token, Header: map[string]string{"X-Request-ID": "abc-123"}})
		if got := res.Header.Get("X-Request-ID"); got != "abc-123" {
			t.Errorf("X-Request-ID = %q", got)
		}
		for _, bad := range []string{"", strings.Repeat("x", 200), "has space"} {
			res := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/health", Header: map[string]string{"X-Request-ID": bad}})
			if got := res.Header.Get("X-Request-ID"); got == "" || got == bad {
				t.Errorf("X-Request-ID for %q = %q, want a fresh one", bad, got)
			}
		}
	})
	t.Run("one log line per request, with route, status and user", func(t *testing.T) {
		var found bool
		for _, line := range strings.Split(e.Logs.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil || rec["request_id"] != "abc-123" {
				continue
			}
			found = true
			if rec["msg"] != "request" || rec["route"] != "/users/me" || rec["status"] != float64(200) || rec["user_id"] != float64(id) || rec["method"] != "GET" {
				t.Errorf("log line %v", rec)
			}
			if _, ok := rec["duration_ms"]; !ok {
				t.Errorf("no duration in %v", rec)
			}
		}
		if !found {
			t.Errorf("no log line for request abc-123:\n%s", e.Logs.String())
		}
		if strings.Contains(e.Logs.String(), token) {
			t.Error("the access token appears in the logs")
		}
	})
	t.Run("X-Process-Time and security headers", func(t *testing.T) {
		res := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/health"})
		if v, err := strconv.ParseFloat(res.Header.Get("X-Process-Time"), 64); err != nil || v < 0 {
			t.Errorf("X-Process-Time = %q", res.Header.Get("X-Process-Time"))
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("security headers missing: %v", res.Header)
		}
	})
	t.Run("CORS", func(t *testing.T) {
		res := e.do(t, request{Method: "OPTIONS", Path: "/items", Header: map[string]string{
			"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type",
		}})
		if res.Status >= 300 || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
			t.Errorf("preflight: %d %v", res.Status, res.Header)
		}
		res = e.do(t, request{Method: "GET", Path: "/health", Header: map[string]string{"Origin": "http://evil.example"}})
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("foreign origin allowed: %v", res.Header)
		}
	})
	t.Run("unknown route and method are JSON", func(t *testing.T) {
		if d := e.expect(t, http.StatusNotFound, request{Method: "GET", Path: "/nope"}).Detail(t); d != "Not Found" {
			t.Errorf("detail %q", d)
		}
		e.expect(t, http.StatusMethodNotAllowed, request{Method: "DELETE", Path: "/health"})
	})
	t.Run("oversized body", func(t *testing.T) {
		big := `{"title": "` + strings.Repeat("x", 5000) + `", "price": 1}`
		e.expect(t, http.StatusRequestEntityTooLarge, request{Method: "POST", Path: "/items", Token: token, Body: big, ContentType: "application/json"})
		if list := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items"}).List(t); len(list) != 0 {
			t.Errorf("oversized item stored: %v", list)
		}
	})
	t.Run("root and health", func(t *testing.T) {
		root := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/"}).JSON(t)
		if root["message"] != "Welcome to My API" || root["docs"] != "/docs" || root["health"] != "/health" {
			t.Errorf("root = %v", root)
		}
		h := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/health"}).JSON(t)
		if h["status"] != "ok" || h["app"] != "My API" || h["version"] != "test" || h["environment"] != "development" {
			t.Errorf("health = %v", h)
		}
		e.expect(t, http.StatusOK, request{Method: "GET", Path: "/health/live"})
		ready := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/health/ready"}).JSON(t)
		if ready["checks"].(map[string]any)["database"] != "ok" {
			t.Errorf("ready = %v", ready)
		}
	})
	t.Run("not ready when the database is gone", func(t *testing.T) {
		e2 := newEnv(t, testdb.Engines(t)[0], envOptions{})
		if err := e2.DB.Close(); err != nil {
			t.Fatal(err)
		}
		res := e2.expect(t, http.StatusServiceUnavailable, request{Method: "GET", Path: "/health/ready"})
		if !strings.Contains(res.Detail(t), "database") {
			t.Errorf("detail does not name the database: %s", res.Body)
		}
		e2.expect(t, http.StatusOK, request{Method: "GET", Path: "/health/live"})
	})
}
