package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"sync"

	"github.com/fineod/fineod/schema"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// ErrNotSegment is returned by OpenSegment for a Parquet file that is not a
// fineod segment of a known version.
var ErrNotSegment = errors.New("storage: not a fineod segment")

// Segment is an open segment file. Its methods may be called concurrently;
// each SegmentRows iterator is for one goroutine.
type Segment struct {
	f         *os.File
	pf        *parquet.File
	cols      []SegmentColumn
	table     segmentTable
	day       string
	tagCols   []int          // tag columns, in file order (sorted by key)
	fieldCols map[uint32]int // field id -> column

	groupStarts []groupStart // nil if the file does not record them
	runs        []seriesRun  // nil if the file does not record them
	groupRow    []int64      // first row of each row group, and the total at the end
	cps         segmentCheckpoints
}

// checkpoints returns column ci's checkpoints in row group gi (nil if the
// file has none).
func (s *Segment) checkpoints(gi, ci int) []int64 {
	c := s.cps.Cols[ci]
	if gi >= len(c) {
		return nil
	}
	return c[gi]
}

// groupOf returns the row group of row abs.
func (s *Segment) groupOf(abs int64) int {
	return sort.Search(len(s.groupRow)-1, func(g int) bool { return s.groupRow[g+1] > abs })
}

// OpenSegment opens a segment file and reads its footer. It returns an
// error wrapping ErrNotSegment if the file lacks fineod's metadata.
func OpenSegment(path string) (*Segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("storage: open segment: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: open segment: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: open segment %s: %w", path, err)
	}
	s := &Segment{f: f, pf: pf, fieldCols: map[uint32]int{}}
	if err := s.init(); err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: open segment %s: %w", path, err)
	}
	return s, nil
}

func (s *Segment) init() error {
	if v, _ := s.pf.Lookup(metaSegmentVersion); v != segmentVersion {
		return fmt.Errorf("%w: version %q", ErrNotSegment, v)
	}
	cv, _ := s.pf.Lookup(metaSegmentColumns)
	if err := json.Unmarshal([]byte(cv), &s.cols); err != nil {
		return fmt.Errorf("%w: columns: %v", ErrNotSegment, err)
	}
	tv, _ := s.pf.Lookup(metaSegmentTable)
	if err := json.Unmarshal([]byte(tv), &s.table); err != nil {
		return fmt.Errorf("%w: table: %v", ErrNotSegment, err)
	}
	s.day, _ = s.pf.Lookup(metaSegmentDay)
	s.groupRow = make([]int64, 0, len(s.pf.RowGroups())+1)
	var total int64
	for _, rg := range s.pf.RowGroups() {
		s.groupRow = append(s.groupRow, total)
		total += rg.NumRows()
	}
	s.groupRow = append(s.groupRow, total)
	if sv, ok := s.pf.Lookup(metaSegmentSeries); ok {
		var runs []seriesRun
		if json.Unmarshal([]byte(sv), &runs) == nil {
			// Use the index only if it covers the rows exactly, in order.
			var next int64
			good := true
			for i, r := range runs {
				if r.Row != next || r.N <= 0 || (i > 0 && r.Key <= runs[i-1].Key) {
					good = false
					break
				}
				next += r.N
			}
			if good && next == total {
				s.runs = runs
			}
		}
	}
	if gv, ok := s.pf.Lookup(metaSegmentGroups); ok {
		var gs []groupStart
		if json.Unmarshal([]byte(gv), &gs) == nil && len(gs) == len(s.pf.RowGroups()) {
			s.groupStarts = gs
		}
	}
	if cv, ok := s.pf.Lookup(metaSegmentCheckpoints); ok {
		var cps segmentCheckpoints
		if json.Unmarshal([]byte(cv), &cps) == nil && cps.Every > 0 && cps.Every%128 == 0 {
			s.cps = cps
		}
	}
	leaves := s.pf.Schema().Columns()
	if len(leaves) != len(s.cols) {
		return fmt.Errorf("%w: %d columns in the schema, %d in the metadata", ErrNotSegment, len(leaves), len(s.cols))
	}
	for i, c := range s.cols {
		if len(leaves[i]) != 1 || leaves[i][0] != c.Name {
			return fmt.Errorf("%w: column %d is %q, metadata says %q", ErrNotSegment, i, leaves[i], c.Name)
		}
		switch c.Kind {
		case colKindTime:
			if i != 0 {
				return fmt.Errorf("%w: time is column %d", ErrNotSegment, i)
			}
		case colKindTag:
			s.tagCols = append(s.tagCols, i)
		case colKindField:
			if !c.Type.Valid() {
				return fmt.Errorf("%w: column %q has type %d", ErrNotSegment, c.Name, c.Type)
			}
			s.fieldCols[c.FieldID] = i
		default:
			return fmt.Errorf("%w: column %q has kind %q", ErrNotSegment, c.Name, c.Kind)
		}
	}
	if len(s.cols) == 0 || s.cols[0].Kind != colKindTime {
		return fmt.Errorf("%w: no time column", ErrNotSegment)
	}
	return nil
}

