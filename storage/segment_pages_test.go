package storage

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fineod/fineod/schema"
	"github.com/parquet-go/parquet-go"
	pqzstd "github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Tests of range reads (readRange and its decoders) against parquet-go's
// decoding of the same files, and of series-index reads (Rows with
// SegmentQuery.Series) against a filtered full scan.

// pagesTable has dense, sparse and never-present fields of every type.
func pagesTable() *schema.Table {
	return &schema.Table{
		ID: 3, TenantID: 1, Database: "db", Name: "mixed",
		TagKeys: []string{"host", "rack"},
		Fields: []schema.Field{
			{ID: 1, Name: "f", Type: schema.TypeFloat},      // dense, special values
			{ID: 2, Name: "i", Type: schema.TypeInt},        // dense, extreme deltas
			{ID: 3, Name: "u", Type: schema.TypeUint},       // dense
			{ID: 4, Name: "s", Type: schema.TypeString},     // sparse
			{ID: 5, Name: "ok", Type: schema.TypeBool},      // sparse
			{ID: 6, Name: "fs", Type: schema.TypeFloat},     // runs of NULLs
			{ID: 7, Name: "is", Type: schema.TypeInt},       // runs of NULLs
			{ID: 8, Name: "us", Type: schema.TypeUint},      // runs of NULLs
			{ID: 9, Name: "rare", Type: schema.TypeInt},     // 1 row in 97, absent in stretches
			{ID: 10, Name: "none", Type: schema.TypeFloat},  // always NULL
			{ID: 11, Name: "late", Type: schema.TypeFloat},  // NULL in the first half of the rows
			{ID: 12, Name: "early", Type: schema.TypeInt},   // NULL in the second half of the rows
			{ID: 13, Name: "steady", Type: schema.TypeUint}, // constant steps (zero bit widths)
		},
	}
}

var specialFloats = []float64{
	math.NaN(), math.Float64frombits(0x7ff8000000000001), math.Float64frombits(0xfff8000000000000),
	math.Float64frombits(0x7ff0000000000001), // signalling NaN
	math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0,
	math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
	1e300, -1e300, 1e-300, 2.2250738585072014e-308, 1 << 53, -(1 << 63),
}

var specialInts = []int64{math.MinInt64, math.MaxInt64, 0, -1, 1, math.MinInt64 + 1, math.MaxInt64 - 1, 1 << 32, -1 << 32}

// presenceRuns returns a generator of present/absent runs of assorted
// lengths, so that NULL runs start and end anywhere in a page.
func presenceRuns(r *rand.Rand) func() bool {
	lens := []int{1, 1, 2, 3, 7, 31, 32, 33, 127, 128, 129, 500, 1000, 3000}
	present, left := r.IntN(2) == 0, 0
	return func() bool {
		if left == 0 {
			present = !present
			left = lens[r.IntN(len(lens))]
		}
		left--
		return present
	}
}

// mixedRows returns perSeries rows of each of n series of pagesTable (or
// of tbl, a table with some of its fields), sorted by (series, time).
func mixedRows(seed uint64, day int32, tbl *schema.Table, n, perSeries int) []inRow {
	var keep map[uint32]bool
	if tbl != nil {
		keep = map[uint32]bool{}
		for _, f := range tbl.Fields {
			keep[f.ID] = true
		}
	}
	r := rand.New(rand.NewPCG(seed, 99))
	type series struct {
		tags []string
		key  string
	}
	var ss []series
	for h := range n {
		tags := []string{"host", fmt.Sprintf("h%03d", h)}
		if h%3 != 1 { // every third series has no rack: a NULL tag
			tags = append(tags, "rack", strconv.Itoa(h%4))
		}
		ss = append(ss, series{tags, string(appendTagString(nil, tags))})
	}
	slices.SortFunc(ss, func(a, b series) int { return cmp.Compare(a.key, b.key) })
	total := n * perSeries
	runs := [3]func() bool{presenceRuns(r), presenceRuns(r), presenceRuns(r)}
	t0, _ := DayRange(day)
	var rows []inRow
	var prevI, step int64
	steady := uint64(r.Uint64())
	mode := 0
	k := 0
	for _, s := range ss {
		ts := t0 + r.Int64N(1e9)
		for range perSeries {
			if r.IntN(50) == 0 {
				ts += r.Int64N(1e9) // a gap
			} else {
				ts += 1 + r.Int64N(1e6)
			}
			if r.IntN(300) == 0 {
				mode = r.IntN(4)
				step = r.Int64N(2001) - 1000
			}
			var f float64
			switch x := r.IntN(8); {
			case x == 0:
				f = specialFloats[r.IntN(len(specialFloats))]
			case x < 3:
				f = float64(r.IntN(100)) // compressible
			default:
				f = r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
			}
			switch mode {
			case 0: // constant step
				prevI += step
			case 1: // small noise
				prevI += r.Int64N(64) - 32
			case 2: // extremes, huge deltas
				if r.IntN(3) == 0 {
					prevI = specialInts[r.IntN(len(specialInts))]
				} else {
					prevI = int64(r.Uint64())
				}
			default:
				prevI = int64(r.Uint64() >> r.IntN(64))
			}
			u := int64(r.Uint64())
			if r.IntN(10) == 0 {
				u = []int64{-1, 0, math.MinInt64, math.MaxInt64}[r.IntN(4)]
			}
			fields := []FieldValue{
				{ID: 1, Type: schema.TypeFloat, F: f},
				{ID: 2, Type: schema.TypeInt, I: prevI},
				{ID: 3, Type: schema.TypeUint, I: u},
			}
			if r.IntN(5) == 0 {
				fields = append(fields, FieldValue{ID: 4, Type: schema.TypeString, S: []byte(strconv.Itoa(r.IntN(1000)))})
			}
			if r.IntN(3) == 0 {
				fields = append(fields, FieldValue{ID: 5, Type: schema.TypeBool, B: r.IntN(2) == 0})
			}
			if runs[0]() {
				fields = append(fields, FieldValue{ID: 6, Type: schema.TypeFloat, F: specialFloats[r.IntN(len(specialFloats))] * float64(r.IntN(3)-1)})
			}
			if runs[1]() {
				fields = append(fields, FieldValue{ID: 7, Type: schema.TypeInt, I: prevI ^ int64(r.IntN(1<<20))})
			}
			if runs[2]() {
				fields = append(fields, FieldValue{ID: 8, Type: schema.TypeUint, I: int64(r.Uint64() >> r.IntN(64))})
			}
			if k%97 == 0 && (k/5000)%2 == 0 {
				fields = append(fields, FieldValue{ID: 9, Type: schema.TypeInt, I: int64(k) * -7919})
			}
			if k >= total/2 {
				fields = append(fields, FieldValue{ID: 11, Type: schema.TypeFloat, F: float64(k) / 3})
			} else {
				fields = append(fields, FieldValue{ID: 12, Type: schema.TypeInt, I: -int64(k)})
			}
			steady += 1000
			fields = append(fields, FieldValue{ID: 13, Type: schema.TypeUint, I: int64(steady)})
			if keep != nil {
				fields = slices.DeleteFunc(fields, func(f FieldValue) bool { return !keep[f.ID] })
			}
			rows = append(rows, inRow{s.tags, ts, fields})
			k++
		}
	}
	return rows
}

