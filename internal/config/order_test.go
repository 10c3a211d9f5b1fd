package config_test

import (
	"testing"

	"myapi/internal/config"
)

// Two bad settings give the same message on every run (no map order), and
// it names what it names in the order of the settings' fields.
func TestLoadErrorsInStableOrder(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		env   map[string]string
		first string // the variable named first
	}{
		{"two unparsable", map[string]string{"PORT": "x", "BCRYPT_COST": "y"}, "PORT"},
		{"two out of range", map[string]string{"PORT": "70000", "ENVIRONMENT": "prod"}, "ENVIRONMENT"},
		{"two pool sizes", map[string]string{"DB_POOL_SIZE": "-1", "DB_MAX_OVERFLOW": "-1"}, "DB_POOL_SIZE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var want string
			for i := range 50 {
				_, err := config.Load(vars(c.env), noFile(t))
				if err == nil {
					t.Fatal("Load accepted bad settings")
				}
				if i == 0 {
					want = err.Error()
					if len(want) < len(c.first) || want[:len(c.first)] != c.first {
						t.Fatalf("Load = %q, want it to start with %s", want, c.first)
					}
					continue
				}
				if err.Error() != want {
					t.Fatalf("run %d: %q, first run: %q", i, err, want)
				}
			}
		})
	}
}