// Close closes the file. It is safe to call twice.
func (s *Segment) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	forgetSegment(s)
	return err
}

// Columns returns the segment's columns in file order.
func (s *Segment) Columns() []SegmentColumn { return s.cols }

// NumRows is the number of rows (points) in the segment.
func (s *Segment) NumRows() int64 { return s.pf.NumRows() }

// NumRowGroups is the number of row groups in the segment.
func (s *Segment) NumRowGroups() int { return len(s.pf.RowGroups()) }

// TagMatch is an equality predicate on a tag: key = value.
type TagMatch struct {
	Key, Value string
}

// SegmentQuery selects rows and columns of a segment.
type SegmentQuery struct {
	// MinTime and MaxTime bound the rows' time, both inclusive.
	MinTime, MaxTime int64
	// Tags are equality predicates that every row must satisfy.
	Tags []TagMatch
	// Fields lists the physical fields to read; nil reads every field
	// column, an empty non-nil slice none. Ids the segment lacks are
	// ignored.
	Fields []uint32
	// FirstGroup and EndGroup, if EndGroup > 0, read only row groups
	// [FirstGroup, EndGroup) (see Segment.GroupStart).
	FirstGroup, EndGroup int
	// LastPerSeries returns only the newest matching row of each run of a
	// series' rows within a row group (so every series' newest row is
	// among the rows returned).
	LastPerSeries bool
	// NoCache reads without using or filling the decoded-column cache
	// (compaction reads each row once).
	NoCache bool
	// Series, if not nil, are the only series to read (tag strings,
	// sorted). With a series index in the file the reader goes straight
	// to their rows and decodes no tag column; otherwise it is ignored.
	Series []string
}

// GroupStart returns the series (tag string) and time of row group g's
// first row; ok is false if the segment does not record it.
func (s *Segment) GroupStart(g int) (key string, t int64, ok bool) {
	if g < 0 || g >= len(s.groupStarts) {
		return "", 0, false
	}
	return s.groupStarts[g].Key, s.groupStarts[g].Time, true
}

// AllTime is a query over every row and column of a segment.
var AllTime = SegmentQuery{MinTime: math.MinInt64, MaxTime: math.MaxInt64}

// SegmentScanStats count the row groups a scan read and skipped.
type SegmentScanStats struct {
	RowGroups int   // row groups in the segment
	Scanned   int   // row groups read
	Pruned    int   // row groups skipped by time or tag statistics
	Rows      int64 // rows returned
}

// SegmentScanFunc receives one row: its series tags (key, value, ...
// sorted by key), time and fields. tags, fields and string values are
// only valid during the call.
type SegmentScanFunc func(tags []string, t int64, fields []FieldValue) error

// Scan calls fn for every row matching q, in (tags, time) order.
func (s *Segment) Scan(q SegmentQuery, fn SegmentScanFunc) (SegmentScanStats, error) {
	it := s.Rows(q)
	defer it.Close()
	for it.Next() {
		if err := fn(it.Tags(), it.Time(), it.Fields()); err != nil {
			return it.Stats(), err
		}
	}
	return it.Stats(), it.Err()
}

// Rows returns an iterator over the rows matching q, in (tags, time)
// order. Row groups whose time range misses [q.MinTime, q.MaxTime], or
// whose statistics or dictionary show that a tag predicate cannot hold,
// are not read.
func (s *Segment) Rows(q SegmentQuery) *SegmentRows {
	if q.Series != nil && s.runs != nil {
		return s.indexedRows(q)
	}
	r := s.newRows(q)
	groups := s.pf.RowGroups()
	r.stats.RowGroups = len(groups)
	for gi := range groups {
		if q.EndGroup > 0 && (gi < q.FirstGroup || gi >= q.EndGroup) {
			continue
		}
		keep, err := s.mayMatch(gi, &q, r.match)
		if err != nil {
			r.err = err
			return r
		}
		if keep {
			r.groups = append(r.groups, gi)
			r.stats.Scanned++
		} else {
			r.stats.Pruned++
		}
	}
	return r
}

