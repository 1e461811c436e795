package auth

import (
	"context"
	"net/http"
	"testing"
)

// TestWithIdentityWithoutHeader: a request without an Authorization header is anonymous (the
// token is missing), at the cost of the context value alone; one with an empty or malformed header
// is told why.
func TestWithIdentityWithoutHeader(t *testing.T) {
	s := &Service{}
	for _, tt := range []struct {
		name string
		h    http.Header
		want error
	}{
		{"no header", http.Header{}, ErrTokenMissing},
		{"nil header", nil, ErrTokenMissing},
		{"other headers", http.Header{"Accept": {"*/*"}}, ErrTokenMissing},
		{"empty value", http.Header{"Authorization": {" "}}, ErrTokenMissing},
		{"not bearer", http.Header{"Authorization": {"Basic eA=="}}, nil},
	} {
		ctx := s.WithIdentity(context.Background(), tt.h)
		p, err := FromContext(ctx)
		raw, headerErr := BearerToken(ctx)
		if tt.want != nil && (p != nil || err != tt.want || raw != "" || headerErr != tt.want) {
			t.Errorf("%s: principal %v, %v; token %q, %v", tt.name, p, err, raw, headerErr)
		}
		if tt.want == nil && (p != nil || err == nil || err == ErrTokenMissing || headerErr != err) {
			t.Errorf("%s: principal %v, %v; token %q, %v", tt.name, p, err, raw, headerErr)
		}
	}
	if n := testing.AllocsPerRun(100, func() { s.WithIdentity(context.Background(), http.Header{}) }); n > 1 {
		t.Errorf("%.0f allocations for a request without a token, want the context value's one", n)
	}
}
