package storage

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fineod/fineod/schema"
)

// compactEnv is a row store under dir/rows with segments under dir, and a
// model of what a merged read must return: point identity -> field -> value,
// last write wins.
type compactEnv struct {
	t     *testing.T
	dir   string
	s     *RowStore
	cat   *schema.Catalog
	index uint64
	model map[string]map[string]any
}

func newCompactEnv(t *testing.T) *compactEnv {
	dir := t.TempDir()
	e := &compactEnv{t: t, dir: dir, cat: schema.NewCatalog(), model: map[string]map[string]any{}}
	e.open()
	t.Cleanup(func() { e.s.Close() })
	return e
}

func (e *compactEnv) open() {
	s, err := OpenRowStore(filepath.Join(e.dir, "rows"), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.s = s
}

// crash closes the store without flushing (what Pebble without a WAL keeps
// after a crash) and reopens it, cleaning orphan segment files.
func (e *compactEnv) crash() []string {
	e.s.Close()
	e.open()
	removed, err := e.s.RemoveOrphanSegments(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	return removed
}

type wpoint struct {
	host   string
	t      int64
	fields map[string]any // x float64, y int64, s string
}

// write applies points and flushes the row store (as if the engine had
// checkpointed; unflushed points would come back from the log instead).
func (e *compactEnv) write(pts ...wpoint) {
	e.t.Helper()
	e.index++
	applyRows(e.t, e.s, e.cat, e.index, func(b *schema.Builder) {
		for _, p := range pts {
			b.StartRow([]byte("m"), p.t)
			b.AddTag([]byte("host"), []byte(p.host))
			for _, k := range slices.Sorted(maps.Keys(p.fields)) {
				switch v := p.fields[k].(type) {
				case float64:
					b.AddFloat([]byte(k), v)
				case int64:
					b.AddInt([]byte(k), v)
				case string:
					b.AddString([]byte(k), []byte(v))
				}
			}
			b.EndRow()
		}
	})
	if _, err := e.s.Flush(); err != nil {
		e.t.Fatal(err)
	}
	for _, p := range pts {
		id := fmt.Sprintf("host=%s@%d", p.host, p.t)
		if e.model[id] == nil {
			e.model[id] = map[string]any{}
		}
		maps.Copy(e.model[id], p.fields)
	}
}

func (e *compactEnv) table() *schema.Table {
	tbl, ok := e.cat.Table(1, "db", "m")
	if !ok {
		e.t.Fatal("no table")
	}
	return tbl
}

func (e *compactEnv) compact(day int32, cutoff int64, opts *CompactOptions) (CompactResult, error) {
	return e.s.CompactPartition(CompactRequest{Root: e.dir, TenantName: "default", Table: e.table(), Day: day, Cutoff: cutoff}, opts)
}

// view is a merged read of everything: the segments of every partition
// (newer segment wins per field), then the row store on top (it wins).
func (e *compactEnv) view() map[string]map[string]any {
	e.t.Helper()
	tbl := e.table()
	out := map[string]map[string]any{}
	put := func(tags []string, ts int64, fields []FieldValue) {
		id := fmt.Sprintf("%s@%d", fmtTags(tags), ts)
		if out[id] == nil {
			out[id] = map[string]any{}
		}
		for _, f := range fields {
			pf, _ := tbl.FieldByID(f.ID)
			out[id][pf.Name] = f.Value()
		}
	}
	segs, err := e.s.Segments(1, tbl.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].ID < segs[j].ID })
	for _, m := range segs {
		seg, err := OpenSegment(segmentAbsPath(e.dir, m.Path))
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := seg.Scan(AllTime, func(tags []string, ts int64, fields []FieldValue) error {
			put(tags, ts, fields)
			return nil
		}); err != nil {
			e.t.Fatal(err)
		}
		seg.Close()
	}
	series, _ := e.s.Series(1, tbl.ID)
	tags := map[uint64][]string{}
	for _, si := range series {
		tags[si.ID] = si.Tags
	}
	if err := e.s.Scan(1, tbl.ID, nil, -1<<63, 1<<63-1, func(id uint64, ts int64, fields []FieldValue) error {
		put(tags[id], ts, fields)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *compactEnv) checkView(when string) {
	e.t.Helper()
	got := e.view()
	if fmt.Sprint(got) != fmt.Sprint(e.model) {
		e.t.Fatalf("%s: merged read\n%v\nwant\n%v", when, got, e.model)
	}
}

// rowStorePoints counts the row store's points in [lo, hi].
func (e *compactEnv) rowStorePoints(lo, hi int64) int {
	n := 0
	if err := e.s.Scan(1, e.table().ID, nil, lo, hi, func(uint64, int64, []FieldValue) error { n++; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *compactEnv) files() []string {
	var out []string
	filepath.WalkDir(filepath.Join(e.dir, segmentsDirName), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(e.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

const day0 = int32(19800) // 2024-03-18

func dayTime(day int32, sec int64) int64 {
	lo, _ := DayRange(day)
	return lo + sec*1e9
}

func TestCompactPartitionMovesRowsAndMergesLateWrites(t *testing.T) {
	e := newCompactEnv(t)
	var pts []wpoint
	for i := range int64(50) {
		pts = append(pts,
			wpoint{"a", dayTime(day0, i*10), map[string]any{"x": float64(i), "y": i}},
			wpoint{"b", dayTime(day0, i*10+1), map[string]any{"x": -float64(i), "s": fmt.Sprint("v", i)}})
	}
	// The next day, and the last second of day0, stay in the row store.
	pts = append(pts, wpoint{"a", dayTime(day0+1, 5), map[string]any{"x": 1.0}})
	e.write(pts...)
	e.checkView("before compaction")
	lo, hi := DayRange(day0)

	// Compact day0 up to (not including) 400s: 80 of its 100 points.
	cutoff := dayTime(day0, 400)
	res, err := e.compact(day0, cutoff, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Segment == nil || res.Rows != 80 || res.RowStoreRows != 80 || res.Deleted != 80 || res.Kept != 0 || len(res.Removed) != 0 {
		t.Fatalf("first compaction: %+v", res)
	}
	if n := e.rowStorePoints(lo, cutoff-1); n != 0 {
		t.Fatalf("%d compacted points still in the row store", n)
	}
	if n := e.rowStorePoints(cutoff, hi); n != 20 {
		t.Fatalf("%d points after the cutoff in the row store, want 20", n)
	}
	m := res.Segment
	if m.MinTime != lo || m.MaxTime != dayTime(day0, 391) || m.Bytes == 0 || len(m.Fields) != 3 {
		t.Fatalf("manifest entry %+v", m)
	}
	if !strings.HasPrefix(m.Path, "segments/tenant=default/database=db/table=m/date=2024-03-18/") {
		t.Fatalf("path %s", m.Path)
	}
	e.checkView("after the first compaction")

	// Late writes into the compacted range: a new point, a rewrite of a
	// compacted point (x changes, y stays, s is new), and an identical retry.
	e.write(
		wpoint{"a", dayTime(day0, 15), map[string]any{"x": 99.0}},
		wpoint{"a", dayTime(day0, 20), map[string]any{"x": 100.5, "s": "late"}},
		wpoint{"b", dayTime(day0, 31), map[string]any{"x": -3.0, "s": "v3"}},
	)
	e.checkView("with late writes in both tiers")

	// The second compaction takes the whole day and merges the old segment.
	res2, err := e.compact(day0, hi+1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Rows != 101 || res2.SegmentRows != 80 || res2.RowStoreRows != 23 || res2.Deleted != 23 || len(res2.Removed) != 1 {
		t.Fatalf("second compaction: %+v", res2)
	}
	if n := e.rowStorePoints(lo, hi); n != 0 {
		t.Fatalf("%d points of day0 left in the row store", n)
	}
	if segs, _ := e.s.PartitionSegments(1, e.table().ID, day0); len(segs) != 1 || segs[0].ID != res2.Segment.ID {
		t.Fatalf("live segments %+v", segs)
	}
	if files := e.files(); len(files) != 1 || files[0] != res2.Segment.Path {
		t.Fatalf("files %q", files)
	}
	e.checkView("after the second compaction")
	if got := e.view()[fmt.Sprintf("host=a@%d", dayTime(day0, 20))]; fmt.Sprint(got) != "map[s:late x:100.5 y:2]" {
		t.Fatalf("rewritten point %v", got)
	}

	// Nothing left to do: no points, one segment.
	if res3, err := e.compact(day0, hi+1, nil); err != nil || res3.Segment != nil {
		t.Fatalf("idle compaction: %+v %v", res3, err)
	}
	// The other day is untouched.
	if n := e.rowStorePoints(hi+1, hi+dayNanos); n != 1 {
		t.Fatalf("next day: %d points", n)
	}
}

// TestCompactWriteDuringCompaction rewrites a point between the snapshot
// and the publish step: the new value must stay in the row store.
func TestCompactWriteDuringCompaction(t *testing.T) {
	e := newCompactEnv(t)
	e.write(
		wpoint{"a", dayTime(day0, 1), map[string]any{"x": 1.0}},
		wpoint{"a", dayTime(day0, 2), map[string]any{"x": 2.0}},
		wpoint{"b", dayTime(day0, 1), map[string]any{"x": 3.0}},
	)
	_, hi := DayRange(day0)
	opts := &CompactOptions{Exclusive: func(publish func() error) error {
		// A write that landed after the snapshot, before applies stopped.
		e.write(wpoint{"a", dayTime(day0, 2), map[string]any{"y": int64(7)}}, wpoint{"a", dayTime(day0, 3), map[string]any{"x": 4.0}})
		return publish()
	}}
	res, err := e.compact(day0, hi+1, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.Deleted != 2 || res.Kept != 1 {
		t.Fatalf("result %+v", res)
	}
	// Series b was untouched (range deletion); series a keeps 2 points.
	if n := e.rowStorePoints(DayRange(day0)); n != 2 {
		t.Fatalf("%d points in the row store, want 2", n)
	}
	e.checkView("after a write during compaction")
	if _, err := e.compact(day0, hi+1, nil); err != nil {
		t.Fatal(err)
	}
	if n := e.rowStorePoints(DayRange(day0)); n != 0 {
		t.Fatalf("%d points in the row store after the second compaction", n)
	}
	e.checkView("after the second compaction")
}

// TestCompactCrash stops a compaction after each step as a crash would
// (no clean-up, unflushed Pebble state lost) and checks that the reopened
// store shows the old or the new state, loses nothing, duplicates nothing,
// and that orphan files are removed.
func TestCompactCrash(t *testing.T) {
	for _, step := range []string{"written", "published", "committed", "flushed"} {
		t.Run(step, func(t *testing.T) {
			e := newCompactEnv(t)
			_, hi := DayRange(day0)
			e.write(wpoint{"a", dayTime(day0, 1), map[string]any{"x": 1.0}}, wpoint{"b", dayTime(day0, 2), map[string]any{"y": int64(2)}})
			first, err := e.compact(day0, hi+1, nil)
			if err != nil {
				t.Fatal(err)
			}
			e.write(wpoint{"a", dayTime(day0, 1), map[string]any{"y": int64(5)}}, wpoint{"c", dayTime(day0, 3), map[string]any{"x": 3.0}})

			var res CompactResult
			switch step {
			case "written", "published":
				res, err = e.compact(day0, hi+1, &CompactOptions{crashAfter: step})
				if !errors.Is(err, errSimulatedCrash) {
					t.Fatalf("compaction: %v", err)
				}
			case "committed":
				// Publish commits the batch; the crash comes before the flush,
				// so Pebble loses the batch.
				res, err = e.compact(day0, hi+1, &CompactOptions{Exclusive: func(publish func() error) error {
					if err := publish(); err != nil {
						return err
					}
					return errSimulatedCrash
				}})
				if !errors.Is(err, errSimulatedCrash) {
					t.Fatalf("compaction: %v", err)
				}
				if len(e.files()) != 2 {
					t.Fatalf("files after the commit: %q", e.files())
				}
			case "flushed":
				// The crash comes after the flush, before the old file is
				// deleted: put the old file back to simulate that.
				data, err := os.ReadFile(segmentAbsPath(e.dir, first.Segment.Path))
				if err != nil {
					t.Fatal(err)
				}
				if res, err = e.compact(day0, hi+1, nil); err != nil {
					t.Fatal(err)
				}
				os.WriteFile(segmentAbsPath(e.dir, first.Segment.Path), data, 0o644)
			}
			removed := e.crash()
			if len(removed) != 1 {
				t.Fatalf("orphans removed: %q", removed)
			}
			segs, _ := e.s.PartitionSegments(1, e.table().ID, day0)
			newState := step == "flushed"
			if newState {
				if len(segs) != 1 || segs[0].ID != res.Segment.ID || e.rowStorePoints(DayRange(day0)) != 0 {
					t.Fatalf("new state expected: segments %v, %d row-store points", segIDs(segs), e.rowStorePoints(DayRange(day0)))
				}
			} else if len(segs) != 1 || segs[0].ID != first.Segment.ID || e.rowStorePoints(DayRange(day0)) != 2 {
				t.Fatalf("old state expected: segments %v, %d row-store points", segIDs(segs), e.rowStorePoints(DayRange(day0)))
			}
			if files := e.files(); len(files) != 1 || files[0] != segs[0].Path {
				t.Fatalf("files %q", files)
			}
			e.checkView("after the crash")
			// Compaction resumes from whatever state survived.
			if _, err := e.compact(day0, hi+1, nil); err != nil {
				t.Fatal(err)
			}
			e.checkView("after the retried compaction")
			if n := e.rowStorePoints(DayRange(day0)); n != 0 {
				t.Fatalf("%d points left in the row store", n)
			}
		})
	}
}

func TestCompactConflict(t *testing.T) {
	e := newCompactEnv(t)
	_, hi := DayRange(day0)
	e.write(wpoint{"a", dayTime(day0, 1), map[string]any{"x": 1.0}})
	if _, err := e.compact(day0, hi+1, nil); err != nil {
		t.Fatal(err)
	}
	e.write(wpoint{"a", dayTime(day0, 2), map[string]any{"x": 2.0}})
	// Another compaction of the partition wins the race.
	_, err := e.compact(day0, hi+1, &CompactOptions{Exclusive: func(publish func() error) error {
		if _, err := e.compact(day0, hi+1, nil); err != nil {
			return err
		}
		return publish()
	}})
	if !errors.Is(err, ErrManifestConflict) {
		t.Fatalf("racing compaction: %v", err)
	}
	if files := e.files(); len(files) != 1 {
		t.Fatalf("files %q", files)
	}
	e.checkView("after a conflict")
}