// newRows returns an iterator for q with no row groups selected yet.
func (s *Segment) newRows(q SegmentQuery) *SegmentRows {
	r := &SegmentRows{s: s, q: q, rg: -1}
	r.readCols = append(r.readCols, 0)
	r.readCols = append(r.readCols, s.tagCols...)
	if q.Fields == nil {
		for i, c := range s.cols {
			if c.Kind == colKindField {
				r.readCols = append(r.readCols, i)
			}
		}
	} else {
		var cols []int
		for _, id := range q.Fields {
			if ci, ok := s.fieldCols[id]; ok {
				cols = append(cols, ci)
			}
		}
		slices.Sort(cols) // field columns are in id order
		r.readCols = append(r.readCols, slices.Compact(cols)...)
	}
	r.match = make([]int, len(q.Tags))
	for i, m := range q.Tags {
		r.match[i] = -1
		for _, ci := range s.tagCols {
			if s.cols[ci].Tag == m.Key {
				r.match[i] = ci
			}
		}
	}
	r.data = getColData(len(s.cols))
	return r
}

// colDataPool recycles the decoded columns of finished iterators: they
// are a row group's worth of slices per column.
var colDataPool sync.Pool

func getColData(n int) []colData {
	if v, ok := colDataPool.Get().(*[]colData); ok && cap(*v) >= n {
		d := (*v)[:n]
		for i := range d {
			d[i].reset()
		}
		return d
	}
	return make([]colData, n)
}

// mayMatch reports whether row group gi may hold rows matching q.
func (s *Segment) mayMatch(gi int, q *SegmentQuery, match []int) (bool, error) {
	if q.MinTime > q.MaxTime {
		return false, nil
	}
	chunks := s.pf.RowGroups()[gi].ColumnChunks()
	if lo, hi, ok := chunkBounds(chunks[0]); ok {
		if hi.Int64() < q.MinTime || lo.Int64() > q.MaxTime {
			return false, nil
		}
	}
	for i, m := range q.Tags {
		ci := match[i]
		if ci < 0 {
			return false, nil // the segment has no such tag: every row lacks it
		}
		c := chunks[ci]
		if fc, ok := c.(*parquet.FileColumnChunk); ok && fc.NullCount() == fc.NumValues() {
			return false, nil
		}
		if lo, hi, ok := chunkBounds(c); ok {
			if m.Value < string(lo.ByteArray()) || m.Value > string(hi.ByteArray()) {
				return false, nil
			}
		}
		in, known, err := s.inDictionary(gi, ci, m.Value)
		if err != nil {
			return false, err
		}
		if known && !in {
			return false, nil
		}
	}
	return true, nil
}

// chunkBounds returns a column chunk's min and max from its statistics.
func chunkBounds(c parquet.ColumnChunk) (lo, hi parquet.Value, ok bool) {
	if fc, isFile := c.(*parquet.FileColumnChunk); isFile {
		return fc.Bounds()
	}
	return lo, hi, false
}

// inDictionary looks a tag value up in a column chunk's dictionary. known is
// false when the dictionary does not cover every data page of the chunk.
func (s *Segment) inDictionary(gi, ci int, v string) (in, known bool, err error) {
	meta := &s.pf.Metadata().RowGroups[gi].Columns[ci].MetaData
	if len(meta.EncodingStats) == 0 {
		return false, false, nil
	}
	for _, st := range meta.EncodingStats {
		if (st.PageType == format.DataPage || st.PageType == format.DataPageV2) &&
			st.Encoding != format.RLEDictionary && st.Encoding != format.PlainDictionary {
			return false, false, nil
		}
	}
	fc, ok := s.pf.RowGroups()[gi].ColumnChunks()[ci].(*parquet.FileColumnChunk)
	if !ok {
		return false, false, nil
	}
	pages := fc.PagesFrom(s.f)
	defer pages.Close()
	dict, err := pages.ReadDictionary()
	if err != nil {
		return false, false, fmt.Errorf("storage: segment dictionary: %w", err)
	}
	if dict == nil {
		return false, false, nil
	}
	for i := range dict.Len() {
		if string(dict.Index(int32(i)).ByteArray()) == v {
			return true, true, nil
		}
	}
	return false, true, nil
}

// colData is one column chunk decoded into Go slices, one entry per row.
type colData struct {
	null []bool
	i    []int64   // time, integer, unsigned
	f    []float64 // float
	b    []bool    // boolean
	idx  []int32   // tags: the value's position in dict (-1 = NULL)
	dict []string  // tags: the chunk's distinct values
	seen []bool    // tags: which dictionary entries dict holds yet
	bs   [][]byte  // text fields
	// base is the row the slices start at: 0 for a whole chunk, the
	// first row read for a range read (readRange) of time and fields.
	base int
	// shared: the slices belong to the decoded-column cache (read-only);
	// reset drops them instead of reusing their memory.
	shared bool
}

func (c *colData) reset() {
	if c.shared {
		*c = colData{}
		return
	}
	c.null, c.i, c.f, c.b, c.idx, c.dict, c.seen, c.bs = c.null[:0], c.i[:0], c.f[:0], c.b[:0], c.idx[:0], c.dict[:0], c.seen[:0], c.bs[:0]
	c.base = 0
}