// pagesSpec is a test segment.
type pagesSpec struct {
	name string
	tbl  *schema.Table
	rows []inRow // nil: the DevOps shape (2 hosts)
	opts *SegmentWriterOptions
	// node and writer, if set, replace the column types and add Parquet
	// writer options (page size, compression, page version).
	node   func(SegmentColumn) (parquet.Node, error)
	writer []parquet.WriterOption
	// flush also flushes the write batch after row i (so that with small
	// pages, pages end at irregular rows).
	flush func(i int) bool
	// fast: readRange must handle every time, integer and float column
	// (true) or none of them (false).
	fast bool
}

const pagesDay = int32(19000)

// pagesSpecs are the segments range reads are checked on.
var pagesSpecs = sync.OnceValue(func() []pagesSpec {
	irregular := func(seed uint64) func(int) bool {
		r := rand.New(rand.NewPCG(seed, 5))
		return func(int) bool { return r.IntN(97) == 0 }
	}
	// The large segment has fewer fields, to keep the test fast.
	largeTable := pagesTable()
	largeTable.Fields = slices.DeleteFunc(largeTable.Fields, func(f schema.Field) bool { return !slices.Contains([]uint32{1, 2, 6, 7, 13}, f.ID) })
	return []pagesSpec{
		{name: "devops", fast: true},
		{name: "mixed", tbl: pagesTable(), rows: mixedRows(1, pagesDay, nil, 7, 1700), opts: &SegmentWriterOptions{RowGroupRows: 5000}, fast: true},
		// Row groups of 100,000 rows: float and integer chunks of several
		// 256 KiB pages.
		{name: "large", tbl: largeTable, rows: mixedRows(2, pagesDay, largeTable, 2, 51000), opts: &SegmentWriterOptions{RowGroupRows: 100_000}, fast: true},
		// The segment layout with 2 KiB pages: many pages per chunk, all-NULL
		// pages, NULL runs across page boundaries.
		{name: "small-pages", tbl: pagesTable(), rows: mixedRows(3, pagesDay, nil, 4, 2500), opts: &SegmentWriterOptions{RowGroupRows: 4000},
			writer: []parquet.WriterOption{parquet.PageBufferSize(2 << 10)}, flush: irregular(3), fast: true},
		// PLAIN INT64 and DOUBLE, no compression.
		{name: "plain", tbl: pagesTable(), rows: mixedRows(4, pagesDay, nil, 4, 1800), opts: &SegmentWriterOptions{RowGroupRows: 4000},
			node: plainNode, writer: []parquet.WriterOption{parquet.PageBufferSize(3 << 10), parquet.Compression(&parquet.Uncompressed)}, flush: irregular(4), fast: true},
		// Layouts readRange leaves to parquet-go: version 1 data pages,
		// snappy, dictionary pages.
		{name: "v1-pages", tbl: pagesTable(), rows: mixedRows(5, pagesDay, nil, 4, 1500), opts: &SegmentWriterOptions{RowGroupRows: 2500},
			writer: []parquet.WriterOption{parquet.DataPageVersion(1), parquet.PageBufferSize(4 << 10)}},
		{name: "snappy", tbl: pagesTable(), rows: mixedRows(6, pagesDay, nil, 4, 1500), opts: &SegmentWriterOptions{RowGroupRows: 2500},
			writer: []parquet.WriterOption{parquet.Compression(&parquet.Snappy)}},
		{name: "dictionary", tbl: pagesTable(), rows: mixedRows(7, pagesDay, nil, 2, 1500), opts: &SegmentWriterOptions{RowGroupRows: 2500},
			node: dictNode},
	}
})

// pagesFiles holds the test segments' bytes, written once for the tests
// that read them.
var pagesFiles struct {
	sync.Mutex
	m map[string][]byte
}

