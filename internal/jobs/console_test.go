package jobs

import (
	"strings"
	"testing"
)

func TestRedactHidesSecrets(t *testing.T) {
	tests := []struct {
		name, args string
		shown      []string
		hidden     []string
	}{
		{"plain", `{"user_id":3,"email":"a@example.com"}`, []string{`"user_id": 3`, `"a@example.com"`}, nil},
		{"token", `{"user_id":3,"reset_token":"s3cr3t-value"}`, []string{`"reset_token": "(hidden)"`}, []string{"s3cr3t-value"}},
		{"nested, any case", `{"smtp":{"Password":"hunter2","host":"mail"},"list":[{"api_key":"k-123"}]}`, []string{`"host": "mail"`}, []string{"hunter2", "k-123"}},
		{"secret and hash", `{"client_secret":"cs-1","token_hash":"th-1"}`, nil, []string{"cs-1", "th-1"}},
		{"not an object", `"raw-token-value"`, []string{"(hidden)"}, []string{"raw-token-value"}},
		{"not JSON", `{nope`, []string{"(hidden)"}, []string{"nope"}},
	}
	for _, tc := range tests {
		got := redact([]byte(tc.args))
		for _, s := range tc.shown {
			if !strings.Contains(got, s) {
				t.Errorf("%s: %s does not show %s", tc.name, got, s)
			}
		}
		for _, s := range tc.hidden {
			if strings.Contains(got, s) {
				t.Errorf("%s: %s shows the secret %s", tc.name, got, s)
			}
		}
	}
}