// has reports whether c holds row i.
func (c *colData) has(i int) bool { return i >= c.base && i < c.base+len(c.null) }

// covers reports whether c holds rows [lo, hi).
func (c *colData) covers(lo, hi int) bool { return c.base <= lo && c.base+len(c.null) >= hi }

// tag returns row i's value of a tag column ("" if NULL).
func (c *colData) tag(i int) string {
	if x := c.idx[i]; x >= 0 {
		return c.dict[x]
	}
	return ""
}

// grow makes room for n rows of the slices a column of kind k uses, so
// loading a row group does not reallocate them.
func (c *colData) grow(col *SegmentColumn, n int) {
	c.null = slices.Grow(c.null, n)
	switch {
	case col.Kind == colKindTime || col.Type == schema.TypeInt || col.Type == schema.TypeUint:
		c.i = slices.Grow(c.i, n)
	case col.Kind == colKindTag:
		c.idx = slices.Grow(c.idx, n)
	case col.Type == schema.TypeFloat:
		c.f = slices.Grow(c.f, n)
	case col.Type == schema.TypeBool:
		c.b = slices.Grow(c.b, n)
	case col.Type == schema.TypeString:
		c.bs = slices.Grow(c.bs, n)
	}
}

// SegmentRows iterates over the rows of a segment that match a query.
// Call Next until it returns false, then check Err; Close releases the
// iterator. Slices returned by Tags and Fields, and string field values,
// are owned by the iterator and valid until the next call to Next. Not
// safe for concurrent use.
type SegmentRows struct {
	s        *Segment
	q        SegmentQuery
	readCols []int // time, tags, requested fields
	match    []int // column of each q.Tags entry, -1 if none
	groups   []int // row groups to read
	stats    SegmentScanStats
	err      error

	rg      int // index into groups of the loaded row group
	data    []colData
	n, row  int // rows in the loaded group; current row
	tags    []string
	tagKey  string
	tagsRow int // row whose tag values tags holds, -1 if none
	fields  []FieldValue
	// fieldsRow is the row fields holds, -1 if none.
	fieldsRow int

	// Series-index mode (indexedRows).
	indexed bool
	wanted  []seriesRun // the query's series, in row order
	allowed []bool      // row groups to read
	abs     int64       // current row in the segment
	wi      int         // current wanted run
	loaded  int         // row group in data, -1 if none
	curRun  int         // run whose tags tags holds
	buf     []parquet.Value
}

// Next advances to the next matching row.
func (r *SegmentRows) Next() bool {
	if r.err != nil {
		return false
	}
	if r.indexed {
		return r.nextIndexed()
	}
	for {
		r.row++
		for r.row >= r.n {
			if r.rg+1 >= len(r.groups) {
				return false
			}
			r.rg++
			if err := r.load(r.groups[r.rg]); err != nil {
				r.err = err
				return false
			}
			r.row = 0
		}
		if r.matches(r.row) && !(r.q.LastPerSeries && r.row+1 < r.n && r.sameTags(r.row, r.row+1) && r.matches(r.row+1)) {
			r.setRow(r.row)
			r.stats.Rows++
			return true
		}
	}
}

func (r *SegmentRows) matches(i int) bool {
	t := r.data[0].i[i]
	if t < r.q.MinTime || t > r.q.MaxTime {
		return false
	}
	for k, m := range r.q.Tags {
		ci := r.match[k]
		if ci < 0 || r.data[ci].null[i] || r.data[ci].tag(i) != m.Value {
			return false
		}
	}
	return true
}

func (r *SegmentRows) setRow(i int) {
	if r.tagsRow < 0 || !r.sameTags(r.tagsRow, i) {
		r.tags = r.tags[:0]
		for _, ci := range r.s.tagCols {
			if !r.data[ci].null[i] {
				r.tags = append(r.tags, r.s.cols[ci].Tag, r.data[ci].tag(i))
			}
		}
		r.tagKey = string(appendTagString(nil, r.tags))
	}
	r.tagsRow = i
	r.fieldsRow = -1 // built by Fields when asked
}

// fieldAt returns row i's value of field column ci; ok is false if NULL.
func (r *SegmentRows) fieldAt(ci, i int) (FieldValue, bool) {
	d := &r.data[ci]
	i -= d.base
	if d.null[i] {
		return FieldValue{}, false
	}
	c := &r.s.cols[ci]
	f := FieldValue{ID: c.FieldID, Type: c.Type}
	switch c.Type {
	case schema.TypeFloat:
		f.F = d.f[i]
	case schema.TypeInt, schema.TypeUint:
		f.I = d.i[i]
	case schema.TypeBool:
		f.B = d.b[i]
	case schema.TypeString:
		f.S = d.bs[i]
	}
	return f, true
}

