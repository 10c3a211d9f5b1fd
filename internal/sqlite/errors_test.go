package sqlite

import "testing"

func TestConstraintName(t *testing.T) {
	for _, c := range []struct{ msg, want string }{
		{"constraint failed: UNIQUE constraint failed: users.email_key (2067)", "users_email_key"},
		{"UNIQUE constraint failed: refresh_sessions.id", "refresh_sessions_id"},
		{"UNIQUE constraint failed: t.a, t.b (2067)", "t_a_b"},
		{"disk I/O error", ""},
	} {
		if got := constraintName(c.msg); got != c.want {
			t.Errorf("constraintName(%q) = %q, want %q", c.msg, got, c.want)
		}
	}
}
