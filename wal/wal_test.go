package wal

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// record returns a deterministic record of n bytes; seed makes records of
// equal size differ.
func record(seed, n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// pos is where a record was read.
type pos struct {
	seg int
	off int64
}

// writeAll opens a WAL in dir, logs recs in batches of batch records with a
// Sync after each batch, and closes it.
func writeAll(t testing.TB, dir string, opts *Options, recs [][]byte, batch int) {
	t.Helper()
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(recs); i += batch {
		if err := w.Log(recs[i:min(i+batch, len(recs))]...); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every record from segment from on, failing on any error.
func readAll(t testing.TB, dir string, from int) ([][]byte, []pos) {
	t.Helper()
	recs, ps, err := readAllErr(dir, from)
	if err != nil {
		t.Fatal(err)
	}
	return recs, ps
}

func readAllErr(dir string, from int) ([][]byte, []pos, error) {
	r, err := NewReader(dir, from)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var recs [][]byte
	var ps []pos
	for r.Next() {
		recs = append(recs, bytes.Clone(r.Record()))
		ps = append(ps, pos{r.Segment(), r.Offset()})
	}
	return recs, ps, r.Err()
}

func equalRecords(t testing.TB, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d: got %d bytes, want %d bytes (contents differ)", i, len(got[i]), len(want[i]))
		}
	}
}

func TestRoundTrip(t *testing.T) {
	mixed := func() []int {
		rng := rand.New(rand.NewPCG(1, 2))
		var s []int
		for range 300 {
			switch rng.IntN(4) {
			case 0:
				s = append(s, 0)
			case 1:
				s = append(s, rng.IntN(100))
			case 2:
				s = append(s, rng.IntN(PageSize))
			default:
				s = append(s, rng.IntN(3*PageSize+1000))
			}
		}
		return s
	}
	tests := []struct {
		name  string
		sizes []int
		batch int
	}{
		{"empty records", []int{0, 0, 0}, 1},
		{"small records", []int{1, 2, 3, 100, 7, 6}, 2},
		{"record filling one fragment exactly", []int{maxFragmentPayload, maxFragmentPayload, 1}, 1},
		{"record one byte over a page", []int{maxFragmentPayload + 1, 5}, 1},
		{"records leaving less than a header in a page", []int{PageSize - 2*headerSize - 3, 10, 10}, 3},
		{"record over three pages", []int{3*PageSize + 17, 3 * PageSize}, 1},
		{"mixed sizes from 0 to over three pages", mixed(), 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var recs [][]byte
			for i, n := range tc.sizes {
				recs = append(recs, record(i, n))
			}
			writeAll(t, dir, nil, recs, tc.batch)
			got, _ := readAll(t, dir, 1)
			equalRecords(t, got, recs)

			// Appending after a reopen continues the same log.
			more := [][]byte{record(-1, 10), record(-2, PageSize+3)}
			writeAll(t, dir, nil, more, 1)
			got, _ = readAll(t, dir, 1)
			equalRecords(t, got, append(recs, more...))
		})
	}
}

func TestRotation(t *testing.T) {
	tests := []struct {
		name        string
		segmentSize int64
		sizes       []int
		wantSegs    int
	}{
		{"small records fill two-page segments", 2 * PageSize, repeat(1000, 200), 4},
		{"large record gets a segment of its own", 2 * PageSize, []int{10, 5 * PageSize, 10}, 3},
		{"segment size rounds up to whole pages", 1, []int{10, 10, 10}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var recs [][]byte
			for i, n := range tc.sizes {
				recs = append(recs, record(i, n))
			}
			opts := &Options{SegmentSize: tc.segmentSize}
			writeAll(t, dir, opts, recs, 3)
			got, ps := readAll(t, dir, 1)
			equalRecords(t, got, recs)
			if n := ps[len(ps)-1].seg; n != tc.wantSegs {
				t.Fatalf("last record in segment %d, want %d", n, tc.wantSegs)
			}
			segs, err := listSegments(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range segs[:len(segs)-1] {
				fi, err := os.Stat(segmentPath(dir, s))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Size()%PageSize != 0 {
					t.Errorf("finished segment %d is %d bytes, not whole pages", s, fi.Size())
				}
			}
		})
	}
}

func repeat(n, count int) []int {
	s := make([]int, count)
	for i := range s {
		s[i] = n
	}
	return s
}