// pagesFile writes segment sp (a copy of the first one written) under dir
// and returns its path.
func pagesFile(t *testing.T, dir string, sp pagesSpec) string {
	t.Helper()
	pagesFiles.Lock()
	defer pagesFiles.Unlock()
	b, ok := pagesFiles.m[sp.name]
	if !ok {
		var err error
		if b, err = os.ReadFile(writePagesSegment(t, t.TempDir(), sp)); err != nil {
			t.Fatal(err)
		}
		if pagesFiles.m == nil {
			pagesFiles.m = map[string][]byte{}
		}
		pagesFiles.m[sp.name] = b
	}
	path := filepath.Join(dir, sp.name+".parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func plainNode(c SegmentColumn) (parquet.Node, error) {
	return encodedNode(c, &parquet.Plain)
}

func dictNode(c SegmentColumn) (parquet.Node, error) {
	return encodedNode(c, &parquet.RLEDictionary)
}

// encodedNode is parquetNode with enc for time, integer and float columns.
func encodedNode(c SegmentColumn, enc encoding.Encoding) (parquet.Node, error) {
	if c.Kind == colKindTime {
		return parquet.Encoded(parquet.Timestamp(parquet.Nanosecond), enc), nil
	}
	var n parquet.Node
	switch {
	case c.Kind != colKindField:
		return parquetNode(c)
	case c.Type == schema.TypeFloat:
		n = parquet.Leaf(parquet.DoubleType)
	case c.Type == schema.TypeInt:
		n = parquet.Int(64)
	case c.Type == schema.TypeUint:
		n = parquet.Uint(64)
	default:
		return parquetNode(c)
	}
	return parquet.FieldID(parquet.Optional(parquet.Encoded(n, enc)), int(c.FieldID)), nil
}

// writePagesSegment writes sp under dir and returns the file's path.
func writePagesSegment(t testing.TB, dir string, sp pagesSpec) string {
	t.Helper()
	dir = filepath.Join(dir, sp.name)
	if sp.rows == nil {
		path, _, _ := writeDevopsSegment(t, dir, 2, sp.opts)
		return path
	}
	rel := SegmentRelPath("default", sp.tbl.Database, sp.tbl.Name, pagesDay, 1)
	f, err := CreateSegmentFile(dir, rel, sp.tbl, pagesDay, nil, nil, sp.opts)
	if err != nil {
		t.Fatal(err)
	}
	if sp.node != nil || sp.writer != nil {
		// The same file with other Parquet column types or writer options.
		node := sp.node
		if node == nil {
			node = parquetNode
		}
		g := make(orderedGroup, len(f.cols))
		for i, c := range f.cols {
			n, err := node(c)
			if err != nil {
				t.Fatal(err)
			}
			g[i] = &orderedField{Node: n, name: c.Name}
		}
		if f.counter.n != 0 || f.bw.Buffered() != 0 {
			t.Fatal("segment writer wrote before its first row")
		}
		tableMeta, _ := jsonString(segmentTable{TenantID: sp.tbl.TenantID, TableID: sp.tbl.ID, Database: sp.tbl.Database, Name: sp.tbl.Name})
		opts := []parquet.WriterOption{
			parquet.NewSchema("fineod_segment", g),
			parquet.Compression(&pqzstd.Codec{Level: pqzstd.SpeedDefault}),
			parquet.MaxRowsPerRowGroup(f.groupRows),
			parquet.KeyValueMetadata(metaSegmentVersion, segmentVersion),
			parquet.KeyValueMetadata(metaSegmentColumns, marshalLayout(f.cols)),
			parquet.KeyValueMetadata(metaSegmentTable, tableMeta),
			parquet.KeyValueMetadata(metaSegmentDay, DayString(pagesDay)),
		}
		f.pw = parquet.NewWriter(f.counter, append(opts, sp.writer...)...)
	}
	for i, r := range sp.rows {
		if err := f.Add(r.tags, r.t, r.fields); err != nil {
			t.Fatal(err)
		}
		if sp.flush != nil && sp.flush(i) {
			if err := f.flushBatch(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := f.Publish(); err != nil {
		t.Fatal(err)
	}
	return segmentAbsPath(dir, rel)
}

// rangeColumn reports whether readRange may handle column c.
func rangeColumn(c *SegmentColumn) bool {
	return c.Kind == colKindTime || (c.Kind == colKindField && (c.Type == schema.TypeFloat || c.Type == schema.TypeInt || c.Type == schema.TypeUint))
}

// wholeChunk decodes column ci of row group gi with parquet-go.
func wholeChunk(t *testing.T, seg *Segment, gi, ci int) *colData {
	t.Helper()
	d := new(colData)
	r := &SegmentRows{s: seg}
	if err := r.loadColumn(d, &seg.cols[ci], seg.pf.RowGroups()[gi].ColumnChunks()[ci]); err != nil {
		t.Fatalf("group %d column %q: %v", gi, seg.cols[ci].Name, err)
	}
	if n := int(seg.pf.RowGroups()[gi].NumRows()); len(d.null) != n {
		t.Fatalf("group %d column %q: %d rows decoded, want %d", gi, seg.cols[ci].Name, len(d.null), n)
	}
	return d
}

// pageStarts returns the first row of each page of column ci of group gi
// (parquet-go's offset index), checking that Segment.pf's flat list of
// offset indexes agrees.
func pageStarts(t *testing.T, seg *Segment, gi, ci int) []int {
	t.Helper()
	oi, err := seg.pf.RowGroups()[gi].ColumnChunks()[ci].(*parquet.FileColumnChunk).OffsetIndex()
	if err != nil {
		t.Fatal(err)
	}
	var starts []int
	for p := range oi.NumPages() {
		starts = append(starts, int(oi.FirstRowIndex(p)))
	}
	flat := seg.pf.OffsetIndexes()[gi*len(seg.cols)+ci].PageLocations
	if len(flat) != len(starts) {
		t.Fatalf("group %d column %d: %d pages, flat offset index says %d", gi, ci, len(starts), len(flat))
	}
	for p := range flat {
		if int(flat[p].FirstRowIndex) != starts[p] {
			t.Fatalf("group %d column %d page %d: first row %d, flat offset index says %d", gi, ci, p, starts[p], flat[p].FirstRowIndex)
		}
	}
	return starts
}

// testRanges returns row ranges of a group of n rows with pages starting
// at starts: empty, single rows, whole pages and groups, ranges on and
// across page boundaries, and random ones.
func testRanges(r *rand.Rand, n int, starts []int) [][2]int {
	var out [][2]int
	add := func(lo, hi int) {
		lo, hi = max(0, min(lo, n)), max(0, min(hi, n))
		if lo <= hi {
			out = append(out, [2]int{lo, hi})
		}
	}
	add(0, 0)
	add(n, n)
	add(0, n)
	add(0, 1)
	add(n-1, n)
	add(n/2, n/2+1)
	add(1, n-1)
	ends := append(slices.Clone(starts[1:]), n)
	for p, b := range starts {
		if len(starts) > 8 && p > 0 && p < len(starts)-1 && r.IntN(len(starts)) >= 6 {
			continue // some of the pages of a long chunk
		}
		e := ends[p]
		add(b, b)
		add(b, b+1)
		add(b-1, b)
		add(b-1, b+1)
		add(b, e)
		add(b+1, e-1)
		add(b-1, e+1)
		add(e-1, e)
		add(b, b+129) // past a DELTA block
		add(b+127, b+129)
		add(b+r.IntN(max(1, e-b)), e)
		if p+1 < len(ends) { // two pages
			add(b, ends[p+1])
			add(b+1, ends[p+1]-1)
			add(e-1, ends[p+1]+1)
		}
	}
	for range 15 {
		lo := r.IntN(n + 1)
		switch r.IntN(3) {
		case 0:
			add(lo, lo+r.IntN(8))
		case 1:
			add(lo, lo+r.IntN(600))
		default:
			add(lo, lo+r.IntN(n-lo+1))
		}
	}
	return out
}

// pagesCoverage counts the page shapes range reads were checked on.
type pagesCoverage struct {
	multiPage, allNull, nullStart, nullEnd, noNull int
}

func TestReadRangeMatchesWholeChunk(t *testing.T) {
	dir := t.TempDir()
	var cov pagesCoverage
	ran := 0
	for i, sp := range pagesSpecs() {
		t.Run(sp.name, func(t *testing.T) {
			ran++
			seg, err := OpenSegment(pagesFile(t, dir, sp))
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			checkEncodings(t, seg, sp)
			r := rand.New(rand.NewPCG(uint64(i), 11))
			for gi := range seg.NumRowGroups() {
				for ci := range seg.cols {
					checkColumnRanges(t, seg, sp, r, gi, ci, &cov)
				}
			}
			if sp.name == "large" {
				// Page skipping: the time and dense float and integer
				// chunks of the 100,000-row group are several pages.
				for _, ci := range []int{0, seg.fieldCols[1], seg.fieldCols[2]} {
					if p := len(pageStarts(t, seg, 0, ci)); p < 3 {
						t.Errorf("column %q: %d pages in a group of %d rows", seg.cols[ci].Name, p, seg.pf.RowGroups()[0].NumRows())
					}
				}
			}
		})
	}
	t.Logf("pages checked: %+v", cov)
	if ran == len(pagesSpecs()) && (cov.multiPage == 0 || cov.allNull == 0 || cov.nullStart == 0 || cov.nullEnd == 0 || cov.noNull == 0) {
		t.Errorf("the segments lack a page shape: %+v", cov)
	}
}

// checkEncodings checks that the fast segments' chunks have the layouts
// the test means to cover.
func checkEncodings(t *testing.T, seg *Segment, sp pagesSpec) {
	if !sp.fast {
		return
	}
	for gi, rg := range seg.pf.Metadata().RowGroups {
		for ci, cc := range rg.Columns {
			c := &seg.cols[ci]
			if !rangeColumn(c) {
				continue
			}
			want := format.DeltaBinaryPacked
			if c.Kind == colKindField && c.Type == schema.TypeFloat {
				want = format.ByteStreamSplit
			}
			if sp.node != nil {
				want = format.Plain
			}
			for _, st := range cc.MetaData.EncodingStats {
				if st.PageType != format.DataPageV2 || st.Encoding != want {
					t.Fatalf("group %d column %q: %d pages %v %v, want DATA_PAGE_V2 %v", gi, c.Name, st.Count, st.PageType, st.Encoding, want)
				}
			}
		}
	}
}

func checkColumnRanges(t *testing.T, seg *Segment, sp pagesSpec, r *rand.Rand, gi, ci int, cov *pagesCoverage) {
	c := &seg.cols[ci]
	n := int(seg.pf.RowGroups()[gi].NumRows())
	if !rangeColumn(c) {
		// Tags, text and booleans: not handled, d untouched.
		d := colData{null: []bool{true}, i: []int64{7}, base: 3}
		ok, err := seg.readRange(gi, ci, 0, n, &d)
		if ok || err != nil || d.base != 3 || len(d.null) != 1 || d.i[0] != 7 {
			t.Fatalf("group %d column %q: readRange = %v, %v, d %+v", gi, c.Name, ok, err, d)
		}
		return
	}
	whole := wholeChunk(t, seg, gi, ci)
	starts := pageStarts(t, seg, gi, ci)
	if len(starts) > 1 {
		cov.multiPage++
	}
	if c.Kind == colKindField && sp.fast {
		ends := append(slices.Clone(starts[1:]), n)
		for p, b := range starts {
			e := ends[p]
			switch {
			case !slices.Contains(whole.null[b:e], false):
				cov.allNull++
			case !slices.Contains(whole.null[b:e], true):
				cov.noNull++
			default:
				if whole.null[b] {
					cov.nullStart++
				}
				if whole.null[e-1] {
					cov.nullEnd++
				}
			}
		}
	}
	// d is reused across reads, as an iterator's column is.
	var d colData
	for _, rg := range testRanges(r, n, starts) {
		lo, hi := rg[0], rg[1]
		ok, err := seg.readRange(gi, ci, lo, hi, &d)
		if err != nil {
			t.Fatalf("group %d column %q rows [%d, %d): %v", gi, c.Name, lo, hi, err)
		}
		if ok != sp.fast && (lo < hi || !ok) { // an empty range needs no page
			t.Fatalf("group %d column %q rows [%d, %d): readRange ok = %v, want %v", gi, c.Name, lo, hi, ok, sp.fast)
		}
		if !ok {
			if len(d.null) != 0 || len(d.i) != 0 || len(d.f) != 0 || d.base != 0 {
				t.Fatalf("group %d column %q: readRange reported false but left %d rows at %d", gi, c.Name, len(d.null), d.base)
			}
			continue
		}
		compareRange(t, c, gi, whole, &d, lo, hi)
	}
	if !sp.fast {
		return
	}
	// A column the decoded-column cache shares must not be written to.
	shared := colData{null: make([]bool, 3, n+8), i: make([]int64, 3, n+8), f: make([]float64, 3, n+8), shared: true}
	keepNull, keepI, keepF := shared.null[:n+8], shared.i[:n+8], shared.f[:n+8]
	d = shared
	lo := r.IntN(n)
	if ok, err := seg.readRange(gi, ci, lo, n, &d); !ok || err != nil {
		t.Fatalf("group %d column %q: readRange over a shared column = %v, %v", gi, c.Name, ok, err)
	}
	compareRange(t, c, gi, whole, &d, lo, n)
	if slices.Contains(keepNull, true) || slices.ContainsFunc(keepI, func(x int64) bool { return x != 0 }) || slices.ContainsFunc(keepF, func(x float64) bool { return x != 0 }) {
		t.Fatalf("group %d column %q: readRange wrote into a shared (cached) column", gi, c.Name)
	}
	// Rows outside the group.
	for _, bad := range [][2]int{{-1, 1}, {0, n + 1}, {n, n + 1}, {2, 1}} {
		if ok, err := seg.readRange(gi, ci, bad[0], bad[1], &d); ok || err == nil {
			t.Fatalf("group %d column %q rows [%d, %d) of %d: readRange = %v, %v", gi, c.Name, bad[0], bad[1], n, ok, err)
		}
	}
}

// compareRange compares d, a range read of rows [lo, hi), with the whole
// chunk's decoding.
func compareRange(t *testing.T, c *SegmentColumn, gi int, whole, d *colData, lo, hi int) {
	t.Helper()
	isFloat := c.Kind == colKindField && c.Type == schema.TypeFloat
	if d.base != lo || len(d.null) != hi-lo || (isFloat && len(d.f) != hi-lo) || (!isFloat && len(d.i) != hi-lo) {
		t.Fatalf("group %d column %q rows [%d, %d): base %d, %d nulls, %d ints, %d floats", gi, c.Name, lo, hi, d.base, len(d.null), len(d.i), len(d.f))
	}
	if !d.covers(lo, hi) || (hi > lo && (!d.has(lo) || !d.has(hi-1) || d.has(hi) || d.has(lo-1))) {
		t.Fatalf("group %d column %q rows [%d, %d): has/covers disagree with base %d, %d rows", gi, c.Name, lo, hi, d.base, len(d.null))
	}
	for row := lo; row < hi; row++ {
		k := row - lo
		if d.null[k] != whole.null[row] {
			t.Fatalf("group %d column %q rows [%d, %d): row %d null %v, whole chunk says %v", gi, c.Name, lo, hi, row, d.null[k], whole.null[row])
		}
		if d.null[k] {
			continue
		}
		if isFloat {
			if got, want := math.Float64bits(d.f[k]), math.Float64bits(whole.f[row]); got != want {
				t.Fatalf("group %d column %q rows [%d, %d): row %d = %v (%#x), whole chunk says %v (%#x)", gi, c.Name, lo, hi, row, d.f[k], got, whole.f[row], want)
			}
		} else if d.i[k] != whole.i[row] {
			t.Fatalf("group %d column %q rows [%d, %d): row %d = %d, whole chunk says %d", gi, c.Name, lo, hi, row, d.i[k], whole.i[row])
		}
	}
}

// refRow is a row of a full scan.
type refRow struct {
	key, tags string
	t         int64
	group     int
	fields    []FieldValue // strings copied
}

// refRows are a segment's rows, from a full scan without the cache.
type refRows struct {
	rows   []refRow
	series map[string][2]int // tag string -> its rows [lo, hi)
}

func scanAllRows(t *testing.T, seg *Segment) *refRows {
	t.Helper()
	q := AllTime
	q.NoCache = true
	it := seg.Rows(q)
	defer it.Close()
	all := &refRows{series: map[string][2]int{}}
	for it.Next() {
		fs := slices.Clone(it.Fields())
		for i := range fs {
			fs[i].S = slices.Clone(fs[i].S)
		}
		k := len(all.rows)
		all.rows = append(all.rows, refRow{key: it.TagKey(), tags: fmtTags(it.Tags()), t: it.Time(), group: seg.groupOf(int64(k)), fields: fs})
		sp, ok := all.series[it.TagKey()]
		if !ok {
			sp[0] = k
		}
		sp[1] = k + 1
		all.series[it.TagKey()] = sp
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if int64(len(all.rows)) != seg.NumRows() {
		t.Fatalf("full scan: %d rows of %d", len(all.rows), seg.NumRows())
	}
	return all
}

// find returns the index of series key's row at time ts, -1 if none.
func (a *refRows) find(key string, ts int64) int {
	sp, ok := a.series[key]
	if !ok {
		return -1
	}
	i, found := slices.BinarySearchFunc(a.rows[sp[0]:sp[1]], ts, func(r refRow, ts int64) int { return cmp.Compare(r.t, ts) })
	if !found {
		return -1
	}
	return sp[0] + i
}

// fieldString formats fields exactly (floats by their bits).
func fieldString(fs []FieldValue) string {
	var b strings.Builder
	for _, f := range fs {
		switch f.Type {
		case schema.TypeFloat:
			fmt.Fprintf(&b, "%d:f%016x ", f.ID, math.Float64bits(f.F))
		case schema.TypeInt, schema.TypeUint:
			fmt.Fprintf(&b, "%d:i%d ", f.ID, f.I)
		case schema.TypeBool:
			fmt.Fprintf(&b, "%d:b%t ", f.ID, f.B)
		case schema.TypeString:
			fmt.Fprintf(&b, "%d:s%q ", f.ID, f.S)
		}
	}
	return b.String()
}

func sameField(a, b FieldValue) bool {
	if a.ID != b.ID || a.Type != b.Type {
		return false
	}
	switch a.Type {
	case schema.TypeFloat:
		return math.Float64bits(a.F) == math.Float64bits(b.F)
	case schema.TypeBool:
		return a.B == b.B
	case schema.TypeString:
		return string(a.S) == string(b.S)
	}
	return a.I == b.I
}

// projected returns the fields of row that q reads.
func projected(q *SegmentQuery, row *refRow) []FieldValue {
	if q.Fields == nil {
		return row.fields
	}
	var fs []FieldValue
	for _, f := range row.fields {
		if slices.Contains(q.Fields, f.ID) {
			fs = append(fs, f)
		}
	}
	return fs
}

// rowString formats row as q returns it.
func rowString(all *refRows, q *SegmentQuery, k int) string {
	if k < 0 || k >= len(all.rows) {
		return "(none)"
	}
	row := &all.rows[k]
	return fmt.Sprintf("row %d: %s %d %s", k, row.tags, row.t, fieldString(projected(q, row)))
}

// wantRows returns the rows (indexes into all) Rows(q) returns.
func wantRows(all *refRows, q SegmentQuery) []int {
	keep := func(k int) bool {
		row := &all.rows[k]
		if row.t < q.MinTime || row.t > q.MaxTime {
			return false
		}
		if q.EndGroup > 0 && (row.group < q.FirstGroup || row.group >= q.EndGroup) {
			return false
		}
		for _, m := range q.Tags {
			if !slices.Contains(strings.Split(row.tags, ","), m.Key+"="+m.Value) {
				return false
			}
		}
		return true
	}
	var out []int
	for _, key := range q.Series {
		sp, ok := all.series[key]
		if !ok {
			continue
		}
		for k := sp[0]; k < sp[1]; k++ {
			if !keep(k) {
				continue
			}
			if q.LastPerSeries && k+1 < sp[1] && all.rows[k+1].group == all.rows[k].group && keep(k+1) {
				continue
			}
			out = append(out, k)
		}
	}
	return out
}

// queryError runs q and compares its rows with want, the indexes into
// all of the rows it must return: series, time and fields, and Field
// against Fields.
func queryError(seg *Segment, all *refRows, q SegmentQuery) error {
	want := wantRows(all, q)
	it := seg.Rows(q)
	defer it.Close()
	ids := q.Fields
	if ids == nil {
		for _, c := range seg.cols {
			if c.Kind == colKindField {
				ids = append(ids, c.FieldID)
			}
		}
	}
	n := 0
	lastKey := "\xff"
	for ; it.Next(); n++ {
		if n >= len(want) {
			return fmt.Errorf("%d rows or more, want %d; extra row: %q %d", n+1, len(want), it.TagKey(), it.Time())
		}
		k := want[n]
		row := &all.rows[k]
		if it.TagKey() != row.key || it.Time() != row.t {
			return fmt.Errorf("result row %d: %q %d, want %s", n, it.TagKey(), it.Time(), rowString(all, &q, k))
		}
		// The first and last rows of each stretch of consecutive rows, and
		// every fourth row, are checked in full.
		edge := it.TagKey() != lastKey || n == 0 || want[n-1] != k-1 || n+1 == len(want) || want[n+1] != k+1 || n%4 == 0
		if it.TagKey() != lastKey {
			if tags := fmtTags(it.Tags()); tags != row.tags {
				return fmt.Errorf("result row %d: tags %s, want %s", n, tags, row.tags)
			}
			lastKey = it.TagKey()
		}
		fs, wf := it.Fields(), projected(&q, row)
		if !slices.EqualFunc(fs, wf, sameField) {
			return fmt.Errorf("result row %d: fields %s, want %s", n, fieldString(fs), rowString(all, &q, k))
		}
		for _, id := range ids {
			if !edge {
				break
			}
			f, ok := it.Field(id)
			j := slices.IndexFunc(wf, func(x FieldValue) bool { return x.ID == id })
			if ok != (j >= 0) || (ok && !sameField(f, wf[j])) {
				return fmt.Errorf("result row %d: Field(%d) = %v, %v; want %s", n, id, f, ok, rowString(all, &q, k))
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if n != len(want) {
		return fmt.Errorf("%d rows, want %d; first missing: %s", n, len(want), rowString(all, &q, want[n]))
	}
	if st := it.Stats(); st.Rows != int64(n) {
		return fmt.Errorf("stats: %d rows, %d returned", st.Rows, n)
	}
	return nil
}

// randomQuery returns an indexed query over a random subset of the
// segment's series and a random time window.
func randomQuery(r *rand.Rand, seg *Segment, all *refRows, keys []string) SegmentQuery {
	var q SegmentQuery
	switch x := r.IntN(10); {
	case x == 0:
		q.Series = []string{}
	case x == 1:
		q.Series = slices.Clone(keys)
	default:
		p := []float64{0.1, 0.3, 0.7}[r.IntN(3)]
		for _, k := range keys {
			if r.Float64() < p {
				q.Series = append(q.Series, k)
			}
		}
		if len(q.Series) == 0 {
			q.Series = []string{keys[r.IntN(len(keys))]}
		}
	}
	if r.IntN(4) == 0 {
		// Series the segment lacks, before, between and after its own.
		q.Series = append(q.Series, "", keys[0]+"\x00", "host\x00h0\x00", "zzz")
		slices.Sort(q.Series)
		q.Series = slices.Compact(q.Series)
	}
	t1, t2 := all.rows[r.IntN(len(all.rows))].t, all.rows[r.IntN(len(all.rows))].t
	switch r.IntN(8) {
	case 0:
		q.MinTime, q.MaxTime = math.MinInt64, math.MaxInt64
	case 1:
		q.MinTime, q.MaxTime = max(t1, t2), min(t1, t2) // empty unless equal
	case 2:
		q.MinTime, q.MaxTime = min(t1, t2)+1, max(t1, t2)-1
	case 3:
		q.MinTime, q.MaxTime = t1, t1 // one instant
	case 4:
		q.MinTime, q.MaxTime = t1, t1+r.Int64N(5e7)
	default:
		q.MinTime, q.MaxTime = min(t1, t2), max(t1, t2)
	}
	switch r.IntN(5) {
	case 0:
		q.Fields = []uint32{}
	case 1, 2:
		for _, c := range seg.cols {
			if c.Kind == colKindField && r.IntN(3) == 0 {
				q.Fields = append(q.Fields, c.FieldID)
			}
		}
		if r.IntN(3) == 0 {
			q.Fields = append(q.Fields, 99) // not a column
		}
		if q.Fields == nil {
			q.Fields = []uint32{}
		}
	}
	q.LastPerSeries = r.IntN(3) == 0
	q.NoCache = r.IntN(2) == 0
	if r.IntN(8) == 0 {
		for _, kv := range strings.Split(all.rows[r.IntN(len(all.rows))].tags, ",") {
			if v, ok := strings.CutPrefix(kv, "rack="); ok {
				q.Tags = []TagMatch{{"rack", v}}
			}
		}
	}
	if g := seg.NumRowGroups(); g > 1 && r.IntN(8) == 0 {
		q.FirstGroup = r.IntN(g)
		q.EndGroup = q.FirstGroup + 1 + r.IntN(g-q.FirstGroup)
	}
	return q
}

func checkQuery(t *testing.T, seg *Segment, all *refRows, q SegmentQuery) {
	t.Helper()
	if err := queryError(seg, all, q); err != nil {
		t.Fatalf("query %s: %v", fmtQuery(q), err)
	}
}

func fmtQuery(q SegmentQuery) string {
	return fmt.Sprintf("{series %q time [%d, %d] fields %v tags %v groups [%d, %d) last %v nocache %v}",
		q.Series, q.MinTime, q.MaxTime, q.Fields, q.Tags, q.FirstGroup, q.EndGroup, q.LastPerSeries, q.NoCache)
}

func TestIndexedRowsMatchScan(t *testing.T) {
	colCache.Lock()
	oldCache := colCache.max
	colCache.Unlock()
	defer SetDecodedCacheSize(oldCache)
	dir := t.TempDir()
	for i, sp := range pagesSpecs() {
		t.Run(sp.name, func(t *testing.T) {
			SetDecodedCacheSize(oldCache)
			seg, err := OpenSegment(pagesFile(t, dir, sp))
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			if seg.runs == nil {
				t.Fatal("no series index")
			}
			all := scanAllRows(t, seg)
			var keys []string
			for _, run := range seg.runs {
				keys = append(keys, run.Key)
			}
			r := rand.New(rand.NewPCG(uint64(i), 23))
			// Random queries, cache on and off.
			queries := 60
			if len(all.rows) > 50000 {
				queries = 20
			}
			for range queries {
				checkQuery(t, seg, all, randomQuery(r, seg, all, keys))
			}
			// One series, windows sliding over its rows: range reads of
			// each row group's columns replace each other in the cache;
			// repeating a window reuses the cached range.
			ranges := 0 // range reads seen in the cache
			for _, size := range []int64{64 << 20, 256 << 10} {
				SetDecodedCacheSize(size)
				key := keys[r.IntN(len(keys))]
				var times []int64
				for _, row := range all.rows {
					if row.key == key {
						times = append(times, row.t)
					}
				}
				for w := range 12 {
					a := r.IntN(len(times))
					b := min(len(times)-1, a+r.IntN(2000))
					q := SegmentQuery{Series: []string{key}, MinTime: times[a], MaxTime: times[b], LastPerSeries: w%4 == 3}
					if w%3 == 1 {
						q.Fields = []uint32{1, 2}
					}
					checkQuery(t, seg, all, q)
					ranges = max(ranges, cachedRanges(seg))
					checkQuery(t, seg, all, q) // from the cache
					// A narrower window inside it, then a wider one.
					n := q
					n.MinTime, n.MaxTime = times[(a+b)/2], times[(a+b)/2]
					checkQuery(t, seg, all, n)
					n.MinTime, n.MaxTime = times[max(0, a-300)], times[min(len(times)-1, b+300)]
					checkQuery(t, seg, all, n)
				}
				for range queries / 3 {
					q := randomQuery(r, seg, all, keys)
					q.NoCache = false
					checkQuery(t, seg, all, q)
				}
				// Full scans must not take cached ranges for whole chunks.
				checkScan(t, seg, all)
			}
			if sp.fast && ranges == 0 {
				t.Error("no range read was cached")
			}
			// Concurrent readers sharing cached columns.
			SetDecodedCacheSize(64 << 20)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failures []string
			qs := make([][]SegmentQuery, 4)
			for g := range qs {
				for range queries / 8 {
					q := randomQuery(r, seg, all, keys)
					q.NoCache = false
					qs[g] = append(qs[g], q)
				}
			}
			for g := range qs {
				wg.Go(func() {
					for _, q := range qs[g] {
						if err := queryError(seg, all, q); err != nil {
							mu.Lock()
							failures = append(failures, fmtQuery(q)+": "+err.Error())
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			for _, f := range failures {
				t.Error(f)
			}
		})
	}
}

// cachedRanges counts the decoded-column cache's entries of seg that are
// range reads (not whole chunks).
func cachedRanges(seg *Segment) int {
	colCache.Lock()
	defer colCache.Unlock()
	n := 0
	for k, e := range colCache.index {
		d := &e.Value.(*colEntry).data
		if k.seg == seg && (d.base != 0 || int64(len(d.null)) != seg.groupRow[k.group+1]-seg.groupRow[k.group]) {
			n++
		}
	}
	return n
}

// checkScan checks a full scan (cache on) against all.
func checkScan(t *testing.T, seg *Segment, all *refRows) {
	t.Helper()
	it := seg.Rows(AllTime)
	defer it.Close()
	k := 0
	for it.Next() {
		if k >= len(all.rows) {
			t.Fatalf("full scan with the cache: more than %d rows", len(all.rows))
		}
		row := &all.rows[k]
		if it.TagKey() != row.key || it.Time() != row.t || !slices.EqualFunc(it.Fields(), row.fields, sameField) {
			t.Fatalf("full scan with the cache: row %d: %q %d %s, want %s", k, it.TagKey(), it.Time(), fieldString(it.Fields()), rowString(all, &AllTime, k))
		}
		k++
	}
	if err := it.Err(); err != nil || k != len(all.rows) {
		t.Fatalf("full scan with the cache: %d rows of %d, %v", k, len(all.rows), err)
	}
}

// deltaValues derives int64s from fuzz input: raw values, small steps,
// extremes and runs of a repeated step (zero-width miniblocks).
func deltaValues(data []byte) []int64 {
	var vals []int64
	var prev, step int64
	for i := 0; i < len(data) && len(vals) < 5000; i++ {
		op := data[i]
		switch op & 3 {
		case 0: // the next 8 bytes
			var x [8]byte
			copy(x[:], data[i+1:])
			i += 8
			step = int64(binary.LittleEndian.Uint64(x[:])) - prev
			prev += step
			vals = append(vals, prev)
		case 1: // a small step
			step = int64(int8(op) >> 2)
			prev += step
			vals = append(vals, prev)
		case 2: // an extreme
			prev = specialInts[int(op>>2)%len(specialInts)]
			vals = append(vals, prev)
		case 3: // the last step again, 4x times
			for range int(op>>2) * 4 {
				prev += step
				vals = append(vals, prev)
			}
		}
	}
	return vals
}

// dirtyBufs returns page buffers holding garbage from an earlier read.
func dirtyBufs() *pageBufs {
	b := &pageBufs{scratch: make([]byte, 0, 64), out: make([]uint64, 16)}
	for i := range b.mini {
		b.mini[i] = int64(i) * -0x123456789
	}
	for i := range b.out {
		b.out[i] = 0xdeadbeef
	}
	return b
}

func FuzzDeltaInt64(f *testing.F) {
	f.Add([]byte{}, uint16(0), uint16(0))
	f.Add([]byte{2, 6, 2, 6, 1, 0xfd, 0x7f}, uint16(1), uint16(4))
	f.Add([]byte{0x05, 0xff, 0xff, 0xff}, uint16(100), uint16(700))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint16) {
		defer failOnPanic(t)
		// Differential: parquet-go's encoding of values from data.
		vals := deltaValues(data)
		enc, err := new(delta.BinaryPackedEncoding).EncodeInt64(nil, vals)
		if err != nil {
			t.Fatal(err)
		}
		n := len(vals)
		va, vb := int(a)%(n+1), int(b)%(n+1)
		if va > vb {
			va, vb = vb, va
		}
		// Checkpoints as the segment writer records them (value
		// (k+1)*every for every index below n), at two spacings.
		cpsOf := func(every int) []int64 {
			var cps []int64
			for j := every; j < n; j += every {
				cps = append(cps, vals[j])
			}
			return cps
		}
		for _, every := range []int{0, 128, 1024} {
			var cps []int64
			if every > 0 {
				cps = cpsOf(every)
			}
			for _, bufs := range []*pageBufs{new(pageBufs), dirtyBufs()} {
				out := make([]uint64, vb-va)
				for i := range out {
					out[i] = 0xdeadbeef
				}
				if err := decodeDeltaInt64(enc, va, vb, bufs, out, cps, every); err != nil {
					t.Fatalf("values [%d, %d) of %d, checkpoints every %d: %v", va, vb, n, every, err)
				}
				for i, x := range out {
					if int64(x) != vals[va+i] {
						t.Fatalf("values [%d, %d) of %d, checkpoints every %d: value %d = %d, want %d", va, vb, n, every, va+i, int64(x), vals[va+i])
					}
				}
			}
		}
		// Raw input: any error, no panic; where parquet-go decodes the
		// stream too, the same values.
		va, vb = int(a)%4097, int(b)%4097
		if va > vb {
			va, vb = vb, va
		}
		out := make([]uint64, vb-va)
		if err := decodeDeltaInt64(data, va, vb, new(pageBufs), out, nil, 0); err != nil || va == vb {
			return
		}
		if total, n := binary.Uvarint(skipUvarints(data, 2)); n <= 0 || total > 1<<16 {
			return
		}
		ref, err := new(delta.BinaryPackedEncoding).DecodeInt64(nil, data)
		if err != nil || len(ref) < vb {
			return
		}
		for i, x := range out {
			if int64(x) != ref[va+i] {
				t.Fatalf("raw stream, values [%d, %d): value %d = %d, parquet-go says %d", va, vb, va+i, int64(x), ref[va+i])
			}
		}
	})
}

// failOnPanic turns a panic of the code under test into a failure of this
// input alone, so that the other tests still run.
func failOnPanic(t *testing.T) {
	if p := recover(); p != nil {
		t.Fatalf("panic: %v\n%s", p, debug.Stack())
	}
}

// skipUvarints returns b after its first n uvarints.
func skipUvarints(b []byte, n int) []byte {
	for range n {
		_, k := binary.Uvarint(b)
		if k <= 0 {
			return nil
		}
		b = b[k:]
	}
	return b
}

func FuzzPageHeader(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{0x00}, uint16(8))
	f.Fuzz(func(t *testing.T, data []byte, rows uint16) {
		// A header that makes parse loop must fail the test, not hang it.
		var (
			h   pageHeader
			n   int
			err error
		)
		done := make(chan any)
		go func() {
			defer func() { done <- recover() }()
			n, err = h.parse(data)
		}()
		select {
		case p := <-done:
			if p != nil {
				t.Fatalf("parse of %q: panic: %v", data, p)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("parse of %q did not return", data)
		}
		defer failOnPanic(t)
		if err == nil {
			if n < 1 || n > len(data) {
				t.Fatalf("parse = %d of %d bytes", n, len(data))
			}
			// The header ends at its STOP: what follows does not matter.
			var h2 pageHeader
			if n2, err := h2.parse(data[:n]); err != nil || n2 != n || h2 != h {
				t.Fatalf("parse of the header alone = %d, %v (%+v); with the rest %d (%+v)", n2, err, h2, n, h)
			}
			if h.defLen < 0 || h.repLen < 0 || h.compressedSize < 0 || h.uncompressedSize < 0 {
				t.Fatalf("negative length accepted: %+v", h)
			}
			// The levels of a page: the bytes after the header.
			if h.v2 && h.numRows >= 0 && h.numRows <= 1<<14 {
				body := data[n:]
				body = body[:min(len(body), int(h.defLen))]
				_ = decodeLevels(body, make([]bool, h.numRows))
			}
		}
		_ = decodeLevels(data, make([]bool, int(rows)%(1<<14)))
	})
}

// FuzzPageHeaderRoundTrip parses headers that parquet-go's Thrift encoder
// wrote.
func FuzzPageHeaderRoundTrip(f *testing.F) {
	f.Add(uint8(format.DataPageV2), int32(1000), int32(400), int32(100), int32(3), int32(100), uint8(format.DeltaBinaryPacked), int32(6), int32(0), uint8(0), []byte(nil))
	f.Add(uint8(format.DataPage), int32(10), int32(10), int32(1), int32(0), int32(1), uint8(format.Plain), int32(0), int32(0), uint8(0xff), []byte("min"))
	f.Fuzz(func(t *testing.T, typ uint8, usize, csize, nv, nn, nr int32, enc uint8, defLen, repLen int32, flags uint8, stats []byte) {
		defer failOnPanic(t)
		ph := format.PageHeader{Type: format.PageType(typ), UncompressedPageSize: usize, CompressedPageSize: csize}
		if flags&1 != 0 {
			ph.CRC = int32(usize ^ csize)
		}
		st := format.Statistics{Min: stats, Max: stats, NullCount: int64(nn), MinValue: stats}
		v2 := flags&2 == 0
		if v2 {
			hv := format.DataPageHeaderV2{NumValues: nv, NumNulls: nn, NumRows: nr, Encoding: format.Encoding(enc),
				DefinitionLevelsByteLength: defLen, RepetitionLevelsByteLength: repLen}
			if flags&4 != 0 {
				hv.IsCompressed = thrift.New(flags&8 != 0)
			}
			if flags&16 != 0 {
				hv.Statistics = st
			}
			ph.DataPageHeaderV2 = thrift.New(hv)
		} else {
			ph.DataPageHeader = thrift.New(format.DataPageHeader{NumValues: nv, Encoding: format.Encoding(enc), Statistics: st})
		}
		if flags&32 != 0 {
			ph.DictionaryPageHeader = thrift.New(format.DictionaryPageHeader{NumValues: nv, Encoding: format.Encoding(enc)})
		}
		b, err := thrift.Marshal(new(thrift.CompactProtocol), &ph)
		if err != nil {
			t.Skip(err)
		}
		var h pageHeader
		n, err := h.parse(append(b, stats...))
		negative := usize < 0 || csize < 0 || (v2 && (defLen < 0 || repLen < 0))
		if negative {
			if err == nil {
				t.Fatalf("negative length accepted: %+v", h)
			}
			return
		}
		if err != nil || n != len(b) {
			t.Fatalf("parse = %d, %v; header of %d bytes", n, err, len(b))
		}
		want := pageHeader{typ: ph.Type, uncompressedSize: usize, compressedSize: csize, compressed: true}
		if v2 {
			want.v2, want.numValues, want.numNulls, want.numRows = true, nv, nn, nr
			want.encoding, want.defLen, want.repLen = format.Encoding(enc), defLen, repLen
			if flags&4 != 0 {
				want.compressed = flags&8 != 0
			}
		}
		if h != want {
			t.Fatalf("parse = %+v, want %+v", h, want)
		}
	})
}

// FuzzDefinitionLevels decodes levels parquet-go's RLE encoder wrote.
func FuzzDefinitionLevels(f *testing.F) {
	f.Add([]byte{0xff, 0x00, 0x0f}, uint16(24))
	f.Add([]byte{0xaa}, uint16(1000))
	f.Fuzz(func(t *testing.T, data []byte, n uint16) {
		defer failOnPanic(t)
		// Levels: data's bits, each byte's bit 0 stretched over runs.
		levels := make([]uint8, int(n)%(1<<14))
		for i := range levels {
			if len(data) == 0 {
				break
			}
			x := data[(i/8)%len(data)]
			if x&0x80 != 0 {
				levels[i] = x & 1 // a run of 8
			} else {
				levels[i] = x >> (i % 7) & 1
			}
		}
		enc, err := (&rle.Encoding{BitWidth: 1}).EncodeLevels(nil, slices.Clone(levels))
		if err != nil {
			t.Fatal(err)
		}
		present := make([]bool, len(levels))
		for i := range present {
			present[i] = i%3 == 0 // garbage
		}
		if err := decodeLevels(enc, present); err != nil {
			t.Fatalf("%d levels: %v", len(levels), err)
		}
		for i, l := range levels {
			if present[i] != (l == 1) {
				t.Fatalf("%d levels: level %d = %v, want %d", len(levels), i, present[i], l)
			}
		}
	})
}

// TestSegmentCheckpoints checks the checkpoints a segment records: for
// the time and every integer column, per row group, the value at each
// 1024th non-null value, read back from the footer.
func TestSegmentCheckpoints(t *testing.T) {
	path, _, _ := writeDevopsSegment(t, t.TempDir(), 3, &SegmentWriterOptions{RowGroupRows: 5000})
	seg, err := OpenSegment(path)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	if seg.cps.Every != checkpointEvery {
		t.Fatalf("checkpoints every %d, want %d", seg.cps.Every, checkpointEvery)
	}
	total := 0
	for ci, c := range seg.cols {
		if c.Kind != colKindTime && c.Type != schema.TypeInt {
			continue
		}
		for gi := range seg.NumRowGroups() {
			whole := wholeChunk(t, seg, gi, ci)
			var want []int64
			j := 0
			for r := range whole.null {
				if whole.null[r] {
					continue
				}
				if j > 0 && j%checkpointEvery == 0 {
					want = append(want, whole.i[r])
				}
				j++
			}
			if got := seg.checkpoints(gi, ci); !slices.Equal(got, want) {
				t.Fatalf("group %d column %q: checkpoints %v, want %v", gi, c.Name, got, want)
			}
			total += len(want)
		}
	}
	if total == 0 {
		t.Fatal("no checkpoints")
	}
}

// TestPageHeaderDeepNesting: lists nested millions deep (one byte a
// level) in a corrupt page header are an error, not a stack overflow.
func TestPageHeaderDeepNesting(t *testing.T) {
	b := append([]byte{0xf9}, bytes.Repeat([]byte{0x19}, 16<<20)...)
	var h pageHeader
	if _, err := h.parse(b); !errors.Is(err, errPageFormat) {
		t.Fatalf("parse = %v, want errPageFormat", err)
	}
}
