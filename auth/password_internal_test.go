package auth

import "testing"

// TestStoredHashParametersAreBounded: a stored hash cannot make a login spend more memory, time or
// threads than the bounds, whatever a tampered row says.
func TestStoredHashParametersAreBounded(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	for _, tt := range []struct {
		params string
		ok     bool
	}{
		{"m=19456,t=2,p=1", true},
		{"m=262144,t=16,p=16", true},
		{"m=262145,t=2,p=1", false},
		{"m=19456,t=17,p=1", false},
		{"m=19456,t=2,p=17", false},
		{"m=19456,t=2,p=255", false},
		{"m=0,t=2,p=1", false},
	} {
		_, _, _, err := decodeHash("$argon2id$v=19$" + tt.params + "$" + salt + "$" + key)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok = %v", tt.params, err, tt.ok)
		}
	}
}
