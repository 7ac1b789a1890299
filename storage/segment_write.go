package storage

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/fineod/fineod/schema"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// DefaultRowGroupRows is the default number of rows in a segment row group.
const DefaultRowGroupRows = 16 << 10

// SegmentWriterOptions configure a segment writer. A nil
// *SegmentWriterOptions or a zero field means the default.
type SegmentWriterOptions struct {
	// RowGroupRows is the number of rows per row group. Default
	// DefaultRowGroupRows; zero or negative means the default.
	RowGroupRows int
}

// ColumnStats are one column's statistics over a whole segment. Min and Max
// are in the field of the column's type: I for time, integer, unsigned (the
// uint64's bits, compared unsigned) and boolean (0 or 1); F for float (NaN
// ignored); S for tags and text. HasMinMax is false when every value is
// NULL.
type ColumnStats struct {
	SegmentColumn
	Nulls     int64   `json:"nulls"`
	HasMinMax bool    `json:"has_min_max,omitempty"`
	MinI      int64   `json:"min_i,omitempty"`
	MaxI      int64   `json:"max_i,omitempty"`
	MinF      float64 `json:"min_f,omitempty"`
	MaxF      float64 `json:"max_f,omitempty"`
	MinS      string  `json:"min_s,omitempty"`
	MaxS      string  `json:"max_s,omitempty"`
}

// SegmentStats describe a written segment.
type SegmentStats struct {
	Rows      int64
	MinTime   int64 // meaningless when Rows == 0
	MaxTime   int64
	RowGroups int
	Bytes     int64 // file size
	Columns   []ColumnStats
}

// FieldIDs returns the ids of the physical fields with at least one value.
func (s *SegmentStats) FieldIDs() []uint32 {
	var out []uint32
	for _, c := range s.Columns {
		if c.Kind == colKindField && c.Nulls < s.Rows {
			out = append(out, c.FieldID)
		}
	}
	return out
}

// ErrSegmentOrder is returned by SegmentWriter.Add for a row that does not
// sort after the previous one by (series tags, time).
var ErrSegmentOrder = errors.New("storage: segment rows out of (tags, time) order")

// SegmentWriter writes one partition's rows as a Parquet segment to an
// io.Writer. Rows must be added sorted by series tags (compared as the row
// store's tag string, key\0value\0...) then time, with no point twice. Not
// safe for concurrent use.
type SegmentWriter struct {
	cols     []SegmentColumn
	tagCol   map[string]int // tag key -> column
	fieldCol []int          // field id -> column, -1 if absent
	counter  *countingWriter
	pw       *parquet.Writer

	batch    []parquet.Row
	arena    []byte // copies of string field values of the batch
	tagVals  []parquet.Value
	prevTags []string
	haveTags bool // tagVals and prevTags describe the previous row
	prevKey  []byte
	prevTime int64
	stats    []ColumnStats
	rows     int64
	closed   bool

	groupRows   int64
	groupStarts []groupStart // the first row of each row group
	runs        []seriesRun  // each series' rows (rows are sorted by series)
	// cps[col][group] are the checkpoints of the delta-encoded columns;
	// cpN[col] counts the column's non-null values in the current group.
	cps [][][]int64
	cpN []int64
}

// checkpointEvery is the spacing of segment checkpoints, in values: a
// multiple of DELTA_BINARY_PACKED's 128-value blocks.
const checkpointEvery = 1024

// segmentCheckpoints is metaSegmentCheckpoints. Cols maps a column index
// to its checkpoints per row group: [g][k] is the value at index
// (k+1)*Every of the group's non-null values. In the file each group's
// list is the base64 (standard) of the zigzag varints of its differences
// (the first from 0).
type segmentCheckpoints struct {
	Every int
	Cols  map[int][][]int64
}

type segmentCheckpointsJSON struct {
	Every int              `json:"every"`
	Cols  map[int][]string `json:"cols"`
}

func (c segmentCheckpoints) MarshalJSON() ([]byte, error) {
	j := segmentCheckpointsJSON{Every: c.Every, Cols: map[int][]string{}}
	for ci, groups := range c.Cols {
		enc := make([]string, len(groups))
		for g, cps := range groups {
			var b []byte
			prev := int64(0)
			for _, x := range cps {
				b = binary.AppendVarint(b, x-prev)
				prev = x
			}
			enc[g] = base64.StdEncoding.EncodeToString(b)
		}
		j.Cols[ci] = enc
	}
	return json.Marshal(j)
}

