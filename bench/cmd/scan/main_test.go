package main

import "testing"

func TestFieldsRead(t *testing.T) {
	for q, want := range map[string]int{
		"SELECT count(*) FROM cpu":                               1,
		"SELECT sum(usage_user) FROM cpu":                        1,
		"SELECT sum(usage_user), max(usage_user) FROM cpu":       1,
		"SELECT sum(usage_user), sum(usage_guest_nice) FROM cpu": 2,
		defaultQueries[2]:                                        10,
	} {
		if got := fieldsRead(q); got != want {
			t.Errorf("fieldsRead(%q) = %d, want %d", q, got, want)
		}
	}
}

func TestRunNeedsTarget(t *testing.T) {
	if rc := run(nil, nil, &discard{}); rc != 2 {
		t.Fatalf("run without -target: exit %d, want 2", rc)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