func TestNextSegmentAndReadFromMiddleSegment(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	var segOf []int
	for s := 1; s <= 4; s++ {
		if got := w.CurrentSegment(); got != s {
			t.Fatalf("CurrentSegment = %d, want %d", got, s)
		}
		for i := range 5 {
			r := record(s*100+i, 3000*i)
			recs = append(recs, r)
			segOf = append(segOf, s)
			if err := w.Log(r); err != nil {
				t.Fatal(err)
			}
		}
		if s < 4 {
			next, err := w.NextSegment()
			if err != nil {
				t.Fatal(err)
			}
			if next != s+1 {
				t.Fatalf("NextSegment = %d, want %d", next, s+1)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for from := 1; from <= 4; from++ {
		t.Run(fmt.Sprintf("from segment %d", from), func(t *testing.T) {
			got, ps := readAll(t, dir, from)
			var want [][]byte
			for i, r := range recs {
				if segOf[i] >= from {
					want = append(want, r)
				}
			}
			equalRecords(t, got, want)
			for i, p := range ps {
				if p.seg < from {
					t.Fatalf("record %d read from segment %d, before %d", i, p.seg, from)
				}
			}
		})
	}
	if _, err := NewReader(dir, 9); err == nil {
		t.Fatal("NewReader from a missing segment: want an error")
	}
}

// TestRepairEveryTruncationOfFinalRecord cuts the last segment at every
// byte inside its final record: Open must repair it, keep every earlier
// record, and continue appending after them.
func TestRepairEveryTruncationOfFinalRecord(t *testing.T) {
	tests := []struct {
		name      string
		prefix    []int // sizes of the records before the final one
		finalSize int
	}{
		{"final record in one fragment", []int{10, 200}, 300},
		{"final record split across a page boundary", []int{PageSize - 600}, 1000},
		{"final record of first, middle and last fragments", []int{PageSize - 300}, PageSize + 1000},
		{"final record after page padding", []int{PageSize - headerSize - headerSize - 3}, 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := t.TempDir()
			var recs [][]byte
			for i, n := range tc.prefix {
				recs = append(recs, record(i, n))
			}
			final := record(99, tc.finalSize)
			writeAll(t, src, nil, append(recs, final), 1)
			_, ps := readAll(t, src, 1)
			start := ps[len(ps)-1].off
			full, err := os.ReadFile(segmentPath(src, 1))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			path := segmentPath(dir, 1)
			for cut := start; cut < int64(len(full)); cut++ {
				if testing.Short() && !nearBoundary(cut, start, int64(len(full))) {
					continue
				}
				if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
					t.Fatal(err)
				}
				w, err := Open(dir, nil)
				if err != nil {
					t.Fatalf("cut at %d: Open: %v", cut, err)
				}
				wantRepairs := 1
				if cut == start {
					wantRepairs = 0
				}
				if w.Repairs() != wantRepairs {
					t.Fatalf("cut at %d: Repairs = %d, want %d", cut, w.Repairs(), wantRepairs)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				got, _, err := readAllErr(dir, 1)
				if err != nil {
					t.Fatalf("cut at %d: read after repair: %v", cut, err)
				}
				equalRecords(t, got, recs)
			}
			// After the last repair, appending works and reads back.
			extra := record(7, 2*PageSize)
			writeAll(t, dir, nil, [][]byte{extra}, 1)
			got, _ := readAll(t, dir, 1)
			equalRecords(t, got, append(recs, extra))
		})
	}
}

// nearBoundary reports whether a cut is near the start or end of the
// record or near a page boundary; -short tests only those cuts.
func nearBoundary(cut, start, end int64) bool {
	p := cut % PageSize
	return cut-start < 64 || end-cut < 64 || p < 16 || p > PageSize-16 || cut%211 == 0
}

// flipByte xors one byte of a file.
func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRepairFlippedByteInLastSegment(t *testing.T) {
	sizes := []int{100, 5000, PageSize + 100, 20, 3000}
	const bad = 2 // index of the damaged record
	tests := []struct {
		name  string
		delta func(p pos) int64 // the byte to flip, relative to the record start
	}{
		{"type byte", func(pos) int64 { return 0 }},
		{"length", func(pos) int64 { return 2 }},
		{"checksum", func(pos) int64 { return 5 }},
		{"payload of the first fragment", func(pos) int64 { return 100 }},
		{"payload of the last fragment", func(p pos) int64 {
			return PageSize - p.off%PageSize + headerSize + 10
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var recs [][]byte
			for i, n := range sizes {
				recs = append(recs, record(i, n))
			}
			writeAll(t, dir, nil, recs, 1)
			_, ps := readAll(t, dir, 1)
			flipByte(t, segmentPath(dir, 1), ps[bad].off+tc.delta(ps[bad]))

			_, _, err := readAllErr(dir, 1)
			var cerr *CorruptionError
			if !errors.As(err, &cerr) || cerr.Offset != ps[bad].off {
				t.Fatalf("reader before repair: err = %v, want corruption at %d", err, ps[bad].off)
			}
			w, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if w.Repairs() != 1 {
				t.Fatalf("Repairs = %d, want 1", w.Repairs())
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(segmentPath(dir, 1))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() != ps[bad].off {
				t.Fatalf("segment truncated to %d bytes, want %d", fi.Size(), ps[bad].off)
			}
			got, _ := readAll(t, dir, 1)
			equalRecords(t, got, recs[:bad])
		})
	}
}

func TestCorruptionInEarlierSegment(t *testing.T) {
	tests := []struct {
		name    string
		record  int   // which record of segment 1 to damage
		delta   int64 // byte to flip, relative to its start
		wantErr error
	}{
		{"checksum of the first record", 0, 4, errChecksum},
		{"payload of a middle record", 2, 50, errChecksum},
		{"length of the last record", 4, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if err := w.Log(record(i, 1000+i*4000)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.NextSegment(); err != nil {
				t.Fatal(err)
			}
			if err := w.Log(record(9, 10)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, ps := readAll(t, dir, 1)
			flipByte(t, segmentPath(dir, 1), ps[tc.record].off+tc.delta)

			_, err = Open(dir, nil)
			var cerr *CorruptionError
			if !errors.As(err, &cerr) {
				t.Fatalf("Open: err = %v, want a *CorruptionError", err)
			}
			if cerr.Segment != 1 || cerr.Offset != ps[tc.record].off {
				t.Fatalf("corruption at segment %d offset %d, want segment 1 offset %d", cerr.Segment, cerr.Offset, ps[tc.record].off)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Open: err = %v, want %v", err, tc.wantErr)
			}
			// Nothing was repaired: the segment is intact for inspection.
			if _, _, err := readAllErr(dir, 1); !errors.As(err, &cerr) {
				t.Fatalf("reader: err = %v, want a *CorruptionError", err)
			}
		})
	}
}

func TestUnknownVersionIsCorruption(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, dir, nil, [][]byte{record(1, 10), record(2, 10)}, 1)
	_, ps := readAll(t, dir, 1)
	// Rewrite the second record as version 2 with a valid checksum, as a
	// future writer would.
	path := segmentPath(dir, 1)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o := ps[1].off
	frag := appendFragment(nil, fragFull, b[o+headerSize:])
	frag[0] = 2<<4 | byte(fragFull)
	b = append(b[:o], appendFragment(nil, fragFull, nil)[:0]...)
	hdr := frag[:headerSize]
	putCRC(hdr, frag[headerSize:])
	b = append(b, frag...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = readAllErr(dir, 1)
	var cerr *CorruptionError
	if !errors.As(err, &cerr) || cerr.Offset != o {
		t.Fatalf("err = %v, want corruption at offset %d", err, o)
	}
}

func putCRC(hdr, payload []byte) {
	c := fragmentCRC(hdr, payload)
	hdr[3], hdr[4], hdr[5], hdr[6] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
}

func TestMissingSegmentIsCorruption(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := w.NextSegment(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(segmentPath(dir, 2)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, nil)
	var cerr *CorruptionError
	if !errors.As(err, &cerr) || cerr.Segment != 2 {
		t.Fatalf("Open: err = %v, want corruption naming segment 2", err)
	}
}

func TestTruncateBefore(t *testing.T) {
	tests := []struct {
		name      string
		before    int
		wantFirst int
	}{
		{"deletes older segments", 3, 3},
		{"keeps everything below the first", 1, 1},
		{"never deletes the current segment", 100, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			for s := 1; s <= 5; s++ {
				if err := w.Log(record(s, 1000)); err != nil {
					t.Fatal(err)
				}
				if s < 5 {
					if _, err := w.NextSegment(); err != nil {
						t.Fatal(err)
					}
				}
			}
			sizeBefore := w.Size()
			if err := w.TruncateBefore(tc.before); err != nil {
				t.Fatal(err)
			}
			first, last, err := w.Segments()
			if err != nil {
				t.Fatal(err)
			}
			if first != tc.wantFirst || last != 5 {
				t.Fatalf("Segments = %d, %d; want %d, 5", first, last, tc.wantFirst)
			}
			segs, err := listSegments(dir)
			if err != nil {
				t.Fatal(err)
			}
			if segs[0] != tc.wantFirst || len(segs) != 5-tc.wantFirst+1 {
				t.Fatalf("files: segments %v", segs)
			}
			if removed := tc.wantFirst - 1; removed > 0 && w.Size() != sizeBefore-int64(removed)*PageSize {
				t.Fatalf("Size = %d, want %d", w.Size(), sizeBefore-int64(removed)*PageSize)
			}
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			got, _ := readAll(t, dir, tc.wantFirst)
			if len(got) != 5-tc.wantFirst+1 {
				t.Fatalf("read %d records after truncation, want %d", len(got), 5-tc.wantFirst+1)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	w, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Log([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	calls := map[string]func() error{
		"Close":          w.Close,
		"Log":            func() error { return w.Log([]byte("y")) },
		"Sync":           w.Sync,
		"NextSegment":    func() error { _, err := w.NextSegment(); return err },
		"TruncateBefore": func() error { return w.TruncateBefore(1) },
		"Segments":       func() error { _, _, err := w.Segments(); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
}

func TestConcurrentLogAndSync(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, &Options{SegmentSize: 4 * PageSize})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := w.Log(record(g*each+i, 10+i*37%5000)); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					if err := w.Sync(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, dir, 1)
	if len(got) != writers*each {
		t.Fatalf("read %d records, want %d", len(got), writers*each)
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if first, last, _ := w.Segments(); first != 1 || last != 1 {
		t.Fatalf("Segments = %d, %d; want 1, 1", first, last)
	}
	if _, err := os.Stat(filepath.Join(dir, "00000001")); err != nil {
		t.Fatal(err)
	}
}
