package wal

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenRecords are the records of testdata/v1: an empty record, a small
// one, and one that needs first, middle and last fragments.
func goldenRecords() [][]byte {
	return [][]byte{{}, []byte("fineod"), bytes.Repeat([]byte("0123456789abcdef"), (2*PageSize)/16)}
}

// TestGoldenVersion1 pins the version 1 format: today's writer must produce
// the stored bytes, and today's reader must read them.
func TestGoldenVersion1(t *testing.T) {
	golden := filepath.Join("testdata", "v1", segmentName(1))
	dir := t.TempDir()
	writeAll(t, dir, nil, goldenRecords(), 1)
	got, err := os.ReadFile(segmentPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("writer output differs from %s: the on-disk format changed", golden)
	}
	recs, _ := readAll(t, filepath.Dir(golden), 1)
	equalRecords(t, recs, goldenRecords())
}