func (c *segmentCheckpoints) UnmarshalJSON(data []byte) error {
	var j segmentCheckpointsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	c.Every, c.Cols = j.Every, map[int][][]int64{}
	for ci, enc := range j.Cols {
		groups := make([][]int64, len(enc))
		for g, s := range enc {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return err
			}
			prev := int64(0)
			for len(b) > 0 {
				d, n := binary.Varint(b)
				if n <= 0 {
					return errors.New("storage: segment checkpoints: bad varint")
				}
				prev += d
				groups[g] = append(groups[g], prev)
				b = b[n:]
			}
		}
		c.Cols[ci] = groups
	}
	return nil
}

// checkpoint counts a non-null value x of delta-encoded column ci in row
// group g and keeps it if it is a checkpoint.
func (w *SegmentWriter) checkpoint(ci, g int, x int64) {
	j := w.cpN[ci]
	w.cpN[ci]++
	if j == 0 || j%checkpointEvery != 0 {
		return
	}
	for len(w.cps[ci]) <= g {
		w.cps[ci] = append(w.cps[ci], nil)
	}
	w.cps[ci][g] = append(w.cps[ci][g], x)
}

// seriesRun is the rows of one series in a segment: rows [Row, Row+N).
type seriesRun struct {
	Key string `json:"k"` // tag string (TagString)
	Row int64  `json:"r"`
	N   int64  `json:"n"`
}

// maxIndexedSeries bounds the series index a segment's footer carries
// (metaSegmentSeries); a segment with more series has none, and readers
// find series by decoding the tag columns.
const maxIndexedSeries = 50000

// groupStart is the first row of a row group: its series and time. A
// reader splits a segment between row groups with it (metaSegmentGroups).
type groupStart struct {
	Key  string `json:"k"` // tag string (TagString)
	Time int64  `json:"t"`
}

const writeBatchRows = 1024