// Field returns the current row's value of one requested field; ok is
// false if it is NULL or not read.
func (r *SegmentRows) Field(id uint32) (FieldValue, bool) {
	ci, ok := r.s.fieldCols[id]
	if !ok || !r.data[ci].has(r.row) {
		return FieldValue{}, false
	}
	return r.fieldAt(ci, r.row)
}

func (r *SegmentRows) sameTags(a, b int) bool {
	for _, ci := range r.s.tagCols {
		d := &r.data[ci]
		if d.idx[a] != d.idx[b] {
			return false
		}
	}
	return true
}

// load decodes the needed columns of row group gi.
func (r *SegmentRows) load(gi int) error {
	r.n = int(r.s.pf.RowGroups()[gi].NumRows())
	r.tagsRow = -1
	for _, ci := range r.readCols {
		if err := r.loadCol(gi, ci, 0, r.n); err != nil {
			return err
		}
	}
	return nil
}

func (r *SegmentRows) loadColumn(d *colData, c *SegmentColumn, chunk parquet.ColumnChunk) error {
	pages := chunk.Pages()
	defer pages.Close()
	// Tag values are interned per chunk in d.dict: at their dictionary
	// index when the page is dictionary-encoded (rows sorted by tags
	// repeat them in runs), after the dictionary's entries otherwise
	// (a writer falls back to plain pages only after dictionary ones).
	var intern map[string]int32
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = r.loadPage(d, c, p, &intern)
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
}

// loadPage appends one page's rows to d: typed slices straight from the
// page's data where the layout allows, value by value otherwise.
func (r *SegmentRows) loadPage(d *colData, c *SegmentColumn, p parquet.Page, intern *map[string]int32) error {
	n := int(p.NumRows())
	defs := p.DefinitionLevels() // nil: required column, or no nulls
	present := func(i int) bool { return defs == nil || defs[i] != 0 }
	data := p.Data()
	numeric := c.Kind == colKindTime || (c.Kind == colKindField && (c.Type == schema.TypeInt || c.Type == schema.TypeUint || c.Type == schema.TypeFloat))
	if numeric {
		want := parquet.Int64
		if c.Kind == colKindField && c.Type == schema.TypeFloat {
			want = parquet.Double
		}
		if k := p.Type().Kind(); k != want {
			return fmt.Errorf("%w: column %q holds %v values, want %v", errPageFormat, c.Name, k, want)
		}
		if p.Dictionary() != nil {
			return r.loadPageValues(d, c, p, intern)
		}
	}
	switch {
	case c.Kind == colKindTime:
		d.i = append(d.i, data.Int64()...)
		d.null = appendFalse(d.null, n)
		return nil
	case c.Kind == colKindTag:
		dict := p.Dictionary()
		if dict == nil {
			break
		}
		idx := data.Int32()
		if len(d.dict) < dict.Len() {
			d.dict = append(d.dict, make([]string, dict.Len()-len(d.dict))...)
			d.seen = append(d.seen, make([]bool, dict.Len()-len(d.seen))...)
		}
		if defs == nil {
			// No NULL in the page: the indexes are the rows.
			for _, x := range idx[:n] {
				if !d.seen[x] {
					d.dict[x] = string(dict.Index(x).ByteArray())
					d.seen[x] = true
				}
			}
			d.idx = append(d.idx, idx[:n]...)
			d.null = appendFalse(d.null, n)
			return nil
		}
		k := 0
		for i := 0; i < n; i++ {
			if !present(i) {
				d.null = append(d.null, true)
				d.idx = append(d.idx, -1)
				continue
			}
			x := idx[k]
			k++
			if !d.seen[x] {
				d.dict[x] = string(dict.Index(x).ByteArray())
				d.seen[x] = true
			}
			d.null = append(d.null, false)
			d.idx = append(d.idx, x)
		}
		return nil
	case c.Type == schema.TypeFloat:
		d.f, d.null = appendPresent(d.f, d.null, data.Double(), n, present)
		return nil
	case c.Type == schema.TypeInt || c.Type == schema.TypeUint:
		d.i, d.null = appendPresent(d.i, d.null, data.Int64(), n, present)
		return nil
	}
	// Booleans, text fields and tags without a dictionary: value by value.
	return r.loadPageValues(d, c, p, intern)
}

