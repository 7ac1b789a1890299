package storage

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func segIDs(ms []SegmentMeta) []uint64 {
	var out []uint64
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestManifestPublishAndRemoveAtomically(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenRowStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	meta := func(id uint64, table uint32, day int32) SegmentMeta {
		return SegmentMeta{ID: id, Tenant: 1, Table: table, Day: day, Path: SegmentRelPath("default", "db", "t", day, id),
			Rows: 10, MinTime: int64(day) * dayNanos, MaxTime: int64(day)*dayNanos + 9, Fields: []uint32{1, 2}}
	}
	a, b, c := meta(1, 5, -1), meta(2, 5, 0), meta(3, 5, 0)
	other := meta(4, 6, 0)
	if err := s.CommitManifest(&ManifestEdit{Add: []SegmentMeta{a, b, other}}); err != nil {
		t.Fatal(err)
	}
	// Days sort numerically, negative ones first.
	if got, _ := s.Segments(1, 5); !reflect.DeepEqual(segIDs(got), []uint64{1, 2}) {
		t.Fatalf("segments %v", segIDs(got))
	}
	if got, _ := s.PartitionSegments(1, 5, 0); !reflect.DeepEqual(segIDs(got), []uint64{2}) || !reflect.DeepEqual(got[0], b) {
		t.Fatalf("partition segments %+v", got)
	}
	// Replace b by c in one edit.
	if err := s.CommitManifest(&ManifestEdit{Add: []SegmentMeta{c}, Remove: []SegmentMeta{b}}); err != nil {
		t.Fatal(err)
	}
	// Removing b again conflicts and changes nothing, not even the add.
	d := meta(9, 5, 0)
	err = s.CommitManifest(&ManifestEdit{Add: []SegmentMeta{d}, Remove: []SegmentMeta{b}})
	if !errors.Is(err, ErrManifestConflict) {
		t.Fatalf("remove of a dead segment: %v", err)
	}
	if err := s.CommitManifest(&ManifestEdit{Add: []SegmentMeta{c}}); !errors.Is(err, ErrManifestConflict) {
		t.Fatalf("add of a live segment: %v", err)
	}
	check := func(s *RowStore) {
		t.Helper()
		if got, _ := s.PartitionSegments(1, 5, 0); !reflect.DeepEqual(segIDs(got), []uint64{3}) {
			t.Fatalf("after replace: %v", segIDs(got))
		}
		if got, _ := s.AllSegments(); !reflect.DeepEqual(segIDs(got), []uint64{1, 3, 4}) {
			t.Fatalf("all: %v", segIDs(got))
		}
	}
	check(s)
	// Committed edits are durable without a Flush of the store: a crash
	// (Close drops unflushed memtables, there being no WAL) keeps them.
	id1, _ := s.NextSegmentID()
	if err := s.CommitManifest(&ManifestEdit{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenRowStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(s)
	if id2, _ := s.NextSegmentID(); id2 <= id1 {
		t.Fatalf("segment id %d after %d", id2, id1)
	}
}

func TestRemoveOrphanSegments(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenRowStore(filepath.Join(dir, "rows"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if removed, err := s.RemoveOrphanSegments(dir); err != nil || len(removed) != 0 {
		t.Fatalf("no segments dir: %v %v", removed, err)
	}
	tbl := testTable()
	live, st := writeTestSegment(t, dir, tbl, 3, 1, testRows(3), nil)
	orphan, _ := writeTestSegment(t, dir, tbl, 3, 2, testRows(3), nil)
	gone, _ := writeTestSegment(t, dir, tbl, 4, 3, testRows(4), nil)
	tmp := segmentAbsPath(dir, SegmentRelPath("default", tbl.Database, tbl.Name, 3, 4)) + segmentTmpSuffix
	if err := os.WriteFile(tmp, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, segmentsDirName, "README")
	os.WriteFile(other, nil, 0o644)
	meta := NewSegmentMeta(1, 1, tbl.ID, 3, live, st)
	if err := s.CommitManifest(&ManifestEdit{Add: []SegmentMeta{meta}}); err != nil {
		t.Fatal(err)
	}
	// The entry round-trips, -Inf float bounds included.
	if got, err := s.PartitionSegments(1, tbl.ID, 3); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], meta) {
		t.Fatalf("manifest entry\n%+v\nwant\n%+v (%v)", got, meta, err)
	}
	if meta.Columns[3].Name != "temp" || !math.IsInf(meta.Columns[3].MinF, -1) || meta.Columns[3].MaxF != 21.5 {
		t.Fatalf("temp stats %+v", meta.Columns[3])
	}
	removed, err := s.RemoveOrphanSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 {
		t.Fatalf("removed %q", removed)
	}
	for _, p := range []string{orphan, gone} {
		if _, err := os.Stat(segmentAbsPath(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s still there", p)
		}
	}
	if _, err := os.Stat(filepath.Dir(segmentAbsPath(dir, gone))); !os.IsNotExist(err) {
		t.Errorf("empty partition dir kept")
	}
	for _, p := range []string{segmentAbsPath(dir, live), other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
}
