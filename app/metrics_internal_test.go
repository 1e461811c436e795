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