// loadPageValues appends one page's rows to d value by value.
func (r *SegmentRows) loadPageValues(d *colData, c *SegmentColumn, p parquet.Page, intern *map[string]int32) error {
	if r.buf == nil {
		r.buf = make([]parquet.Value, 4096)
	}
	vr := p.Values()
	for {
		m, err := vr.ReadValues(r.buf)
		for _, v := range r.buf[:m] {
			null := v.IsNull()
			d.null = append(d.null, null)
			switch {
			case c.Kind == colKindTag:
				x := int32(-1)
				if !null {
					b := v.ByteArray()
					if *intern == nil {
						*intern = map[string]int32{}
					}
					var ok bool
					if x, ok = (*intern)[string(b)]; !ok {
						x = int32(len(d.dict))
						d.dict = append(d.dict, string(b))
						d.seen = append(d.seen, true)
						(*intern)[string(b)] = x
					}
				}
				d.idx = append(d.idx, x)
			case c.Kind == colKindTime || c.Type == schema.TypeInt || c.Type == schema.TypeUint:
				var x int64
				if !null {
					x = v.Int64()
				}
				d.i = append(d.i, x)
			case c.Type == schema.TypeFloat:
				var x float64
				if !null {
					x = v.Double()
				}
				d.f = append(d.f, x)
			case c.Type == schema.TypeBool:
				d.b = append(d.b, v.Boolean())
			case c.Type == schema.TypeString:
				var b []byte
				if !null {
					b = append([]byte(nil), v.ByteArray()...)
				}
				d.bs = append(d.bs, b)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// appendPresent appends n rows to dst and null: the next of vals for a
// present row, a zero NULL otherwise.
func appendPresent[T any](dst []T, null []bool, vals []T, n int, present func(int) bool) ([]T, []bool) {
	var zero T
	k := 0
	for i := 0; i < n; i++ {
		if present(i) {
			dst = append(dst, vals[k])
			null = append(null, false)
			k++
		} else {
			dst = append(dst, zero)
			null = append(null, true)
		}
	}
	return dst, null
}

func appendFalse(b []bool, n int) []bool {
	for range n {
		b = append(b, false)
	}
	return b
}

// Tags returns the current row's series tags (key, value, ... sorted by key).
func (r *SegmentRows) Tags() []string { return r.tags }

// TagKey returns the current row's tags encoded as the row store's tag
// string (key\0value\0...), the order rows come in.
func (r *SegmentRows) TagKey() string { return r.tagKey }

// Time returns the current row's time.
func (r *SegmentRows) Time() int64 { return r.data[0].i[r.row-r.data[0].base] }

// Fields returns the current row's non-null requested fields, by field id.
func (r *SegmentRows) Fields() []FieldValue {
	if r.fieldsRow != r.row {
		r.fields = r.fields[:0]
		for _, ci := range r.readCols {
			if r.s.cols[ci].Kind != colKindField {
				continue
			}
			if !r.data[ci].has(r.row) {
				continue
			}
			if f, ok := r.fieldAt(ci, r.row); ok {
				r.fields = append(r.fields, f)
			}
		}
		r.fieldsRow = r.row
	}
	return r.fields
}

// Err returns the error that stopped the iteration, if any.
func (r *SegmentRows) Err() error { return r.err }

// Stats returns the row groups scanned and pruned, and the rows returned
// so far.
func (r *SegmentRows) Stats() SegmentScanStats { return r.stats }

// Close releases the iterator's buffers. It is safe to call twice.
func (r *SegmentRows) Close() error {
	if r.data != nil {
		d := r.data
		colDataPool.Put(&d)
	}
	r.data, r.groups, r.buf = nil, nil, nil
	r.n, r.row = 0, 0
	return nil
}

// indexedRows is Rows for a query naming its series in a segment with a
// series index: only the row groups holding those series' rows are read,
// and no tag column is decoded.
func (s *Segment) indexedRows(q SegmentQuery) *SegmentRows {
	tags := q.Tags
	q.Tags = nil
	r := s.newRows(q)
	r.q.Tags = nil
	rc := []int{0} // time and fields: no tag column
	r.readCols = append(rc, r.readCols[1+len(s.tagCols):]...)
	// The wanted runs: a merge of two sorted lists.
	i := 0
	for _, k := range q.Series {
		for i < len(s.runs) && s.runs[i].Key < k {
			i++
		}
		if i < len(s.runs) && s.runs[i].Key == k && matchesTags(s.runs[i].Key, tags) {
			r.wanted = append(r.wanted, s.runs[i])
		}
	}
	groups := s.pf.RowGroups()
	r.stats.RowGroups = len(groups)
	r.allowed = make([]bool, len(groups))
	w := 0
	for g := range groups {
		if q.EndGroup > 0 && (g < q.FirstGroup || g >= q.EndGroup) {
			continue
		}
		lo, hi := s.groupRow[g], s.groupRow[g+1]
		for w < len(r.wanted) && r.wanted[w].Row+r.wanted[w].N <= lo {
			w++
		}
		if w >= len(r.wanted) || r.wanted[w].Row >= hi {
			r.stats.Pruned++
			continue
		}
		keep, err := s.mayMatch(g, &r.q, r.match)
		if err != nil {
			r.err = err
			return r
		}
		if keep {
			r.allowed[g] = true
			r.stats.Scanned++
		} else {
			r.stats.Pruned++
		}
	}
	r.indexed, r.abs, r.loaded, r.curRun = true, -1, -1, -1
	return r
}

// loadIndexed decodes what indexedRows needs of row group gi: the time
// column over the rows of the wanted runs still ahead, and the field
// columns over the rows of those runs in the query's time range. Time,
// integer and float columns are read as ranges (readRange) when that is
// less than the whole group.
func (r *SegmentRows) loadIndexed(gi int) error {
	s := r.s
	base := s.groupRow[gi]
	r.n = int(s.groupRow[gi+1] - base)
	r.tagsRow = -1
	type span struct{ lo, hi int }
	var runs []span
	lo, hi := r.n, 0
	for w := r.wi; w < len(r.wanted); w++ {
		run := &r.wanted[w]
		if run.Row >= base+int64(r.n) {
			break
		}
		if run.Row+run.N <= base {
			continue
		}
		sp := span{int(max(run.Row, base) - base), int(min(run.Row+run.N, base+int64(r.n)) - base)}
		runs = append(runs, sp)
		lo, hi = min(lo, sp.lo), max(hi, sp.hi)
	}
	if lo >= hi {
		// No wanted run in this group (it is not read then): nothing to load.
		for _, ci := range r.readCols {
			r.data[ci].reset()
		}
		return nil
	}
	if err := r.loadCol(gi, 0, lo, hi); err != nil {
		return err
	}
	// The rows in the time range: a sub-span of each run.
	d := &r.data[0]
	flo, fhi := r.n, 0
	for _, sp := range runs {
		times := d.i[sp.lo-d.base : sp.hi-d.base]
		a := sort.Search(len(times), func(k int) bool { return times[k] >= r.q.MinTime })
		b := sort.Search(len(times), func(k int) bool { return times[k] > r.q.MaxTime })
		if a < b {
			flo, fhi = min(flo, sp.lo+a), max(fhi, sp.lo+b)
		}
	}
	if flo >= fhi {
		// No row in the time range: no field is read.
		for _, ci := range r.readCols[1:] {
			r.data[ci].reset()
		}
		return nil
	}
	for _, ci := range r.readCols[1:] {
		if err := r.loadCol(gi, ci, flo, fhi); err != nil {
			return err
		}
	}
	return nil
}

// loadCol makes r.data[ci] hold at least rows [lo, hi) of row group gi:
// from the decoded-column cache, by a range read, or by decoding the
// whole chunk.
func (r *SegmentRows) loadCol(gi, ci, lo, hi int) error {
	d := &r.data[ci]
	k := colKey{seg: r.s, group: gi, col: ci}
	if !r.q.NoCache {
		if c, ok := cachedColumn(k); ok && c.covers(lo, hi) {
			*d = c
			return nil
		}
	}
	if hi-lo < r.n {
		ok, err := r.s.readRange(gi, ci, lo, hi, d)
		if err != nil {
			return fmt.Errorf("storage: segment row group %d column %q: %w", gi, r.s.cols[ci].Name, err)
		}
		if ok {
			if !r.q.NoCache {
				cacheColumn(k, d)
			}
			return nil
		}
	}
	d.reset()
	d.grow(&r.s.cols[ci], r.n)
	chunks := r.s.pf.RowGroups()[gi].ColumnChunks()
	if err := r.loadColumn(d, &r.s.cols[ci], chunks[ci]); err != nil {
		return fmt.Errorf("storage: segment row group %d column %q: %w", gi, r.s.cols[ci].Name, err)
	}
	if len(d.null) != r.n {
		return fmt.Errorf("storage: segment row group %d column %q: %d values for %d rows", gi, r.s.cols[ci].Name, len(d.null), r.n)
	}
	if !r.q.NoCache {
		cacheColumn(k, d)
	}
	return nil
}

// matchesTags reports whether a tag string has every key=value of tags.
func matchesTags(key string, tags []TagMatch) bool {
	if len(tags) == 0 {
		return true
	}
	kv := parseTagString([]byte(key))
	for _, m := range tags {
		found := false
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == m.Key && kv[i+1] == m.Value {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// nextIndexed is Next for indexedRows.
func (r *SegmentRows) nextIndexed() bool {
	s := r.s
	for {
		r.abs++
		for r.wi < len(r.wanted) && r.abs >= r.wanted[r.wi].Row+r.wanted[r.wi].N {
			r.wi++
		}
		if r.wi >= len(r.wanted) {
			return false
		}
		run := &r.wanted[r.wi]
		if r.abs < run.Row {
			r.abs = run.Row
		}
		g := s.groupOf(r.abs)
		if !r.allowed[g] {
			ng := g + 1
			for ng < len(r.allowed) && !r.allowed[ng] {
				ng++
			}
			if ng >= len(r.allowed) {
				return false
			}
			r.abs = s.groupRow[ng] - 1
			continue
		}
		if g != r.loaded {
			if err := r.loadIndexed(g); err != nil {
				r.err = err
				return false
			}
			r.loaded = g
		}
		base := s.groupRow[g]
		end := min(run.Row+run.N, s.groupRow[g+1]) // this run's rows in the group
		i := int(r.abs - base)
		// times[k] is row k-tb's time (the time column holds the wanted
		// runs' rows of this group).
		times, tb := r.data[0].i, r.data[0].base
		if t := times[i-tb]; t < r.q.MinTime {
			// Times grow within a run: jump to the first in range.
			j := i + sort.Search(int(end-base)-i, func(k int) bool { return times[i+k-tb] >= r.q.MinTime })
			r.abs = base + int64(j) - 1
			continue
		} else if t > r.q.MaxTime {
			r.abs = end - 1 // the rest of the run in this group is later still
			continue
		}
		if r.q.LastPerSeries && r.abs+1 < end && times[i+1-tb] <= r.q.MaxTime {
			continue
		}
		r.row = i
		if r.curRun != r.wi {
			r.curRun = r.wi
			r.tagKey = run.Key
			r.tags = parseTagString([]byte(run.Key))
		}
		r.fieldsRow = -1
		r.stats.Rows++
		return true
	}
}

// FieldBlock is one field's values for the rows RunAhead returned: I for
// integer and unsigned columns, F for float ones, Null marking the NULLs.
// A block with no slices is a field the segment does not have (all NULL).
type FieldBlock struct {
	Type schema.Type
	I    []int64
	F    []float64
	Null []bool
}

// RunAhead returns the times of the current row and of the rows the
// iteration would return right after it without a gap: the same series
// and row group, within the query's time range; at most max of them. It
// returns nil with LastPerSeries. Use FieldBlock for their values and Skip
// to move past them.
func (r *SegmentRows) RunAhead(max int) []int64 {
	if r.q.LastPerSeries || r.err != nil {
		return nil
	}
	if !r.indexed {
		// Rows of one series are adjacent and in time order: the run goes
		// on while the tags stay and the time is in range.
		if r.row < 0 || r.row >= r.n {
			return nil
		}
		times := r.data[0].i
		k := r.row + 1
		for end := min(r.n, r.row+max); k < end && times[k] <= r.q.MaxTime && r.sameTags(r.row, k); k++ {
		}
		return times[r.row:k]
	}
	if r.wi >= len(r.wanted) || r.loaded < 0 {
		return nil
	}
	s := r.s
	run := &r.wanted[r.wi]
	base := s.groupRow[r.loaded]
	end := int(min(run.Row+run.N, s.groupRow[r.loaded+1]) - base)
	d := &r.data[0]
	n := min(end-r.row, max)
	if n <= 0 || !d.covers(r.row, r.row+n) {
		return nil
	}
	times := d.i[r.row-d.base : r.row-d.base+n]
	return times[:sort.Search(n, func(k int) bool { return times[k] > r.q.MaxTime })]
}

// FieldBlock returns field id's values for the current row and the n-1
// after it (n at most what RunAhead returned). ok is false if the field
// was not requested or its column is not an integer or float one.
func (r *SegmentRows) FieldBlock(id uint32, n int) (FieldBlock, bool) {
	ci, in := r.s.fieldCols[id]
	if !in {
		return FieldBlock{}, true
	}
	c := &r.s.cols[ci]
	d := &r.data[ci]
	if !slices.Contains(r.readCols, ci) || !d.covers(r.row, r.row+n) {
		return FieldBlock{}, false
	}
	lo := r.row - d.base
	fb := FieldBlock{Type: c.Type, Null: d.null[lo : lo+n]}
	switch c.Type {
	case schema.TypeInt, schema.TypeUint:
		fb.I = d.i[lo : lo+n]
	case schema.TypeFloat:
		fb.F = d.f[lo : lo+n]
	default:
		return FieldBlock{}, false
	}
	return fb, true
}

// Skip moves past the n-1 rows after the current one (n from RunAhead),
// so that the next call to Next returns the row after them.
func (r *SegmentRows) Skip(n int) {
	if n <= 1 {
		return
	}
	r.abs += int64(n - 1)
	r.row += n - 1
	r.stats.Rows += int64(n - 1)
	r.fieldsRow = -1
}