// NewSegmentWriter starts a segment of tbl. tagKeys and fieldIDs select
// the tag and field columns (nil = all of the table's); every row's tags
// and fields must be among them.
func NewSegmentWriter(w io.Writer, tbl *schema.Table, day int32, tagKeys []string, fieldIDs []uint32, opts *SegmentWriterOptions) (*SegmentWriter, error) {
	var o SegmentWriterOptions
	if opts != nil {
		o = *opts
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	cols, err := segmentLayout(tbl, tagKeys, fieldIDs)
	if err != nil {
		return nil, err
	}
	sch, err := segmentSchema(cols)
	if err != nil {
		return nil, err
	}
	tableMeta, _ := jsonString(segmentTable{TenantID: tbl.TenantID, TableID: tbl.ID, Database: tbl.Database, Name: tbl.Name})
	sw := &SegmentWriter{cols: cols, tagCol: map[string]int{}, counter: &countingWriter{w: w}, groupRows: int64(o.RowGroupRows)}
	sw.stats = make([]ColumnStats, len(cols))
	sw.cps = make([][][]int64, len(cols))
	sw.cpN = make([]int64, len(cols))
	for i, c := range cols {
		sw.stats[i].SegmentColumn = c
		switch c.Kind {
		case colKindTag:
			sw.tagCol[c.Tag] = i
		case colKindField:
			for int(c.FieldID) >= len(sw.fieldCol) {
				sw.fieldCol = append(sw.fieldCol, -1)
			}
			sw.fieldCol[c.FieldID] = i
		}
	}
	sw.pw = parquet.NewWriter(sw.counter, sch,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.MaxRowsPerRowGroup(int64(o.RowGroupRows)),
		parquet.PageBufferSize(256<<10),
		parquet.CreatedBy("fineod", segmentVersion, ""),
		parquet.KeyValueMetadata(metaSegmentVersion, segmentVersion),
		parquet.KeyValueMetadata(metaSegmentColumns, marshalLayout(cols)),
		parquet.KeyValueMetadata(metaSegmentTable, tableMeta),
		parquet.KeyValueMetadata(metaSegmentDay, DayString(day)),
	)
	return sw, nil
}

// Columns returns the segment's columns in file order.
func (w *SegmentWriter) Columns() []SegmentColumn { return w.cols }

// Add appends one point: its series tags (key, value, key, value... sorted
// by key), its time and its fields (any order). The writer copies what it
// keeps; the arguments may be reused after Add returns.
func (w *SegmentWriter) Add(tags []string, t int64, fields []FieldValue) error {
	if w.closed {
		return ErrClosed
	}
	if !w.haveTags || !slices.Equal(tags, w.prevTags) {
		key := appendTagString(nil, tags)
		if w.rows > 0 && bytes.Compare(key, w.prevKey) < 0 {
			return fmt.Errorf("%w: series %q after %q", ErrSegmentOrder, key, w.prevKey)
		}
		if err := w.setTags(tags); err != nil {
			return err
		}
		w.prevKey = key
		w.prevTags = slices.Clone(tags)
		w.haveTags = true
	} else if w.rows > 0 && t <= w.prevTime {
		return fmt.Errorf("%w: time %d after %d in series %q", ErrSegmentOrder, t, w.prevTime, w.prevKey)
	}
	w.noteTime(t)
	w.prevTime = t
	if w.rows%w.groupRows == 0 {
		w.groupStarts = append(w.groupStarts, groupStart{Key: string(w.prevKey), Time: t})
		clear(w.cpN)
	}
	g := int(w.rows / w.groupRows)
	w.checkpoint(0, g, t)
	if n := len(w.runs); n == 0 || w.runs[n-1].Key != string(w.prevKey) {
		if n <= maxIndexedSeries {
			w.runs = append(w.runs, seriesRun{Key: string(w.prevKey), Row: w.rows})
		}
	}
	if n := len(w.runs); n > 0 && n <= maxIndexedSeries {
		w.runs[n-1].N++
	}

	// Rows of the batch are reused once WriteRows has copied them.
	if len(w.batch) < cap(w.batch) && len(w.batch[:len(w.batch)+1][len(w.batch)]) == len(w.cols) {
		w.batch = w.batch[:len(w.batch)+1]
	} else {
		w.batch = append(w.batch, make(parquet.Row, len(w.cols)))
	}
	row := w.batch[len(w.batch)-1]
	row[0] = parquet.Int64Value(t).Level(0, 0, 0)
	copy(row[1:], w.tagVals)
	for i := 1 + len(w.tagVals); i < len(row); i++ {
		row[i] = parquet.Value{}.Level(0, 0, i)
	}
	for i := range fields {
		f := &fields[i]
		ci := -1
		if int(f.ID) < len(w.fieldCol) {
			ci = w.fieldCol[f.ID]
		}
		if ci < 0 {
			return fmt.Errorf("storage: segment: field %d is not a column of this segment", f.ID)
		}
		if w.cols[ci].Type != f.Type {
			return fmt.Errorf("storage: segment: field %d has type %v, column %q has %v", f.ID, f.Type, w.cols[ci].Name, w.cols[ci].Type)
		}
		row[ci] = w.fieldValue(ci, f)
	}
	// Checkpoints count the values the row finally holds (a field given
	// twice counts once).
	for ci := 1 + len(w.tagVals); ci < len(row); ci++ {
		if t := w.cols[ci].Type; (t == schema.TypeInt || t == schema.TypeUint) && !row[ci].IsNull() {
			w.checkpoint(ci, g, row[ci].Int64())
		}
	}
	for i := 1; i < len(row); i++ {
		if row[i].IsNull() {
			w.stats[i].Nulls++
		}
	}
	w.rows++
	if len(w.batch) >= writeBatchRows {
		return w.flushBatch()
	}
	return nil
}

func (w *SegmentWriter) noteTime(t int64) {
	s := &w.stats[0]
	if !s.HasMinMax {
		s.HasMinMax, s.MinI, s.MaxI = true, t, t
	} else {
		s.MinI, s.MaxI = min(s.MinI, t), max(s.MaxI, t)
	}
}

// setTags builds the tag column values of a new series.
func (w *SegmentWriter) setTags(tags []string) error {
	n := len(w.tagCol)
	if cap(w.tagVals) < n {
		w.tagVals = make([]parquet.Value, n)
	}
	w.tagVals = w.tagVals[:n]
	for i := range w.tagVals {
		w.tagVals[i] = parquet.Value{}.Level(0, 0, 1+i)
	}
	if len(tags)%2 != 0 {
		return fmt.Errorf("storage: segment: odd tag list %q", tags)
	}
	for i := 0; i+1 < len(tags); i += 2 {
		ci, ok := w.tagCol[tags[i]]
		if !ok {
			return fmt.Errorf("storage: segment: tag %q is not a column of this segment", tags[i])
		}
		v := tags[i+1]
		w.tagVals[ci-1] = parquet.ByteArrayValue([]byte(v)).Level(0, 1, ci)
		s := &w.stats[ci]
		if !s.HasMinMax {
			s.HasMinMax, s.MinS, s.MaxS = true, v, v
		} else {
			s.MinS, s.MaxS = min(s.MinS, v), max(s.MaxS, v)
		}
	}
	return nil
}

func (w *SegmentWriter) fieldValue(ci int, f *FieldValue) parquet.Value {
	s := &w.stats[ci]
	var v parquet.Value
	switch f.Type {
	case schema.TypeFloat:
		v = parquet.DoubleValue(f.F)
		if !math.IsNaN(f.F) {
			if !s.HasMinMax {
				s.HasMinMax, s.MinF, s.MaxF = true, f.F, f.F
			} else {
				s.MinF, s.MaxF = min(s.MinF, f.F), max(s.MaxF, f.F)
			}
		}
	case schema.TypeInt, schema.TypeBool:
		i := f.I
		if f.Type == schema.TypeBool {
			v = parquet.BooleanValue(f.B)
			i = 0
			if f.B {
				i = 1
			}
		} else {
			v = parquet.Int64Value(f.I)
		}
		if !s.HasMinMax {
			s.HasMinMax, s.MinI, s.MaxI = true, i, i
		} else {
			s.MinI, s.MaxI = min(s.MinI, i), max(s.MaxI, i)
		}
	case schema.TypeUint:
		v = parquet.Int64Value(f.I)
		u := uint64(f.I)
		if !s.HasMinMax {
			s.HasMinMax, s.MinI, s.MaxI = true, f.I, f.I
		} else {
			s.MinI, s.MaxI = int64(min(uint64(s.MinI), u)), int64(max(uint64(s.MaxI), u))
		}
	case schema.TypeString:
		start := len(w.arena)
		w.arena = append(w.arena, f.S...)
		b := w.arena[start:len(w.arena):len(w.arena)]
		v = parquet.ByteArrayValue(b)
		if !s.HasMinMax {
			s.HasMinMax, s.MinS, s.MaxS = true, string(b), string(b)
		} else if string(b) < s.MinS {
			s.MinS = string(b)
		} else if string(b) > s.MaxS {
			s.MaxS = string(b)
		}
	}
	return v.Level(0, 1, ci)
}

func (w *SegmentWriter) flushBatch() error {
	if len(w.batch) == 0 {
		return nil
	}
	if _, err := w.pw.WriteRows(w.batch); err != nil {
		return fmt.Errorf("storage: write segment rows: %w", err)
	}
	w.batch = w.batch[:0]
	// The writer has copied the byte arrays; start a new arena rather than
	// overwrite memory that a value might still reference.
	w.arena = nil
	return nil
}

// Close finishes the file (footer, page indexes) and returns its
// statistics. It does not close the underlying io.Writer. Calls after
// the first return ErrClosed.
func (w *SegmentWriter) Close() (SegmentStats, error) {
	if w.closed {
		return SegmentStats{}, ErrClosed
	}
	w.closed = true
	if err := w.flushBatch(); err != nil {
		return SegmentStats{}, err
	}
	gs, err := jsonString(w.groupStarts)
	if err != nil {
		return SegmentStats{}, err
	}
	w.pw.SetKeyValueMetadata(metaSegmentGroups, gs)
	cps := segmentCheckpoints{Every: checkpointEvery, Cols: map[int][][]int64{}}
	for ci, c := range w.cps {
		if len(c) > 0 {
			cps.Cols[ci] = c
		}
	}
	if len(cps.Cols) > 0 {
		cs, err := jsonString(cps)
		if err != nil {
			return SegmentStats{}, err
		}
		w.pw.SetKeyValueMetadata(metaSegmentCheckpoints, cs)
	}
	if len(w.runs) <= maxIndexedSeries {
		rs, err := jsonString(w.runs)
		if err != nil {
			return SegmentStats{}, err
		}
		w.pw.SetKeyValueMetadata(metaSegmentSeries, rs)
	}
	if err := w.pw.Close(); err != nil {
		return SegmentStats{}, fmt.Errorf("storage: close segment: %w", err)
	}
	st := SegmentStats{
		Rows:      w.rows,
		MinTime:   w.stats[0].MinI,
		MaxTime:   w.stats[0].MaxI,
		RowGroups: len(w.pw.File().RowGroups()),
		Bytes:     w.counter.n,
		Columns:   w.stats,
	}
	return st, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// SegmentFile is a segment being written under a data directory. It is
// published crash-safely:
//
//  1. CreateSegmentFile creates the partition directory and <id>.parquet.tmp.
//  2. Rows are added with Add (the embedded SegmentWriter).
//  3. Publish closes the writer, fsyncs the file, renames it to
//     <id>.parquet and fsyncs the directory (and any directory it created).
//
// Until step 3 ends the file is only a .tmp; after it the file exists under
// its final name but is not live until the manifest lists it. Abort removes
// the file. Not safe for concurrent use.
type SegmentFile struct {
	*SegmentWriter
	root    string
	rel     string // final path, relative to root
	tmp     string
	f       *os.File
	bw      *bufio.Writer
	newDirs []string // directories created, deepest first
	done    bool
}

// CreateSegmentFile starts segment rel (a SegmentRelPath) under root.
func CreateSegmentFile(root, rel string, tbl *schema.Table, day int32, tagKeys []string, fieldIDs []uint32, opts *SegmentWriterOptions) (*SegmentFile, error) {
	final := segmentAbsPath(root, rel)
	dir := filepath.Dir(final)
	newDirs, err := mkdirAllTracked(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: create segment dir: %w", err)
	}
	tmp := final + segmentTmpSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("storage: create segment: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	sw, err := NewSegmentWriter(bw, tbl, day, tagKeys, fieldIDs, opts)
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	return &SegmentFile{SegmentWriter: sw, root: root, rel: rel, tmp: tmp, f: f, bw: bw, newDirs: newDirs}, nil
}

// RelPath is the segment's final path relative to the data directory.
func (f *SegmentFile) RelPath() string { return f.rel }

// Publish finishes and publishes the file (steps 3 above) and returns its
// statistics. On error the .tmp file is removed.
func (f *SegmentFile) Publish() (SegmentStats, error) {
	if f.done {
		return SegmentStats{}, ErrClosed
	}
	f.done = true
	st, err := f.publish()
	if err != nil {
		f.f.Close()
		os.Remove(f.tmp)
		return SegmentStats{}, err
	}
	return st, nil
}

func (f *SegmentFile) publish() (SegmentStats, error) {
	st, err := f.SegmentWriter.Close()
	if err != nil {
		return st, err
	}
	if err := f.bw.Flush(); err != nil {
		return st, fmt.Errorf("storage: write segment: %w", err)
	}
	if err := f.f.Sync(); err != nil {
		return st, fmt.Errorf("storage: sync segment: %w", err)
	}
	if err := f.f.Close(); err != nil {
		return st, fmt.Errorf("storage: close segment: %w", err)
	}
	final := segmentAbsPath(f.root, f.rel)
	if err := os.Rename(f.tmp, final); err != nil {
		return st, fmt.Errorf("storage: publish segment: %w", err)
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return st, err
	}
	// A directory created for this file must itself be durable in its parent.
	for _, d := range f.newDirs {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Abort abandons the file and removes it. It is safe to call after Publish
// (it then does nothing).
func (f *SegmentFile) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	os.Remove(f.tmp)
}

// mkdirAllTracked is os.MkdirAll that returns the directories it created,
// deepest first.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !os.IsNotExist(err) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return missing, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("storage: sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storage: sync dir %s: %w", dir, err)
	}
	return nil
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
