package app

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// TestOperationLabelsAreBounded checks that client-chosen operation names cannot grow the set of
// metric series past maxOperationLabels.
func TestOperationLabelsAreBounded(t *testing.T) {
	m := newMetrics(&sql.DB{})
	for i := range maxOperationLabels {
		if got := m.operationLabel(fmt.Sprint("Op", i)); got != fmt.Sprint("Op", i) {
			t.Fatalf("name %d: label %q", i, got)
		}
	}
	if got := m.operationLabel("OneTooMany"); got != "other" {
		t.Errorf("a name past the bound: label %q, want other", got)
	}
	if got := len(m.ops.labelled); got != maxOperationLabels {
		t.Errorf("%d names hold labels, want %d", got, maxOperationLabels)
	}
	if got := m.operationLabel("Op0"); got != "Op0" {
		t.Errorf("a name seen before the bound: label %q", got)
	}
	m = newMetrics(&sql.DB{})
	if got := m.operationLabel(strings.Repeat("Q", maxOperationLabelBytes+1)); got != "other" {
		t.Errorf("a name longer than %d bytes: label of %d bytes, want other", maxOperationLabelBytes, len(got))
	}
	if got := m.operationLabel(""); got != "none" {
		t.Errorf("no operation: label %q", got)
	}
}

// TestJunkOperationNamesCannotTakeRealOnesLabels: a thousand invented operation names, each sent a
// few times, neither push out an operation that clients use more, before or after the flood, nor
// keep one that starts being used after them from getting its label; and only maxOperationLabels
// names ever have series.
func TestJunkOperationNamesCannotTakeRealOnesLabels(t *testing.T) {
	junk := func(m *metrics, times int) {
		for range times {
			for i := range 1000 {
				m.observe("/graphql", fmt.Sprint("Junk", i), "query", "ok", 200, nil, nil, 0)
			}
		}
	}
	series := func(m *metrics) map[string]bool {
		names := map[string]bool{}
		fams, err := m.registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() != "shopql_graphql_requests_total" {
				continue
			}
			for _, s := range f.GetMetric() {
				for _, l := range s.GetLabel() {
					if l.GetName() == "operation" {
						names[l.GetValue()] = true
					}
				}
			}
		}
		return names
	}
	real := func(m *metrics, times int) {
		for range times {
			m.observe("/graphql", "Catalog", "query", "ok", 200, nil, nil, 0)
		}
	}

	for _, order := range []struct {
		name  string
		first func(*metrics)
		then  func(*metrics)
	}{
		{"real operation first", func(m *metrics) { real(m, 20) }, func(m *metrics) { junk(m, 5) }},
		{"junk first", func(m *metrics) { junk(m, 3) }, func(m *metrics) { real(m, 20) }},
	} {
		t.Run(order.name, func(t *testing.T) {
			m := newMetrics(&sql.DB{})
			order.first(m)
			order.then(m)
			if got := m.operationLabel("Catalog"); got != "Catalog" {
				t.Errorf("the real operation is counted as %q", got)
			}
			s := series(m)
			if !s["Catalog"] {
				t.Error("no series for the real operation")
			}
			if n := len(s); n > maxOperationLabels+1 {
				t.Errorf("%d operation labels have series, want at most %d and other", n, maxOperationLabels)
			}
		})
	}
}

func TestStatusLabel(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   string
	}{{200, "200"}, {0, "0"}, {99, "99"}, {404, "404"}, {599, "599"}, {600, "600"}, {999, "999"}, {-1, "-1"}} {
		if got := statusLabel(tt.status); got != tt.want {
			t.Errorf("statusLabel(%d) = %q, want %q", tt.status, got, tt.want)
		}
	}
}
